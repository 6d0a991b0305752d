"""The one place where a stored instant becomes a date or a time a person reads.

Instants are stored aware and in UTC. Each structure lives in its own time zone
(`Structure.time_zone`, defaulted from its INSEE code: metropolitan France and Corsica are
Europe/Paris, the overseas departments and collectivities have theirs). Everything shown,
sent, exported or written in a calendar file goes through the functions below, under the
structure's zone:

- a request naming a structure runs under its zone (`StructureTimeZoneMiddleware`, or
  `using(structure)` in views reached by a token);
- code outside a request (the worker's messages, exports, retention) wraps its work in
  `using(structure)`;
- the template filters `hour`, `long_date`, `full_date`, `numeric_date`, `numeric_datetime`
  and `local_day` (lien/core/templatetags/lien.py) call the functions here.

Never format `value.hour` of a stored datetime directly: it is UTC.
"""

import contextlib
import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, overload
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from lien.accounts.models import Structure  # which imports this module

METROPOLE = "Europe/Paris"

# INSEE department (or collectivity) code prefix → IANA zone. Everything else is the
# metropolitan zone (Corsica's 2A/2B included).
OVERSEAS_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
    "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}

ZONE_CHOICES = [
    (METROPOLE, gettext_lazy("Métropole et Corse (heure de Paris)")),
    ("America/Guadeloupe", gettext_lazy("Guadeloupe")),
    ("America/Martinique", gettext_lazy("Martinique")),
    ("America/Cayenne", gettext_lazy("Guyane")),
    ("Indian/Reunion", gettext_lazy("La Réunion")),
    ("America/Miquelon", gettext_lazy("Saint-Pierre-et-Miquelon")),
    ("Indian/Mayotte", gettext_lazy("Mayotte")),
    ("America/St_Barthelemy", gettext_lazy("Saint-Barthélemy")),
    ("America/Marigot", gettext_lazy("Saint-Martin")),
    ("Pacific/Wallis", gettext_lazy("Wallis-et-Futuna")),
    ("Pacific/Tahiti", gettext_lazy("Polynésie française (Tahiti)")),
    ("Pacific/Noumea", gettext_lazy("Nouvelle-Calédonie")),
]


def zone_for_insee(insee_code: str) -> str:
    """The IANA zone of a French commune from its INSEE code."""
    return OVERSEAS_ZONES.get((insee_code or "")[:3], METROPOLE)


@lru_cache(maxsize=64)
def zone_by_name(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_of(structure: "Structure | None") -> ZoneInfo:
    """The structure's time zone (the instance's default for no structure)."""
    name = getattr(structure, "time_zone", "") or ""
    if not name and structure is not None:
        name = zone_for_insee(getattr(structure, "insee_code", ""))
    return zone_by_name(name or settings.TIME_ZONE)


@contextlib.contextmanager
def using(structure: "Structure | None") -> Iterator[ZoneInfo]:
    """Run a block (rendering a page, a message, an export) in the structure's time zone."""
    zone = zone_of(structure)
    with timezone.override(zone):
        yield zone


def activate_for(structure: "Structure") -> ZoneInfo:
    """The rest of this request runs in the structure's zone (a page reached by a token).

    StructureTimeZoneMiddleware resets the zone after the response.
    """
    zone = zone_of(structure)
    timezone.activate(zone)
    return zone


def today_in(structure: "Structure | None") -> dt.date:
    """Today, in the structure's zone."""
    return timezone.now().astimezone(zone_of(structure)).date()


@overload
def local(value: dt.datetime, structure: "Structure | None" = None) -> dt.datetime: ...
@overload
def local(value: dt.time, structure: "Structure | None" = None) -> dt.time: ...
def local(
    value: dt.datetime | dt.time, structure: "Structure | None" = None
) -> dt.datetime | dt.time:
    """An aware instant as a wall-clock time of the structure's zone, or of the active zone
    without one (naive values and times of day are unchanged)."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        if structure is not None:
            return value.astimezone(zone_of(structure))
        return timezone.localtime(value)
    return value


def local_day(value: dt.date | dt.datetime, structure: "Structure | None" = None) -> dt.date:
    """The calendar day an instant falls on in the structure's (or active) zone; a date
    stays itself."""
    if isinstance(value, dt.datetime):
        return local(value, structure).date()
    return value


def hour(value: dt.time | dt.datetime) -> str:
    """14:00 → « 14 h », 17:30 → « 17 h 30 », the way it is said aloud, in local time."""
    if value in (None, ""):
        return ""
    value = local(value)
    if value.minute:
        return f"{value.hour} h {value.minute:02d}"
    return f"{value.hour} h"


# The first day of a month is said « 1er » (« lundi 1er décembre »): Django's "j" gives "1".
_FIRST_OF_MONTH = r"\1\e\r"


def _day_format(day: dt.date, fmt: str) -> str:
    """`date_format` with « 1er » for the first of the month ("j" is the day)."""
    if day.day == 1:
        fmt = fmt.replace("j", _FIRST_OF_MONTH)
    return date_format(day, fmt)


def long_date(value: dt.date | dt.datetime) -> str:
    """« jeudi 3 septembre », « lundi 1er décembre » (the local day of an instant)."""
    if value in (None, ""):
        return ""
    return _day_format(local_day(value), "l j F")


def full_date(value: dt.date | dt.datetime) -> str:
    """« jeudi 3 septembre 2026 », « mardi 1er décembre 2026 » (the local day)."""
    if value in (None, ""):
        return ""
    return _day_format(local_day(value), "l j F Y")


def numeric_date(value: dt.date | dt.datetime) -> str:
    """« 03/09/2026 » (the local day of an instant)."""
    if value in (None, ""):
        return ""
    return local_day(value).strftime("%d/%m/%Y")


def numeric_datetime(value: dt.datetime) -> str:
    """« 03/09/2026 14:05 » in local time."""
    if value in (None, ""):
        return ""
    return local(value).strftime("%d/%m/%Y %H:%M")


def clock(value: dt.datetime | dt.time) -> str:
    """« 14:05 » in local time (tables, where « 14 h 05 » would be too wide)."""
    if value in (None, ""):
        return ""
    return local(value).strftime("%H:%M")


def when(value: dt.datetime) -> str:
    """« jeudi 3 septembre à 14 h », in local time."""
    return _("%(date)s à %(hour)s") % {"date": long_date(value), "hour": hour(value)}


def iso_minutes(value: dt.datetime) -> str:
    """An instant as it travels in URLs and forms: local wall time to the minute, with its
    offset (« 2026-12-03T14:00+01:00 »), so it reads plainly and parses back exactly."""
    return local(value).isoformat(timespec="minutes")


def short_when(value: dt.datetime) -> str:
    """« lun. 7/12 14h30 », « mar. 8/12 9h » in local time: the SMS form, where every
    character counts."""
    value = local(value)
    clock = f"{value.hour}h{value.minute:02d}" if value.minute else f"{value.hour}h"
    return f"{date_format(value.date(), 'D')}. {value.day}/{value.month} {clock}"
