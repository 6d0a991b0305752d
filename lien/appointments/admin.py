"""Operators may set motifs and booking policies (through the services, journalled), remove an
absence or revoke a calendar feed; appointments and messages are read-only and show no person's
name, contact or message (staff pages show them, journalled)."""

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from lien.accounts.requests import signed_in_user
from lien.appointments import feeds, services
from lien.appointments.models import (
    Absence,
    Appointment,
    BookingPolicy,
    CalendarFeed,
    Message,
    Motif,
)
from lien.core.admin import ADMIN, PersonalDataAdmin, ReadOnlyAdmin, ServiceDeletesAdmin

# An appointment's details given by the person, and its link to their record (shown by name):
# never in the admin.
APPOINTMENT_PERSONAL = [
    "first_name",
    "last_name",
    "phone",
    "email",
    "note",
    "address",
    "beneficiary",
]


@admin.register(Motif)
class MotifAdmin(admin.ModelAdmin):
    list_display = ["title", "structure", "duration", "location_type", "bookable_by_residents"]
    list_filter = ["structure", "location_type", "active"]

    def save_model(self, request: HttpRequest, obj: Motif, form, change: bool) -> None:
        services.motif_save(
            motif=obj,
            places=form.cleaned_data["places"],
            actor=signed_in_user(request),
            actor_label=ADMIN,
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # booked motifs must stay; staff untick « actif »


@admin.register(BookingPolicy)
class BookingPolicyAdmin(admin.ModelAdmin):
    """Reminder offsets per structure, e.g. [{"channel": "email", "hours": 48}]."""

    list_display = ["structure", "reminders", "max_open_per_contact"]

    def save_model(self, request: HttpRequest, obj: BookingPolicy, form, change: bool) -> None:
        services.booking_policy_save(policy=obj, actor=signed_in_user(request), actor_label=ADMIN)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the default one would be created again at the next booking


@admin.register(Appointment)
class AppointmentAdmin(PersonalDataAdmin):
    list_display = ["start", "structure", "motif", "advisor", "status", "channel"]
    list_filter = ["structure", "status", "channel"]
    exclude = APPOINTMENT_PERSONAL
    readonly_fields = ["person_number"]

    @admin.display(description="fiche de la personne")
    def person_number(self, appointment: Appointment) -> str:
        return f"n° {appointment.beneficiary_id}" if appointment.beneficiary_id else "—"


@admin.register(Message)
class MessageAdmin(PersonalDataAdmin):
    """The delivery queue's bookkeeping; the recipient and the error (which may quote the
    address) are on the staff's message log."""

    list_display = ["due_at", "structure", "kind", "channel", "state", "attempts"]
    list_filter = ["state", "kind", "channel"]
    exclude = ["recipient", "error", "appointment"]
    readonly_fields = ["appointment_number"]

    @admin.display(description="rendez-vous")
    def appointment_number(self, message: Message) -> str:
        return f"n° {message.appointment_id}" if message.appointment_id else "—"


@admin.register(Absence)
class AbsenceAdmin(ServiceDeletesAdmin, ReadOnlyAdmin):
    """Advisors record absences on the staff pages; an operator may remove one."""

    list_display = ["advisor", "structure", "start", "end"]
    list_filter = ["structure"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return True

    def delete_model(self, request: HttpRequest, obj: Absence) -> None:
        services.absence_delete(absence=obj, actor=signed_in_user(request), actor_label=ADMIN)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    """Advisors create their feeds on the staff pages; an operator may revoke one (a lost
    phone) with the list's action."""

    list_display = ["advisor", "structure", "created_at", "revoked_at"]
    list_filter = ["structure"]
    actions = ["revoke"]

    @admin.action(description=_("Révoquer les agendas choisis"))
    def revoke(self, request: HttpRequest, queryset) -> None:
        for feed in queryset:
            feeds.feed_revoke(feed=feed, actor=signed_in_user(request), actor_label=ADMIN)
        messages.success(request, _("Agendas révoqués : leur adresse ne fonctionne plus."))
