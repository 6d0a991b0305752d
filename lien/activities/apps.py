from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "lien.activities"
    label = "activities"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Comptes rendus d'activité"
