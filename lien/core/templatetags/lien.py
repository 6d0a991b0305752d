import datetime as dt

from django import template
from django.utils.formats import date_format

from lien.core.validators import display_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """+33123456789 → 01 23 45 67 89."""
    return display_phone(value)


@register.filter
def hour(value: dt.time | dt.datetime) -> str:
    """14:00 → « 14 h », 17:30 → « 17 h 30 », the way it is said aloud."""
    if value.minute:
        return f"{value.hour} h {value.minute:02d}"
    return f"{value.hour} h"


@register.filter
def long_date(value: dt.date) -> str:
    return date_format(value, "l j F")
