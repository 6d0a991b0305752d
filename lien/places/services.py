"""Writes to places, their opening hours and closures.

Each change is journalled with who made it: a staff member (`actor`), or no account and an
`actor_label` ("admin" for an operator is `actor` too; "import" for a command's file). Entries
list the names of the changed fields, never values.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from lien import journal
from lien.accounts.models import Structure, User
from lien.core.changes import changed_fields
from lien.places.hours import WeeklyRule, find_overlaps
from lien.places.models import Closure, OpeningRule, Place


def unique_place_slug(structure: Structure, name: str, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:70] or "lieu"
    slug, n = base, 2
    taken = Place.objects.filter(structure=structure)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def place_save(
    *, structure: Structure, place: Place, actor: User | None, actor_label: str = ""
) -> Place:
    """Create or update a place of `structure`; the slug follows the name on creation."""
    created = place.pk is None
    place.structure = structure
    if not place.slug:
        place.slug = unique_place_slug(structure, place.name, place.pk)
    place.full_clean()
    changed = changed_fields(place)
    place.save()
    who: dict[str, Any] = {
        "structure": structure,
        "obj": place,
        "actor": actor,
        "actor_label": actor_label,
    }
    if created:
        journal.record(action="place.created", **who)
    elif changed:
        journal.record(action="place.updated", data={"fields": changed}, **who)
    return place


def place_deletable(place: Place) -> bool:
    """A place where appointments or activities happened stays (their history needs it)."""
    return not (place.appointments.exists() or place.activities.exists())


@transaction.atomic
def place_delete(*, place: Place, actor: User | None, actor_label: str = "") -> None:
    """Delete a place, unless appointments or activities happened there (history stays)."""
    if not place_deletable(place):
        raise ValidationError(
            _(
                "Des rendez-vous ou des activités ont eu lieu ici : il ne peut pas être supprimé. "
                "Décochez « publié » pour le retirer du site."
            )
        )
    journal.record(
        structure=place.structure,
        action="place.deleted",
        obj=place,
        actor=actor,
        actor_label=actor_label,
    )
    place.delete()


@transaction.atomic
def opening_rules_replace(
    *,
    place: Place,
    rules: Iterable[WeeklyRule],
    closed_on_public_holidays: bool,
    actor: User | None,
    actor_label: str = "",
) -> None:
    """Replace a place's weekly hours; refuses overlapping or inverted intervals.

    Journalled (`opening_hours.updated`) only when the hours or the holidays rule changed.
    """
    rules = sorted(set(rules))
    problems = find_overlaps(rules)
    if problems:
        raise ValidationError(problems)
    changed = []
    if sorted(weekly_rules(place)) != rules:
        changed.append("rules")
    if place.closed_on_public_holidays != closed_on_public_holidays:
        changed.append("closed_on_public_holidays")
    place.opening_rules.all().delete()
    OpeningRule.objects.bulk_create(
        OpeningRule(place=place, weekday=r.weekday, start=r.start, end=r.end, weeks=r.weeks)
        for r in rules
    )
    place.closed_on_public_holidays = closed_on_public_holidays
    place.save(update_fields=["closed_on_public_holidays", "updated_at"])
    if changed:
        journal.record(
            structure=place.structure,
            action="opening_hours.updated",
            obj=place,
            actor=actor,
            actor_label=actor_label,
            data={"fields": changed, "rules": len(rules)},
        )


def weekly_rules(place: Place) -> list[WeeklyRule]:
    return [WeeklyRule(r.weekday, r.start, r.end, r.weeks) for r in place.opening_rules.all()]


@transaction.atomic
def closure_add(
    *,
    place: Place,
    start_date: dt.date,
    end_date: dt.date,
    reason: str = "",
    actor: User | None,
    actor_label: str = "",
) -> Closure:
    """Close a place over whole days (holidays, works…)."""
    closure = Closure(place=place, start_date=start_date, end_date=end_date, reason=reason)
    closure.full_clean()
    closure.save()
    journal.record(
        structure=place.structure,
        action="closure.created",
        obj=closure,
        actor=actor,
        actor_label=actor_label,
        data=_closure_data(closure),
    )
    return closure


def _closure_data(closure: Closure) -> dict:
    # The place and the dates, never the reason: free text.
    return {
        "place": closure.place_id,
        "start": closure.start_date.isoformat(),
        "end": closure.end_date.isoformat(),
    }


@transaction.atomic
def closure_delete(*, closure: Closure, actor: User | None, actor_label: str = "") -> None:
    journal.record(
        structure=closure.place.structure,
        action="closure.deleted",
        obj=closure,
        actor=actor,
        actor_label=actor_label,
        data=_closure_data(closure),
    )
    closure.delete()
