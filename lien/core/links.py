"""Private links (a resident's appointment page, an advisor's ICS feed) that a copy of the
database cannot open.

A link token is `<id><mac>`, 34 URL-safe characters (links go in SMS, where every character
costs). `id` is random and stored: 12 characters, 72 bits, unique and indexed; it only finds
the row. `mac` is an HMAC-SHA256 of the id under the site's SECRET_KEY, truncated to 128 bits
(22 characters, half the hash as RFC 2104 advises), and is stored nowhere: the secret is the
MAC. The database alone therefore gives no working link; the worker, which has the key, can
still put the link in a reminder weeks later (a plain hash of a random token could not: the
token would be gone). The MAC is compared in constant time, against SECRET_KEY then each of
SECRET_KEY_FALLBACKS, so the key can be rotated without breaking the links already sent.
Changing SECRET_KEY without keeping the old one in SECRET_KEY_FALLBACKS ends every link.
"""

import base64
import hmac
import re
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

ID_LENGTH = 12  # base64url characters of the random id: 72 bits
MAC_LENGTH = 22  # base64url characters of the HMAC: 128 bits
_TOKEN = re.compile("[A-Za-z0-9_-]{%s}" % str(ID_LENGTH + MAC_LENGTH))  # noqa: UP031


def new_id() -> str:
    """A new random link id (72 bits, 12 characters)."""
    return secrets.token_urlsafe(9)


def _mac(purpose: str, link_id: str, secret: str) -> str:
    digest = salted_hmac(f"lien.link.{purpose}", link_id, secret=secret, algorithm="sha256")
    return base64.urlsafe_b64encode(digest.digest()).decode("ascii")[:MAC_LENGTH]


def token_for(purpose: str, link_id: str) -> str:
    """The token of a link, as it goes in a URL."""
    return f"{link_id}{_mac(purpose, link_id, settings.SECRET_KEY)}"


def link_id_of(purpose: str, token: str) -> str | None:
    """The link id a token carries if its MAC is right (constant-time), else None."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    link_id, mac = token[:ID_LENGTH], token[ID_LENGTH:]
    secrets_to_try = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    valid = False
    for secret in secrets_to_try:
        # No early exit: the time taken does not depend on which key matched, if any.
        valid |= hmac.compare_digest(mac, _mac(purpose, link_id, secret))
    return link_id if valid else None
