"""Lien's template filters (built in to every template: see TEMPLATES in settings).

Dates and times go through lien/core/timefmt.py, the one formatting module: an aware
instant is shown as a wall-clock time of the active zone (the structure's).
"""

import datetime as dt
from typing import TYPE_CHECKING

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from lien.core import taxonomy, timefmt, typography
from lien.core.validators import display_phone

if TYPE_CHECKING:
    from lien.accounts.models import Membership

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """+33123456789 → 01 23 45 67 89."""
    return display_phone(value)


@register.filter
def hour(value: dt.time | dt.datetime) -> str:
    """14:00 → « 14 h », 17:30 → « 17 h 30 », the way it is said aloud."""
    return timefmt.hour(value)


@register.filter
def long_date(value: dt.date | dt.datetime) -> str:
    """« jeudi 3 septembre »."""
    return timefmt.long_date(value)


@register.filter
def full_date(value: dt.date | dt.datetime) -> str:
    """« mardi 1er décembre 2026 »."""
    return timefmt.full_date(value)


@register.filter
def numeric_date(value: dt.date | dt.datetime) -> str:
    """« 03/09/2026 »."""
    return timefmt.numeric_date(value)


@register.filter
def numeric_datetime(value: dt.datetime) -> str:
    """« 03/09/2026 14:05 »."""
    return timefmt.numeric_datetime(value)


@register.filter
def clock(value: dt.datetime | dt.time) -> str:
    """« 14:05 »."""
    return timefmt.clock(value)


@register.filter
def local_day(value: dt.date | dt.datetime) -> dt.date:
    """The local calendar day of an instant (for links such as ?jour=YYYY-MM-DD)."""
    return timefmt.local_day(value)


@register.filter
def iso_minutes(value: dt.datetime) -> str:
    """An instant as it travels in URLs and forms (local wall time with its offset)."""
    return timefmt.iso_minutes(value)


@register.filter
def can(membership: "Membership | None", permission: str) -> bool:
    """`{% if request.membership|can:"beneficiary.view_contact" %}`: accounts/permissions.py.

    An unknown name raises (the page fails in the tests) instead of quietly hiding a link.
    """
    from lien.accounts.permissions import can as allowed

    return allowed(membership, permission)


@register.filter
def action_label(action: str) -> str:
    """« appointment.booked » → « Rendez-vous pris »: lien/journal/actions.py."""
    from lien.journal.actions import label

    return label(action)


@register.filter
def actor_label(value: str) -> str:
    """« resident-link » → « la personne, par son lien privé »: lien/journal/actions.py."""
    from lien.journal import actions

    return actions.actor_label(value)


@register.filter(name="typography", is_safe=True)
def typography_filter(value: str) -> SafeString:
    """French no-break spaces in the text of rendered HTML (lien/core/typography.py).

    base.html wraps every page in `{% filter typography %}`: applied once, there. A value
    that is not already safe HTML is escaped first.
    """
    return mark_safe(typography.html(str(conditional_escape(value))))


@register.filter(is_safe=True)
def typography_text(value: str) -> str:
    """The same no-break spaces in a plain text (the e-mails' email_base.txt); never an SMS,
    whose GSM-7 alphabet has no such spaces."""
    return typography.plain(value)


@register.filter
def taxonomy_labels(codes: list[str], vocabulary: str) -> list[str]:
    """`{{ activity.material_codes|taxonomy_labels:"materials"|join:", " }}`: the national
    vocabulary's French labels for stored codes (lien/core/taxonomy.py)."""
    return [taxonomy.label(vocabulary, code) for code in codes or ()]


@register.filter
def full_name(person: object) -> str:
    """« Gérard Martin », or « Gérard » alone: no stray space when a name part is empty
    (`first_name|add:" "|add:last_name` wrote « pour Gérard . »)."""
    parts = (getattr(person, "first_name", ""), getattr(person, "last_name", ""))
    return " ".join(p.strip() for p in parts if p and p.strip())
