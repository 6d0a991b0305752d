from django.contrib import admin

from lien.appointments.models import (
    Absence,
    Appointment,
    BookingPolicy,
    CalendarFeed,
    Message,
    Motif,
)


@admin.register(Motif)
class MotifAdmin(admin.ModelAdmin):
    list_display = ["title", "structure", "duration", "location_type", "bookable_by_residents"]
    list_filter = ["structure", "location_type", "active"]


@admin.register(BookingPolicy)
class BookingPolicyAdmin(admin.ModelAdmin):
    """Reminder offsets per structure, e.g. [{"channel": "email", "hours": 48}]."""

    list_display = ["structure", "reminders", "max_open_per_contact"]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["start", "structure", "motif", "advisor", "first_name", "status"]
    list_filter = ["structure", "status", "channel"]
    readonly_fields = ["link_id", "blocked_start", "blocked_end"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["due_at", "kind", "channel", "recipient", "state", "attempts"]
    list_filter = ["state", "kind", "channel"]
    readonly_fields = ["idempotency_key", "claimed_at", "sent_at", "error", "attempts"]


admin.site.register(Absence)
admin.site.register(CalendarFeed)
