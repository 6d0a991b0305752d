"""Lien's template filters (built in to every template: see TEMPLATES in settings).

Dates and times go through lien/core/timefmt.py, the one formatting module: an aware
instant is shown as a wall-clock time of the active zone (the structure's).
"""

import datetime as dt
from typing import TYPE_CHECKING

from django import template

from lien.core import timefmt
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
