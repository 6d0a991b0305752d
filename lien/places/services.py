"""Writes to places, their opening hours and closures."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from lien.accounts.models import Structure
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
def place_save(*, structure: Structure, place: Place) -> Place:
    """Create or update a place of `structure`; the slug follows the name on creation."""
    place.structure = structure
    if not place.slug:
        place.slug = unique_place_slug(structure, place.name, place.pk)
    place.full_clean()
    place.save()
    return place


@transaction.atomic
def place_delete(*, place: Place) -> None:
    """Delete a place, unless appointments or activities happened there (history stays)."""
    if place.appointments.exists() or place.activities.exists():
        raise ValidationError(
            _(
                "Des rendez-vous ou des activités ont eu lieu ici : il ne peut pas être supprimé. "
                "Décochez « publié » pour le retirer du site."
            )
        )
    place.delete()


@transaction.atomic
def opening_rules_replace(
    *, place: Place, rules: Iterable[WeeklyRule], closed_on_public_holidays: bool
) -> None:
    """Replace a place's weekly hours; refuses overlapping or inverted intervals."""
    rules = sorted(set(rules))
    problems = find_overlaps(rules)
    if problems:
        raise ValidationError(problems)
    place.opening_rules.all().delete()
    OpeningRule.objects.bulk_create(
        OpeningRule(place=place, weekday=r.weekday, start=r.start, end=r.end, weeks=r.weeks)
        for r in rules
    )
    place.closed_on_public_holidays = closed_on_public_holidays
    place.save(update_fields=["closed_on_public_holidays", "updated_at"])


def weekly_rules(place: Place) -> list[WeeklyRule]:
    return [WeeklyRule(r.weekday, r.start, r.end, r.weeks) for r in place.opening_rules.all()]


@transaction.atomic
def closure_add(*, place: Place, start_date, end_date, reason: str = "") -> Closure:
    closure = Closure(place=place, start_date=start_date, end_date=end_date, reason=reason)
    closure.full_clean()
    closure.save()
    return closure


@transaction.atomic
def closure_delete(*, closure: Closure) -> None:
    closure.delete()
