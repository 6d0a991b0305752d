from django.contrib import admin

from lien.activities.models import Activity


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """Read-only for operators: reports are written by advisors through the services."""

    list_display = ["date", "structure", "kind", "advisor", "duration", "deleted_at"]
    list_filter = ["structure", "kind"]
    date_hierarchy = "date"
    exclude = ["notes"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
