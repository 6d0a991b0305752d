"""Reads for activity reports: the filtered list, one report, and what a new report starts from.

The list is built for 100,000 reports and more: one query for the page (advisor and place
joined, the participant count as a correlated subquery) and one for the total.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from lien import journal
from lien.accounts.models import Membership, Structure, User
from lien.accounts.permissions import can
from lien.activities.models import MAX_DURATION, Accompaniment, Activity, EntryDefaults, Kind
from lien.appointments.models import Appointment, Status
from lien.beneficiaries.models import Beneficiary
from lien.core import taxonomy, timefmt
from lien.places.models import Place

PAGE_SIZE = 50
# What the next blank report of the same advisor starts from.
REMEMBERED = ("place_type", "place", "commune", "commune_insee", "duration", "materials")
# Anonymous workshop counters by prefix: the accompaniment column each group describes.
COUNTER_GROUPS = {
    "genre_": ("gender", taxonomy.codes("beneficiary_gender")),
    "tranche_age_": ("age_band", taxonomy.codes("beneficiary_age_band")),
    "statut_social_": ("social_status", taxonomy.codes("beneficiary_social_status")),
}


def activity_list(
    structure: Structure,
    *,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    theme: str | None = None,
    kind: str | None = None,
    advisor_id: int | None = None,
    place_id: int | None = None,
) -> QuerySet[Activity]:
    """Live reports of a structure, newest first, with `participant_count` on each."""
    participants = (
        Accompaniment.objects.filter(activity=OuterRef("pk"))
        .order_by()
        .values("activity")
        .annotate(n=Count("pk"))
        .values("n")
    )
    items = Activity.objects.of_structure(structure).live()
    if period_start:
        items = items.filter(date__gte=period_start)
    if period_end:
        items = items.filter(date__lte=period_end)
    if theme:
        items = items.with_theme(theme)
    if kind:
        items = items.filter(kind=kind)
    if advisor_id:
        items = items.filter(advisor_id=advisor_id)
    if place_id:
        items = items.filter(place_id=place_id)
    return (
        items.select_related("advisor", "place")
        .annotate(
            participant_count=Coalesce(Subquery(participants, output_field=IntegerField()), 0)
        )
        .order_by("-date", "-pk")
    )


def activity_page(structure: Structure, number: Any = 1, **filters: Any) -> Page:
    """One page of `activity_list` (two queries: the count and the rows)."""
    return Paginator(activity_list(structure, **filters), PAGE_SIZE).get_page(number)


def attach_people(activities: Iterable[Activity]) -> None:
    """Set `.person` (the Beneficiary of an individual report, or None): one query."""
    activities = list(activities)
    ids = [a.pk for a in activities if a.kind == "individuel"]
    found = {
        row.activity_id: row.beneficiary
        for row in Accompaniment.objects.filter(
            activity_id__in=ids, beneficiary__isnull=False
        ).select_related("beneficiary")
    }
    for activity in activities:
        activity.person = found.get(activity.pk)


def activity_for(membership: Membership, pk: int, *, purpose: str) -> Activity:
    """A live report of the member's structure, or 404 (another structure's report is a 404).

    A report names the people helped and what they confided: the read is journalled here
    (`activity.viewed`, with the page it is for: detail, edit, copy, delete), about the
    person when the report is about one.
    """
    activity = get_object_or_404(
        Activity.objects.of_structure(membership.structure)
        .live()
        .select_related("advisor", "place"),
        pk=pk,
    )
    people = people_of(activity)
    journal.record(
        structure=membership.structure,
        action="activity.viewed",
        obj=activity,
        actor=membership.user,
        subject=people[0] if activity.kind == Kind.INDIVIDUAL and people else None,
        data={"participants": len(people), "page": purpose},
    )
    return activity


def people_of(activity: Activity) -> list[Beneficiary]:
    """The identified or anonymous people linked to a report (anonymous counters excluded)."""
    return [
        row.beneficiary
        for row in activity.accompaniments.filter(beneficiary__isnull=False)
        .select_related("beneficiary")
        .order_by("pk")
        if row.beneficiary is not None
    ]


def counters_of(activity: Activity) -> dict[str, int]:
    """The anonymous counters that describe the anonymous rows of a workshop."""
    rows: list[Mapping[str, Any]] = list(
        activity.accompaniments.filter(beneficiary__isnull=True).values(
            "gender", "age_band", "social_status", "first_time"
        )
    )
    counters = dict.fromkeys(taxonomy.COLLECTIVE_COUNTERS, 0)
    counters["total"] = len(rows)
    counters["deja_accompagne"] = sum(1 for r in rows if not r["first_time"])
    for prefix, (attribute, _codes) in COUNTER_GROUPS.items():
        for row in rows:
            key = prefix + row[attribute]
            if key in counters:
                counters[key] += 1
    return counters


def initial_from_appointment(appointment: Appointment) -> dict[str, Any]:
    """A report pre-filled from an appointment that took place (a walk-in too): its day,
    length, the motif's themes, where it happened and the person on record it is linked to.

    A walk-in happened on site, whatever its motif; on site with no place recorded, the
    place is left to the advisor's form (their remembered place, or their choice)."""
    minutes = int((appointment.end - appointment.start).total_seconds() // 60)
    initial: dict[str, Any] = {
        "date": timefmt.local_day(appointment.start, appointment.structure),
        "duration": min(max(minutes, 1), MAX_DURATION),
        "themes": taxonomy.unpack(appointment.motif.themes),
    }
    on_site = appointment.location_type == "public_office" or appointment.channel == "walk_in"
    if on_site and appointment.place_id:
        initial.update(place_type="lieu_activite", place=appointment.place_id)
    elif not on_site:
        initial["place_type"] = "domicile" if appointment.location_type == "home" else "a_distance"
        person = appointment.beneficiary
        if person is not None and person.commune and person.commune_insee:
            initial.update(commune=person.commune, commune_insee=person.commune_insee)
    if appointment.beneficiary is not None and appointment.beneficiary.is_identified:
        initial["beneficiary"] = appointment.beneficiary_id
    return initial


def defaults_for(*, user: User, structure: Structure) -> dict[str, Any]:
    """What the advisor entered in their last report, offered in a new one (the form shows
    it as « Comme la dernière fois : … », never as silently pre-ticked boxes)."""
    saved = EntryDefaults.objects.filter(user=user, structure=structure).first()
    if saved is None:
        return {}
    values = {k: v for k, v in saved.values.items() if k in REMEMBERED}
    place = values.get("place")
    if place and not Place.objects.of_structure(structure).filter(pk=place).exists():
        values.pop("place")
    return values


def find_contact_match(appointment: Appointment) -> Beneficiary | None:
    """The identified person an appointment's contact points to, if any."""
    contact = Q()
    if appointment.phone:
        contact |= Q(phone=appointment.phone)
    if appointment.email:
        contact |= Q(email__iexact=appointment.email)
    if not contact:
        return None
    people = Beneficiary.objects.of_structure(appointment.structure).identified()
    return people.filter(contact).order_by("pk").first()


# Reports still to write shown on the "today" page (the newest; the total is given too).
TO_WRITE_SHOWN = 20


def reports_to_write(membership: Membership) -> tuple[list[Appointment], int]:
    """The member's honoured appointments (walk-ins included) without a report, newest first:
    the latest `TO_WRITE_SHOWN` and how many there are in all. Reports are written by the
    advisor who helped: only the member's own, and nothing for members who write none.

    The list names each person: that read is journalled here (`appointment.listed`: how many
    were shown, never who).
    """
    if not can(membership, "activity.edit"):
        return [], 0
    pending = (
        Appointment.objects.of_structure(membership.structure)
        .filter(
            advisor=membership.user,
            status=Status.SEEN,
            activity__isnull=True,  # a deleted report lets go of its appointment
            start__lte=timezone.now(),
        )
        .select_related("motif", "place")
        .order_by("-start", "-pk")
    )
    shown = list(pending[:TO_WRITE_SHOWN])
    total = len(shown) if len(shown) < TO_WRITE_SHOWN else pending.count()
    if shown and can(membership, "beneficiary.view_identity"):
        journal.record(
            structure=membership.structure,
            action="appointment.listed",
            actor=membership.user,
            data={"view": "comptes-rendus-a-ecrire", "shown": len(shown)},
        )
    return shown, total
