"""The one set of parsers for what arrives in URLs and forms: ids, days, instants, text.

Every value a view reads from a query string or a form goes through one of these: each gives
a clean value or None, never an exception, so bad input gets the page's own French message,
a 400 or a 404 — never a server error. The rules:

- an id is 1 to 18 ASCII digits (fits a 64-bit key; « ² » and « ٣ » are digits to
  `str.isdigit()` but not to `int()`, and 5,000 digits are more than `int()` accepts);
- a day is an ISO date between EARLIEST and LATEST (arithmetic a week on either side of
  year 1 or 9999 overflows);
- an instant is an ISO date-time in that range, naive ones read in the active time zone;
- text has no NUL byte (PostgreSQL refuses them) and a bounded length.

NUL bytes anywhere in a query string or a form are refused before any view runs
(`BadInputMiddleware`), with the site's French 400 page.
"""

import datetime as dt
import re
from collections.abc import Sequence

from django.http import HttpRequest
from django.utils import timezone

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)
ID = re.compile(r"[0-9]{1,18}")
MAX_ISO_LENGTH = 40


def positive_id(value: object) -> int | None:
    """A database id from a query string or form value, or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value < 10**18 else None
    if isinstance(value, str) and ID.fullmatch(value.strip()):
        number = int(value.strip())
        return number or None
    return None


def ids(values: Sequence[object], limit: int = 200) -> list[int]:
    """The valid ids of a list of values (`request.GET.getlist(...)`), at most `limit`."""
    found = (positive_id(v) for v in values[: limit * 2])
    return [pk for pk in found if pk is not None][:limit]


def day(value: object) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) in [EARLIEST, LATEST], or None."""
    if not isinstance(value, str) or len(value) > MAX_ISO_LENGTH:
        return None
    try:
        parsed = dt.date.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if EARLIEST <= parsed <= LATEST else None


def instant(value: object) -> dt.datetime | None:
    """An ISO date-time, aware (a naive one is read in the active time zone), or None.

    A « + » of the offset decoded as a space in a query string is put back.
    """
    if not isinstance(value, str):
        return None
    value = value.strip().replace(" ", "+")
    if not value or len(value) > MAX_ISO_LENGTH:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if not EARLIEST <= moment.date() <= LATEST:
        return None
    if timezone.is_naive(moment):
        try:
            moment = timezone.make_aware(moment)
        except (ValueError, OverflowError):
            return None
    return moment


def text(value: object, max_length: int = 100) -> str:
    """A stripped, bounded text without NUL bytes ("" for anything else)."""
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip()[:max_length]


def has_nul(request: HttpRequest) -> bool:
    """Does the path, a query-string key or value, or a (non-file) form value hold a NUL?"""
    if "\x00" in request.path:
        return True
    queries = [request.GET]
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method == "POST" and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        queries.append(request.POST)  # form fields only: uploaded files may hold NUL bytes
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for query in queries
        for key, values in query.lists()
    )
