"""GDPR by design: what is held about one person, their erasure, and retention.

- `access_export()` gathers everything held about one person (right of access, art. 15).
- `erase()` anonymises a person: identity, contact and free-text notes go; the statistical
  profile (age band, gender, social status, commune) stays, and accompaniments carry their own
  snapshot, so statistics do not move. The journal keeps its rows; their personal values are
  shredded.
- `apply_retention()` runs `erase()` for every person inactive for their structure's
  `retention_months` (the worker does it daily, `manage.py retention --dry-run` reports).

Months are counted as 30.44 days (the mean Gregorian month): 12 months = 365 days. Retention
only needs a stable, documented cut-off, not calendar arithmetic, and no date library is
needed for it.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien import journal
from lien.accounts.models import Structure
from lien.accounts.services import structure_save
from lien.activities.models import Accompaniment, Activity, Kind
from lien.activities.services import activity_notes_erase
from lien.appointments.models import Appointment
from lien.appointments.services import ANONYMISED_NAME as ANONYMISED_NAME  # erased bookings
from lien.appointments.services import appointments_anonymise
from lien.beneficiaries.models import PERSONAL_FIELDS, Beneficiary
from lien.core import taxonomy, timefmt
from lien.journal import actions
from lien.journal.models import JournalEntry

log = logging.getLogger("lien.gdpr")

DAYS_PER_MONTH = 30.44
# What erasure writes in each personal field of the person.
EMPTY_VALUES = {name: None if name == "birth_year" else "" for name in PERSONAL_FIELDS}


def _merged_ids(beneficiary: Beneficiary) -> list[int]:
    """Pks of every record merged into this one, directly or through a chain of merges."""
    found: list[int] = []
    frontier = [beneficiary.pk]
    while frontier:
        frontier = list(
            Beneficiary.objects.filter(merged_into__in=frontier)
            .exclude(pk__in=[beneficiary.pk, *found])
            .values_list("pk", flat=True)
        )
        found.extend(frontier)
    return found


def _contacts(people) -> tuple[set[str], set[str]]:
    """The phones and e-mails of these records, as appointments and messages store them
    (+33…, lower-case)."""
    phones = {p.phone for p in people if p.phone}
    emails = {p.email.strip().lower() for p in people if p.email.strip()}
    return phones, emails


def _appointments_of(person: Beneficiary, ids: list[int], phones: set[str], emails: set[str]):
    """The person's appointments: linked to one of their records, or made in the structure with
    their phone or e-mail (an online booking is linked to no record; the contact given is
    theirs all the same, whoever typed it)."""
    by_contact = Q(phone__in=phones) | Q(email__in=emails)
    return Appointment.objects.filter(
        Q(beneficiary_id__in=ids) | (Q(structure_id=person.structure_id) & by_contact)
    )


def _profile(person: Beneficiary) -> dict[str, Any]:
    return {
        "id": person.pk,
        "anonyme": person.anonymous,
        "prenom": person.first_name,
        "nom": person.last_name,
        "telephone": person.phone,
        "email": person.email,
        "annee_de_naissance": person.birth_year,
        "tranche_d_age": taxonomy.label("beneficiary_age_band", person.age_band),
        "genre": taxonomy.label("beneficiary_gender", person.gender),
        "statut": taxonomy.label("beneficiary_social_status", person.social_status),
        "commune": person.commune,
        "code_insee": person.commune_insee,
        "code_postal": person.postcode,
        "notes": person.notes,
        "notice_d_information_remise_le": person.notice_given_on,
        "enregistree_le": person.created_at,
        "derniere_activite_le": person.last_activity_at,
        "anonymisee_le": person.anonymised_at,
    }


def access_export(beneficiary: Beneficiary) -> dict[str, Any]:
    """Everything held about one person, as JSON-serialisable data (right of access)."""
    return json.loads(json.dumps(collect(beneficiary), cls=DjangoJSONEncoder))


def collect(beneficiary: Beneficiary) -> dict[str, Any]:
    """Everything held about one person, dates as Python objects (for the printable page).

    Covers the profile, the appointments with the contact details given, the accompaniments
    (notes only of individual activities: a workshop's notes are about a group), the journal
    entries about the person with their personal values, and the records merged into them.
    """
    ids = [beneficiary.pk, *_merged_ids(beneficiary)]
    phones, emails = _contacts(Beneficiary.objects.filter(pk__in=ids))
    appointments = (
        _appointments_of(beneficiary, ids, phones, emails)
        .select_related("motif", "place")
        .order_by("start")
    )
    accompaniments = (
        Accompaniment.objects.filter(beneficiary_id__in=ids)
        .select_related("activity", "activity__place")
        .order_by("date", "pk")
    )
    entries = (
        JournalEntry.objects.filter(
            Q(subject_id__in=ids) | Q(object_type="beneficiary", object_id__in=ids)
        )
        .select_related("actor")
        .order_by("at", "pk")
    )
    return {
        "structure": beneficiary.structure.name,
        "exporte_le": timezone.now(),
        "personne": _profile(beneficiary),
        "rendez_vous": [
            {
                "date": a.start,
                "motif": a.motif.title,
                "lieu": a.place.name if a.place else a.get_location_type_display(),
                "statut": a.get_status_display(),
                "coordonnees_donnees": {
                    "prenom": a.first_name,
                    "nom": a.last_name,
                    "telephone": a.phone,
                    "email": a.email,
                    "adresse": a.address,
                },
                "message": a.note,
            }
            for a in appointments
        ],
        "accompagnements": [_accompaniment(row) for row in accompaniments],
        "journal": [
            {
                "le": e.at,
                "action": e.action,
                "quoi": actions.label(e.action),  # in words, for the person reading it
                "par": str(e.actor) if e.actor else e.actor_label,
                "valeurs_personnelles": e.personal,
                "effacees": e.shredded,
            }
            for e in entries
        ],
        "fiches_fusionnees": [
            _profile(p) for p in Beneficiary.objects.filter(pk__in=ids[1:]).order_by("pk")
        ],
    }


def _accompaniment(row: Accompaniment) -> dict[str, Any]:
    activity: Activity = row.activity
    individual = activity.kind == Kind.INDIVIDUAL
    if activity.place:
        place = activity.place.name
    else:
        place = activity.commune or taxonomy.label("place_types", activity.place_type)
    return {
        "date": row.date,
        "type": activity.get_kind_display(),
        "thematiques": activity.theme_labels,
        "demarches": [taxonomy.label("procedure_themes", c) for c in activity.procedure_codes],
        "demarche_en_mots": activity.procedure_text,
        "duree_minutes": activity.duration,
        "lieu": place,
        "atelier": activity.workshop_title,
        "notes": activity.notes if individual else "",
        "supprime": activity.deleted_at is not None,
    }


@transaction.atomic
def erase(
    beneficiary: Beneficiary, *, actor=None, actor_label: str = "", reason: str = "request"
) -> bool:
    """Anonymise one person and every record merged into them; returns False if already done.

    Empties the identity, contact and notes (the statistical profile stays); has their
    appointments anonymised, linked to the record or not (an online booking made with their
    phone or e-mail is theirs too), their queued messages withdrawn and every recipient that was
    their phone or e-mail blanked (appointments' services), the notes of their individual
    activities emptied (activities' services); shreds the personal values of the journal
    entries about them; journals `beneficiary.erased`.
    """
    person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    if person.anonymised_at is not None:
        return False
    ids = [person.pk, *_merged_ids(person)]
    now = timezone.now()
    people = list(Beneficiary.objects.select_for_update().filter(pk__in=ids))
    phones, emails = _contacts(people)
    appointment_ids = list(
        _appointments_of(person, ids, phones, emails).values_list("pk", flat=True)
    )
    for record in people:
        for name, value in EMPTY_VALUES.items():
            setattr(record, name, value)
        record.anonymised_at = record.anonymised_at or now
        record.save(update_fields=[*EMPTY_VALUES, "anonymised_at"])

    who = {"actor": actor, "actor_label": actor_label}
    appointments_anonymise(
        structure=person.structure,
        appointment_ids=appointment_ids,
        contacts=[*phones, *emails],
        subject=person,
        reason=reason,
        **who,
    )
    activity_notes_erase(beneficiary_ids=ids, subject=person, reason=reason, **who)

    journal.shred(subject_ids=ids)
    journal.record(
        structure=person.structure,
        action="beneficiary.erased",
        obj=person,
        actor=actor,
        actor_label=actor_label,
        subject=person,
        data={"reason": reason, "merged_records": len(ids) - 1},
    )
    beneficiary.refresh_from_db()
    return True


def cutoff(months: int, now: dt.datetime) -> dt.datetime:
    """The instant before which a person counts as inactive (a month is 30.44 days)."""
    return now - dt.timedelta(days=round(DAYS_PER_MONTH * months))


def retention_candidates(structure: Structure, now: dt.datetime | None = None, horizon: int = 0):
    """Identified people whose last activity is older than the structure's retention period.

    Activity is the latest of their own `last_activity_at`, their latest accompaniment and
    their latest appointment (a future appointment keeps them). `horizon` (days) looks ahead:
    who will be a candidate that many days from now.
    """
    moment = (now or timezone.now()) + dt.timedelta(days=horizon)
    limit = cutoff(structure.retention_months, moment)
    limit_day = limit.astimezone(timefmt.zone_of(structure)).date()
    recent_accompaniment = Accompaniment.objects.filter(
        beneficiary=OuterRef("pk"), date__gte=limit_day
    )
    recent_appointment = Appointment.objects.filter(beneficiary=OuterRef("pk"), start__gte=limit)
    return (
        Beneficiary.objects.of_structure(structure)
        .identified()
        .filter(last_activity_at__lt=limit)
        .exclude(Exists(recent_accompaniment))
        .exclude(Exists(recent_appointment))
        .order_by("pk")
    )


@dataclass
class StructureRetention:
    slug: str
    name: str
    months: int
    pks: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def apply_retention(
    now: dt.datetime | None = None, dry_run: bool = False, structure: Structure | None = None
) -> list[StructureRetention]:
    """Anonymise the inactive people of every structure (or one); `dry_run` writes nothing.

    Each person is erased in their own transaction, so one failure neither blocks nor undoes
    the others; it is logged and reported.
    """
    now = now or timezone.now()
    structures = [structure] if structure else Structure.objects.order_by("slug")
    report: list[StructureRetention] = []
    for current in structures:
        line = StructureRetention(current.slug, current.name, current.retention_months)
        for person in retention_candidates(current, now=now):
            if not dry_run:
                try:
                    erase(person, actor_label="worker", reason="retention")
                except Exception:
                    log.exception("retention: erasing beneficiary %s failed", person.pk)
                    line.failed.append(person.pk)
                    continue
            line.pks.append(person.pk)
        report.append(line)
    return report


@transaction.atomic
def retention_set(*, structure: Structure, months: int, actor) -> Structure:
    """Change how long the personal data of inactive people is kept (coordinators)."""
    from django.core.exceptions import ValidationError

    if not 1 <= months <= 120:
        raise ValidationError(_("La durée de conservation va de 1 à 120 mois."))
    structure.retention_months = months
    return structure_save(structure=structure, actor=actor)
