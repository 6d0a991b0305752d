from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "lien.journal"
    label = "journal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        from lien.journal import jobs, sqlite  # noqa: F401  (jobs registers journal.verify)

        connection_created.connect(sqlite.on_connection_created, dispatch_uid="lien-journal")
        for wrapper in connections.all(initialized_only=True):
            sqlite.install(wrapper)
