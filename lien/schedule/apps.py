from django.apps import AppConfig


class ScheduleConfig(AppConfig):
    name = "lien.schedule"
    label = "schedule"
    default_auto_field = "django.db.models.BigAutoField"
