"""Reads for the public site: only published places, grouped the way residents read them."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone

from lien.accounts.models import Structure, User
from lien.appointments.models import LocationType, Motif
from lien.core import timefmt
from lien.core.text import fold
from lien.places.models import Place
from lien.schedule.models import Presence, PresenceMode
from lien.schedule.occurrences import Occurrence
from lien.schedule.selectors import next_occurrences, occurrences_between


@dataclass
class Visit:
    """An occurrence with what a resident needs to read it."""

    occurrence: Occurrence
    place: Place | None
    mode_label: str
    advisor_name: str
    day_label: str
    note: str = ""
    # A presence "sur inscription" (a workshop) says how to register: this number.
    registration_phone: str = ""

    @property
    def start(self) -> dt.datetime:
        return self.occurrence.start

    @property
    def end(self) -> dt.datetime:
        return self.occurrence.end


def local_today(structure: Structure) -> dt.date:
    return timefmt.today_in(structure)


def _day_label(day: dt.date, today: dt.date) -> str:
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    if day == today:
        return _("Aujourd’hui")
    if day == today + dt.timedelta(days=1):
        return _("Demain")
    return date_format(day, "l j F").capitalize()


def visits(structure: Structure, occurrences: list[Occurrence]) -> list[Visit]:
    places = (
        Place.objects.published()
        .of_structure(structure)
        .in_bulk({o.place_id for o in occurrences if o.place_id})
    )
    advisors = User.objects.in_bulk({o.advisor_id for o in occurrences})
    notes = dict(
        Presence.objects.filter(pk__in={o.presence_id for o in occurrences})
        .exclude(note="")
        .values_list("pk", "note")
    )
    today = local_today(structure)
    modes = dict(PresenceMode.choices)
    return [
        Visit(
            occurrence=o,
            place=places.get(o.place_id),
            mode_label=str(modes.get(o.mode, "")),
            advisor_name=advisors[o.advisor_id].first_name if o.advisor_id in advisors else "",
            day_label=_day_label(o.day, today),
            note=notes.get(o.presence_id, ""),
            registration_phone=registration_phone(
                structure, places.get(o.place_id), notes.get(o.presence_id, "")
            ),
        )
        for o in occurrences
        if o.place_id is None or o.place_id in places
    ]


REGISTRATION = "sur inscription"  # folded, as advisors write it in a presence's note


def registration_phone(structure: Structure, place: Place | None, note: str) -> str:
    """The number to call to register for a presence whose note says « sur inscription »
    (a workshop), until workshops take registrations themselves: the place's, else the
    structure's; "" for any other presence."""
    if REGISTRATION not in fold(note):
        return ""
    return (place.phone if place is not None else "") or structure.contact_phone


def bookable_motifs_by_place(structure: Structure) -> dict[int, list[Motif]]:
    """The motifs residents may book online on site, by published place (two queries): what
    « Prendre rendez-vous ici » offers on a place's page."""
    motifs = (
        Motif.objects.of_structure(structure)
        .bookable_online()
        .filter(location_type=LocationType.PUBLIC_OFFICE)
        .prefetch_related(
            Prefetch(
                "places",
                queryset=Place.objects.published().of_structure(structure).only("pk"),
            )
        )
    )
    by_place: dict[int, list[Motif]] = {}
    for motif in motifs:
        for place in motif.places.all():
            by_place.setdefault(place.pk, []).append(motif)
    return by_place


def upcoming_visits(structure: Structure, limit: int = 5) -> list[Visit]:
    return visits(structure, next_occurrences(structure, timezone.now(), limit=limit))


def week_days(structure: Structure, monday: dt.date) -> list[tuple[dt.date, str, list[Visit]]]:
    """The seven days of a week, each with its visits (possibly none)."""
    sunday = monday + dt.timedelta(days=6)
    found = visits(
        structure, occurrences_between(structure, monday, sunday, published_places_only=True)
    )
    today = local_today(structure)
    return [
        (day, _day_label(day, today), [v for v in found if v.occurrence.day == day])
        for day in (monday + dt.timedelta(days=i) for i in range(7))
    ]


def place_visits(structure: Structure, place: Place, weeks: int = 4) -> list[Visit]:
    today = local_today(structure)
    found = occurrences_between(
        structure, today, today + dt.timedelta(weeks=weeks), place_id=place.pk
    )
    now = timezone.now()
    return visits(structure, [o for o in found if o.end > now])


def next_presence(structure: Structure, advisor: User, days: int = 28) -> Visit | None:
    """Where and when a member is next expected (the presence under way included), within
    `days`, at any of the structure's places (published or not) and leaving out the times an
    absence covers; None when nothing is planned. For the member's own "today" page."""
    from lien.appointments.models import Absence

    now = timezone.now()
    today = local_today(structure)
    found = [
        o
        for o in occurrences_between(
            structure, today, today + dt.timedelta(days=days), advisor_id=advisor.pk
        )
        if o.end > now
    ]
    if not found:
        return None
    away = list(
        Absence.objects.filter(
            advisor=advisor, start__lt=found[-1].end, end__gt=found[0].start
        ).values_list("start", "end")
    )
    occurrence = next(
        (o for o in found if not any(a < o.end and b > o.start for a, b in away)), None
    )
    if occurrence is None:
        return None
    place = (
        Place.objects.of_structure(structure).filter(pk=occurrence.place_id).first()
        if occurrence.place_id
        else None
    )
    return Visit(
        occurrence=occurrence,
        place=place,
        mode_label=str(dict(PresenceMode.choices).get(occurrence.mode, "")),
        advisor_name=advisor.first_name,
        day_label=_day_label(occurrence.day, today),
    )
