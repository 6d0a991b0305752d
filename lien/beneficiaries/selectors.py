"""Reads of the people helped, shaped by who asks.

- advisor: every record of the structure (profile, notes, timeline);
- reception: identified people only, and only their name and contact (to book);
- coordinator: no person at all, only aggregates (`beneficiary_statistics`).

Views go through these functions only, so a template cannot print what the role may not see:
the reception's querysets do not even load the notes or the birth year.
"""

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from lien import journal
from lien.accounts.models import Membership, Structure
from lien.accounts.permissions import can
from lien.activities.models import Accompaniment
from lien.appointments.models import Appointment
from lien.beneficiaries.models import Beneficiary, BeneficiaryQuerySet
from lien.core import taxonomy

# What the reception may load: enough to recognise and call someone.
CONTACT_FIELDS = ("pk", "first_name", "last_name", "phone", "email", "structure")

# Advisor list filters: query-string key → allowed values.
KINDS = ("identifie", "anonyme")
NOTICE = ("oui", "non")


def beneficiaries_for(membership: Membership) -> BeneficiaryQuerySet:
    """The current (not merged) records this member may list."""
    records = Beneficiary.objects.of_structure(membership.structure).current()
    if can(membership, "beneficiary.view_profile"):
        return records
    if can(membership, "beneficiary.view_identity") and can(membership, "beneficiary.view_contact"):
        return records.identified().only(*CONTACT_FIELDS)
    return records.none()


def beneficiary_for(membership: Membership, pk: int, *, purpose: str) -> Beneficiary:
    """One record this member may open, or 404 (another structure, or not theirs to see);
    the read is journalled here (`beneficiary.viewed`, with the page it is for), so no page
    that shows a person can forget it.

    Those who see whole records (advisors) also reach merged records (the view sends them on
    to the record kept).
    """
    beneficiary = _beneficiary_for(membership, pk)
    record_read(membership, beneficiary, purpose=purpose)
    return beneficiary


def record_read(membership: Membership, beneficiary: Beneficiary, *, purpose: str) -> None:
    """Journal that this member was shown this person (`purpose`: the page, e.g. "edit")."""
    journal.record(
        structure=membership.structure,
        action="beneficiary.viewed",
        obj=beneficiary,
        actor=membership.user,
        subject=beneficiary,
        data={"role": membership.role, "page": purpose},
    )


def search_people(
    membership: Membership, records: BeneficiaryQuerySet, text: str, *, limit: int, page: str
) -> list[Beneficiary]:
    """People matching a name or phone number, journalled as a search: by whom, from which
    page, how many were found, never the words typed (they may name someone without a record
    to erase them with)."""
    found = list(search(records, text)[:limit])
    journal.record(
        structure=membership.structure,
        action="beneficiary.searched",
        actor=membership.user,
        data={"results": len(found), "role": membership.role, "page": page},
    )
    return found


# The staff forms' person picker (booking on behalf, walk-in): results shown, letters needed.
PICKER_RESULTS = 15
PICKER_MIN_LENGTH = 2


def people_to_pick(membership: Membership, text: str, *, page: str) -> list[Beneficiary] | None:
    """The identified people this member may choose in a staff form, matching a name or
    phone (searched and journalled by `search_people`); None when `text` is too short to
    search (nothing is looked up, nothing journalled)."""
    if len(text.strip()) < PICKER_MIN_LENGTH:
        return None
    records = beneficiaries_for(membership).identified()
    return search_people(membership, records, text, limit=PICKER_RESULTS, page=page)


def person_to_pick(membership: Membership, pk: int | None, *, purpose: str) -> Beneficiary | None:
    """The identified person a staff form was sent (`?personne=<pk>`), or None without one;
    404 for anyone else. Their name and contact are about to be shown: journalled here."""
    if pk is None:
        return None
    try:
        person = beneficiaries_for(membership).identified().get(pk=pk)
    except Beneficiary.DoesNotExist as exc:
        raise Http404 from exc
    record_read(membership, person, purpose=purpose)
    return person


def _beneficiary_for(membership: Membership, pk: int) -> Beneficiary:
    if can(membership, "beneficiary.view_profile"):
        records = Beneficiary.objects.of_structure(membership.structure)
    elif can(membership, "beneficiary.view"):
        records = beneficiaries_for(membership)
    else:
        raise Http404
    try:
        return records.get(pk=pk)
    except Beneficiary.DoesNotExist as exc:
        raise Http404 from exc


def applied_filters(params: Mapping[str, str]) -> dict[str, str]:
    """The advisor's list filters that are valid values (codes), for the journal."""
    allowed = {
        "type": KINDS,
        "genre": taxonomy.codes("beneficiary_gender"),
        "age": taxonomy.codes("beneficiary_age_band"),
        "statut": taxonomy.codes("beneficiary_social_status"),
        "notice": NOTICE,
    }
    return {key: params[key] for key, values in allowed.items() if params.get(key) in values}


