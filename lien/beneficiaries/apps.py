from django.apps import AppConfig


class BeneficiariesConfig(AppConfig):
    name = "lien.beneficiaries"
    label = "beneficiaries"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Personnes accompagnées"

    def ready(self) -> None:
        from lien.beneficiaries import jobs  # noqa: F401  (registers the retention job)
