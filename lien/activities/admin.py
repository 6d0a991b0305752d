from django.contrib import admin

from lien.activities.models import Activity
from lien.core.admin import PersonalDataAdmin


@admin.register(Activity)
class ActivityAdmin(PersonalDataAdmin):
    """Read-only for operators: reports are written by advisors through the services. Their
    accompaniment rows (a snapshot of each participant) are not in the admin at all."""

    list_display = ["date", "structure", "kind", "advisor", "duration", "deleted_at"]
    list_filter = ["structure", "kind"]
    date_hierarchy = "date"
    # The notes, and the appointment (shown by its person's name).
    exclude = ["notes", "appointment"]
    readonly_fields = ["appointment_number"]

    @admin.display(description="rendez-vous")
    def appointment_number(self, activity: Activity) -> str:
        return f"n° {activity.appointment_id}" if activity.appointment_id else "—"
