from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lien.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from lien.accounts import signals

        # Sign-ins, failures, sign-outs and lockouts go to the journal (accounts/signals.py).
        user_logged_in.connect(signals.signed_in, dispatch_uid="lien.journal.signed_in")
        user_login_failed.connect(signals.sign_in_failed, dispatch_uid="lien.journal.failed")
        user_logged_out.connect(signals.signed_out, dispatch_uid="lien.journal.signed_out")
        user_locked_out.connect(signals.locked_out, dispatch_uid="lien.journal.locked_out")
