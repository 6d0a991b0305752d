"""Sending one SMS through the adapter that settings.SMS_BACKEND names.

- `console`: logs the SMS (development; nothing leaves the machine).
- `file`: appends one JSON line per SMS to SMS_FILE_PATH (demos, tests).
- `http`: POSTs JSON to an HTTP provider (SMS_HTTP_URL, SMS_HTTP_TOKEN, SMS_SENDER) using only
  the standard library. A provider behind another API needs only another adapter here.

Every adapter returns the provider's message id and raises SmsError when it cannot tell the SMS
was accepted. Error texts end up in the staff's delivery log, hence in French.

The text is transliterated into the GSM 7-bit alphabet (`gsm.to_gsm7`) before any adapter sees
it: one character outside it would make the provider send UCS-2, 70 characters an SMS.
"""

import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from lien.appointments import gsm

log = logging.getLogger("lien.sms")

DEFAULT_HTTP_TIMEOUT = 10.0  # seconds; settings.SMS_HTTP_TIMEOUT overrides it
MAX_RESPONSE_BYTES = 64 * 1024


class SmsError(Exception):
    """The SMS was not accepted, or we cannot tell that it was."""


def send_sms(to: str, text: str) -> str:
    """Send `text` to `to` (E.164, +33…), in the GSM-7 alphabet, and return the provider's
    message id."""
    backend = settings.SMS_BACKEND
    adapter = ADAPTERS.get(backend)
    if adapter is None:
        raise SmsError(
            f"SMS_BACKEND « {backend} » inconnu (valeurs possibles : {', '.join(ADAPTERS)})."
        )
    return adapter(to, gsm.to_gsm7(text))


def _console(to: str, text: str) -> str:
    message_id = f"console-{uuid.uuid4().hex}"
    log.info(
        "SMS %s to %s (%d characters, %d SMS): %s",
        message_id,
        to,
        gsm.gsm7_length(text),
        gsm.segments(text),
        text,
    )
    return message_id


def _file(to: str, text: str) -> str:
    message_id = f"file-{uuid.uuid4().hex}"
    line = json.dumps(
        {
            "id": message_id,
            "at": timezone.now().isoformat(),
            "sender": settings.SMS_SENDER,
            "to": to,
            "text": text,
        },
        ensure_ascii=False,
    )
    # One write() of one line in append mode: lines of concurrent workers do not interleave.
    with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return message_id


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: following it would resend the bearer token elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _http(to: str, text: str) -> str:
    url = settings.SMS_HTTP_URL
    if not url.startswith(("https://", "http://")):
        raise SmsError("SMS_HTTP_URL doit être une adresse http(s) (fournisseur SMS).")
    timeout = float(getattr(settings, "SMS_HTTP_TIMEOUT", DEFAULT_HTTP_TIMEOUT))
    body = json.dumps({"to": to, "text": text, "sender": settings.SMS_SENDER}).encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}",
            "User-Agent": "Lien",
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            raw = response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip() if exc.fp else ""
        raise SmsError(
            f"Le fournisseur SMS a refusé l'envoi (HTTP {exc.code})"
            + (f" : {detail}" if detail else ".")
        ) from exc
    except TimeoutError as exc:
        raise SmsError(f"Le fournisseur SMS n'a pas répondu en {timeout:g} s.") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise SmsError(f"Le fournisseur SMS n'a pas répondu en {timeout:g} s.") from exc
        raise SmsError(f"Fournisseur SMS injoignable : {exc.reason}.") from exc
    except OSError as exc:  # connection reset while reading, and the like
        raise SmsError(f"Erreur réseau avec le fournisseur SMS : {exc}.") from exc
    try:
        message_id = json.loads(raw)["id"]
    except (ValueError, TypeError, KeyError) as exc:
        excerpt = raw[:100].decode("utf-8", "replace")
        raise SmsError(f"Réponse du fournisseur SMS illisible : « {excerpt} ».") from exc
    if not isinstance(message_id, str | int) or isinstance(message_id, bool) or message_id == "":
        raise SmsError(f"Réponse du fournisseur SMS sans identifiant : {message_id!r}.")
    return str(message_id)


ADAPTERS: dict[str, Callable[[str, str], str]] = {
    "console": _console,
    "file": _file,
    "http": _http,
}
