"""Writes to the itinerant schedule. Each function validates fully before saving."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from lien.accounts.models import Membership, Structure
from lien.accounts.permissions import roles_with
from lien.core.templatetags.lien import hour
from lien.schedule.models import Presence, PresenceException
from lien.schedule.occurrences import conflicts, occurs_on
from lien.schedule.selectors import to_rule


def _check(presence: Presence) -> None:
    presence.full_clean()
    if not Membership.objects.filter(
        structure=presence.structure,
        user=presence.advisor,
        role__in=roles_with("presence.hold"),
    ).exists():
        raise ValidationError(
            {
                "advisor": _(
                    "Cette personne ne travaille pas comme conseiller·ère dans cette structure."
                )
            }
        )
    if presence.place_id and presence.place.structure_id != presence.structure_id:
        raise ValidationError({"place": _("Ce lieu n'appartient pas à la structure.")})
    others = Presence.objects.filter(advisor=presence.advisor, weekday=presence.weekday)
    if presence.pk:
        others = others.exclude(pk=presence.pk)
    new = to_rule(presence)
    for other in others.select_related("place"):
        day = conflicts(new, to_rule(other))
        if day is not None:
            where = other.place.name if other.place_id else other.get_mode_display()
            raise ValidationError(
                _(
                    "Chevauchement avec une autre présence (%(where)s, %(start)s–%(end)s) "
                    "le %(day)s."
                )
                % {
                    "where": where,
                    "start": hour(other.start),
                    "end": hour(other.end),
                    "day": date_format(day, "l j F Y"),
                }
            )


@transaction.atomic
def presence_save(*, structure: Structure, presence: Presence) -> Presence:
    """Create or update a presence after checking it fits the advisor's other presences."""
    presence.structure = structure
    _check(presence)
    presence.save()
    return presence


@transaction.atomic
def presence_delete(*, presence: Presence) -> None:
    presence.delete()


@transaction.atomic
def presence_exception_add(*, presence: Presence, date, reason: str = "") -> PresenceException:
    """Cancel one occurrence of a presence (leave, training…)."""
    if not occurs_on(to_rule(presence), date):
        raise ValidationError({"date": _("Cette présence n'a pas lieu ce jour-là.")})
    exception = PresenceException(presence=presence, date=date, reason=reason)
    exception.full_clean()
    exception.save()
    return exception


@transaction.atomic
def presence_exception_delete(*, exception: PresenceException) -> None:
    """Restore a cancelled date."""
    exception.delete()
