"""Where e-mail goes: the console in development unless an SMTP host is configured, SMTP in
production (lien/settings.py, `email_backend`)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from lien.settings import email_backend

SMTP = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE = "django.core.mail.backends.console.EmailBackend"
FILE = "django.core.mail.backends.filebased.EmailBackend"


def test_development_without_a_host_prints_to_the_console():
    assert email_backend(debug=True, host="", backend="") == CONSOLE


def test_development_with_a_host_sends_by_smtp():
    assert email_backend(debug=True, host="smtp.villebrie.fr", backend="") == SMTP
    # .env.example names localhost: configured on purpose, so it is used.
    assert email_backend(debug=True, host="localhost", backend="") == SMTP


def test_production_always_sends_by_smtp():
    assert email_backend(debug=False, host="smtp.villebrie.fr", backend="") == SMTP
    # Without EMAIL_HOST: the relay on localhost:25, as before (never the console).
    assert email_backend(debug=False, host="", backend="") == SMTP


@pytest.mark.parametrize("debug", [True, False])
def test_an_explicit_backend_wins(debug):
    assert email_backend(debug=debug, host="smtp.villebrie.fr", backend="console") == CONSOLE
    assert email_backend(debug=debug, host="", backend="file") == FILE
    assert email_backend(debug=debug, host="", backend="smtp") == SMTP
    dotted = "django.core.mail.backends.locmem.EmailBackend"
    assert email_backend(debug=debug, host="", backend=dotted) == dotted


def test_an_unknown_backend_name_is_refused_at_start_up():
    with pytest.raises(ImproperlyConfigured, match="EMAIL_BACKEND must be one of"):
        email_backend(debug=True, host="", backend="sendmail")


def settings_seen_with(**env: str) -> list[str]:
    """EMAIL_BACKEND and EMAIL_HOST as a fresh process computes them from `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "DEBUG"))}
    code = (
        "from django.conf import settings; "
        "print(settings.EMAIL_BACKEND); print(settings.EMAIL_HOST)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "lien.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.split()


def test_settings_choose_from_the_environment():
    assert settings_seen_with(DEBUG="true") == [CONSOLE, "localhost"]
    assert settings_seen_with(DEBUG="true", EMAIL_HOST="smtp.villebrie.fr") == [
        SMTP,
        "smtp.villebrie.fr",
    ]
    production = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "lien.example.org"}
    assert settings_seen_with(**production) == [SMTP, "localhost"]
    assert settings_seen_with(DEBUG="true", EMAIL_BACKEND="file")[0] == FILE
