"""Writes to the itinerant schedule. Each function validates fully before saving and journals
the change with who made it (`actor`) and the names of the changed fields."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from lien import journal
from lien.accounts.models import Membership, Structure, User
from lien.accounts.permissions import roles_with
from lien.core.changes import changed_fields
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
    if presence.place is not None and presence.place.structure_id != presence.structure_id:
        raise ValidationError({"place": _("Ce lieu n'appartient pas à la structure.")})
    others = Presence.objects.filter(advisor=presence.advisor, weekday=presence.weekday)
    if presence.pk:
        others = others.exclude(pk=presence.pk)
    new = to_rule(presence)
    for other in others.select_related("place"):
        day = conflicts(new, to_rule(other))
        if day is not None:
            where = other.place.name if other.place is not None else other.get_mode_display()
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
def presence_save(
    *, structure: Structure, presence: Presence, actor: User | None, actor_label: str = ""
) -> Presence:
    """Create or update a presence after checking it fits the advisor's other presences."""
    created = presence.pk is None
    presence.structure = structure
    _check(presence)
    changed = changed_fields(presence)
    presence.save()
    who: dict[str, Any] = {
        "structure": structure,
        "obj": presence,
        "actor": actor,
        "actor_label": actor_label,
    }
    if created:
        journal.record(action="presence.created", data={"advisor": presence.advisor_id}, **who)
    elif changed:
        data = {"advisor": presence.advisor_id, "fields": changed}
        journal.record(action="presence.updated", data=data, **who)
    return presence


@transaction.atomic
def presence_delete(*, presence: Presence, actor: User | None, actor_label: str = "") -> None:
    journal.record(
        structure=presence.structure,
        action="presence.deleted",
        obj=presence,
        actor=actor,
        actor_label=actor_label,
        data={"advisor": presence.advisor_id},
    )
    presence.delete()


@transaction.atomic
def presence_exception_add(
    *,
    presence: Presence,
    date: dt.date,
    reason: str = "",
    actor: User | None,
    actor_label: str = "",
) -> PresenceException:
    """Cancel one occurrence of a presence (leave, training…)."""
    if not occurs_on(to_rule(presence), date):
        raise ValidationError({"date": _("Cette présence n'a pas lieu ce jour-là.")})
    exception = PresenceException(presence=presence, date=date, reason=reason)
    exception.full_clean()
    exception.save()
    journal.record(
        structure=presence.structure,
        action="presence_exception.created",
        obj=exception,
        actor=actor,
        actor_label=actor_label,
        # The date, never the reason: free text may say why someone is away.
        data={"presence": presence.pk, "date": date.isoformat()},
    )
    return exception


@transaction.atomic
def presence_exception_delete(
    *, exception: PresenceException, actor: User | None, actor_label: str = ""
) -> None:
    """Restore a cancelled date."""
    journal.record(
        structure=exception.presence.structure,
        action="presence_exception.deleted",
        obj=exception,
        actor=actor,
        actor_label=actor_label,
        data={"presence": exception.presence_id, "date": exception.date.isoformat()},
    )
    exception.delete()