def filtered(records: BeneficiaryQuerySet, params: Mapping[str, str]) -> BeneficiaryQuerySet:
    """Apply the advisor's list filters from a query dict; unknown values are ignored."""
    kind = params.get("type", "")
    if kind == "identifie":
        records = records.filter(anonymous=False)
    elif kind == "anonyme":
        records = records.filter(anonymous=True)
    for key, field, vocabulary in (
        ("genre", "gender", "beneficiary_gender"),
        ("age", "age_band", "beneficiary_age_band"),
        ("statut", "social_status", "beneficiary_social_status"),
    ):
        value = params.get(key, "")
        if value in taxonomy.codes(vocabulary):
            records = records.filter(**{field: value})
    notice = params.get("notice", "")
    if notice == "oui":
        records = records.filter(notice_given_on__isnull=False)
    elif notice == "non":
        records = records.filter(notice_given_on__isnull=True)
    return records


PHONE_LIKE = re.compile(r"^\+?[\d\s.()-]{4,}$")


def search(records: BeneficiaryQuerySet, text: str) -> BeneficiaryQuerySet:
    """Accent-insensitive search; a phone typed with spaces or dots counts as one number."""
    text = text.strip()
    if PHONE_LIKE.match(text):
        text = "".join(c for c in text if c.isdigit())
        if text.startswith("33") and len(text) in (11, 12):  # +33 6… or +33 (0)6…
            text = text[2:]
    return records.search(text)


def reception_search(membership: Membership, text: str) -> BeneficiaryQuerySet:
    """Identified people matching a name or phone, contact fields only."""
    if len(text.strip()) < 2:
        return Beneficiary.objects.none()
    return search(beneficiaries_for(membership), text)


@dataclass(frozen=True)
class Event:
    """One line of a person's timeline."""

    date: dt.date
    kind: str  # "appointment", "individual", "workshop"
    appointment: Appointment | None = None
    accompaniment: Accompaniment | None = None


def _ids(beneficiary: Beneficiary) -> list[int]:
    return [beneficiary.pk, *beneficiary.merged_from.values_list("pk", flat=True)]


def timeline(beneficiary: Beneficiary) -> list[Event]:
    """Appointments, accompaniments and workshops of a person, newest first.

    Records merged into this one count as well, in case anything still points at them.
    """
    ids = _ids(beneficiary)
    events = [
        Event(timezone.localdate(a.start), "appointment", appointment=a)
        for a in Appointment.objects.filter(beneficiary_id__in=ids).select_related(
            "motif", "place", "advisor"
        )
    ]
    for row in (
        Accompaniment.objects.filter(beneficiary_id__in=ids, live=True)
        .select_related("activity", "activity__place", "activity__advisor")
        .filter(activity__deleted_at__isnull=True)
    ):
        kind = "workshop" if row.activity.kind == "collectif" else "individual"
        events.append(Event(row.activity.date, kind, accompaniment=row))
    events.sort(key=lambda e: (e.date, e.kind), reverse=True)
    return events


def upcoming_appointments(beneficiary: Beneficiary) -> list[Appointment]:
    """What the reception needs besides contact: the booked appointments still to come."""
    return list(
        Appointment.objects.filter(beneficiary_id__in=_ids(beneficiary), start__gte=timezone.now())
        .active()
        .select_related("motif", "place")
        .order_by("start")
    )


@dataclass(frozen=True)
class Statistics:
    total: int
    identified: int
    anonymous: int
    anonymised: int
    new_this_year: int
    notice_given: int
    age_bands: list[tuple[str, int]]
    genders: list[tuple[str, int]]
    social_statuses: list[tuple[str, int]]
    communes: list[tuple[str, int]]


def _by(records: BeneficiaryQuerySet, field: str, vocabulary: str) -> list[tuple[str, int]]:
    counts = dict(records.values_list(field).annotate(n=Count("pk")).order_by())
    return [(label, counts.get(code, 0)) for code, label in taxonomy.choices(vocabulary)]


def beneficiary_statistics(structure: Structure, today: dt.date | None = None) -> Statistics:
    """Aggregates of the people of a structure, without any name: what coordinators see."""
    today = today or timezone.localdate()
    records = Beneficiary.objects.of_structure(structure).current()
    # Keys prefixed: an aggregate may not share a model field's name ("anonymous").
    totals = records.aggregate(
        n_total=Count("pk"),
        n_anonymous=Count("pk", filter=Q(anonymous=True)),
        n_anonymised=Count("pk", filter=Q(anonymised_at__isnull=False)),
        n_identified=Count("pk", filter=Q(anonymous=False, anonymised_at__isnull=True)),
        n_new_this_year=Count("pk", filter=Q(created_at__year=today.year)),
        n_notice_given=Count("pk", filter=Q(notice_given_on__isnull=False)),
    )
    communes = [
        (f"{name or '—'}{f' ({insee})' if insee else ''}", n)
        for name, insee, n in records.values_list("commune", "commune_insee")
        .annotate(n=Count("pk"))
        .order_by("-n", "commune")[:30]
    ]
    return Statistics(
        **{key.removeprefix("n_"): value for key, value in totals.items()},
        age_bands=_by(records, "age_band", "beneficiary_age_band"),
        genders=_by(records, "gender", "beneficiary_gender"),
        social_statuses=_by(records, "social_status", "beneficiary_social_status"),
        communes=communes,
    )
