from django.contrib import admin

from lien.core.models import ScheduledTask


@admin.register(ScheduledTask)
class ScheduledTaskAdmin(admin.ModelAdmin):
    list_display = ["name", "last_run_at", "next_run_at", "last_duration_ms", "has_error"]
    readonly_fields = ["name", "last_run_at", "last_duration_ms", "last_error"]

    @admin.display(boolean=True, description="erreur")
    def has_error(self, task: ScheduledTask) -> bool:
        return bool(task.last_error)
