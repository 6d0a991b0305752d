"""Reads of the itinerant schedule, always through a structure."""

import datetime as dt

from django.db.models import Q

from lien.accounts.models import Structure
from lien.core import timefmt
from lien.core.holidays import is_public_holiday
from lien.places.models import Closure
from lien.schedule.models import Presence, PresenceException
from lien.schedule.occurrences import Occurrence, PresenceRule, expand


def to_rule(presence: Presence) -> PresenceRule:
    return PresenceRule(
        id=presence.pk,
        advisor_id=presence.advisor_id,
        place_id=presence.place_id,
        mode=presence.mode,
        weekday=presence.weekday,
        start=presence.start,
        end=presence.end,
        every_n_weeks=presence.every_n_weeks,
        valid_from=presence.valid_from,
        valid_until=presence.valid_until,
    )


def occurrences_between(
    structure: Structure,
    start: dt.date,
    end: dt.date,
    *,
    place_id: int | None = None,
    advisor_id: int | None = None,
    published_places_only: bool = False,
) -> list[Occurrence]:
    """Dated presences of a structure's advisors between two days (inclusive)."""
    presences = Presence.objects.of_structure(structure).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=start), valid_from__lte=end
    )
    if place_id is not None:
        presences = presences.filter(place_id=place_id)
    if advisor_id is not None:
        presences = presences.filter(advisor_id=advisor_id)
    if published_places_only:
        presences = presences.filter(Q(place__isnull=True) | Q(place__published=True))
    presences = list(presences)
    ids = [p.pk for p in presences]
    cancelled = frozenset(
        PresenceException.objects.filter(presence_id__in=ids, date__range=(start, end)).values_list(
            "presence_id", "date"
        )
    )
    closures: dict[int, list[tuple[dt.date, dt.date]]] = {}
    place_ids = {p.place_id for p in presences if p.place_id}
    for place, a, b in Closure.objects.filter(
        place_id__in=place_ids, start_date__lte=end, end_date__gte=start
    ).values_list("place_id", "start_date", "end_date"):
        closures.setdefault(place, []).append((a, b))
    return expand(
        map(to_rule, presences),
        start,
        end,
        tz=timefmt.zone_of(structure),
        cancelled=cancelled,
        closures=closures,
        is_holiday=lambda day: is_public_holiday(day, structure.insee_code),
    )


def next_occurrences(
    structure: Structure, now: dt.datetime, limit: int = 5, days: int = 28
) -> list[Occurrence]:
    """The next times help is available, from now on (ongoing ones included)."""
    local_now = now.astimezone(timefmt.zone_of(structure))
    found = occurrences_between(
        structure,
        local_now.date(),
        local_now.date() + dt.timedelta(days=days),
        published_places_only=True,
    )
    return [o for o in found if o.end > local_now][:limit]
