from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "lien.appointments"
    label = "appointments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the periodic job that sends the queued messages.
        from lien.appointments import delivery  # noqa: F401
