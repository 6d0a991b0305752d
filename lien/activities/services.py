"""Writes for activity reports: create, update, soft delete, and the values a report starts from.

People are written by the beneficiaries' services and appointments by the appointments' ones:
this module asks them (a person found or created from an appointment's contact, an anonymous
person, the appointment linked to its person), and they journal those changes.

The taxonomy rules live in `check_rules` and `check_counters`, used by the form (to show the
messages next to the fields) and by the services (so no caller can save a bad report); the
database repeats the essential ones as CHECK constraints.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lien import journal
from lien.accounts.models import Structure, User
from lien.activities.models import (
    EARLIEST_DATE,
    MAX_DURATION,
    Accompaniment,
    Activity,
    EntryDefaults,
    Kind,
)
from lien.activities.selectors import COUNTER_GROUPS, counters_of
from lien.appointments.models import Appointment
from lien.appointments.services import appointment_link_beneficiary
from lien.beneficiaries import services as beneficiary_services
from lien.beneficiaries.models import Beneficiary
from lien.core import taxonomy, timefmt
from lien.core.validators import validate_insee_code
from lien.places.models import Place

# Activity fields a report sets; multi-valued ones are given as lists and packed here.
PACKED = ("themes", "procedure_themes", "materials", "tags")
FIELDS = (
    "date",
    "duration",
    "place_type",
    "place",
    "commune",
    "commune_insee",
    "workshop_title",
    *PACKED,
    "procedure_text",
    "autonomy",
    "level",
    "referred",
    "referral",
    "notes",
)
MAX_PARTICIPANTS = 500


# --- Rules ----------------------------------------------------------------------------------
def check_rules(values: dict[str, Any], *, kind: str, today: dt.date | None = None) -> dict:
    """French messages by field for a report breaking the national taxonomy rules."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    day = values.get("date")
    if day is None:
        errors["date"] = _("Indiquez la date de l'activité.")
    elif day > today:
        errors["date"] = _("La date ne peut pas être dans le futur.")
    elif day < EARLIEST_DATE:
        errors["date"] = _("La date ne peut pas être antérieure au 1er janvier 2000.")
    duration = values.get("duration")
    if duration is None:
        errors["duration"] = _("Indiquez la durée de l'activité.")
    elif not 1 <= duration <= MAX_DURATION:
        errors["duration"] = _(
            "La durée doit être comprise entre 1 minute et 12 heures (720 minutes)."
        )
    themes = list(values.get("themes") or [])
    if not themes:
        errors["themes"] = _("Choisissez au moins une thématique.")
    elif any(t not in taxonomy.codes("themes") for t in themes):
        errors["themes"] = _("Thématique inconnue.")
    procedure = taxonomy.PROCEDURE_THEME in themes
    if values.get("procedure_themes") and not procedure:
        errors["procedure_themes"] = _(
            "Les démarches ne se précisent qu'avec la thématique « Aide aux démarches "
            "administratives »."
        )
    if values.get("procedure_text") and not procedure:
        errors["procedure_text"] = _(
            "La précision de la démarche ne s'indique qu'avec la thématique « Aide aux "
            "démarches administratives »."
        )
    if values.get("autonomy") and kind != Kind.INDIVIDUAL:
        errors["autonomy"] = _("L'autonomie ne s'indique que pour un accompagnement individuel.")
    if values.get("level") and kind != Kind.COLLECTIVE:
        errors["level"] = _("Le niveau ne s'indique que pour un atelier collectif.")
    place_type = values.get("place_type")
    if place_type not in taxonomy.codes("place_types"):
        errors["place_type"] = _("Choisissez le type de lieu.")
    elif place_type == "lieu_activite":
        if values.get("place") is None:
            errors["place"] = _("Choisissez le lieu d'activité.")
    elif not values.get("commune") or not values.get("commune_insee"):
        errors["commune"] = _("Indiquez la commune (nom et code INSEE) où l'activité a eu lieu.")
    else:
        try:
            validate_insee_code(values["commune_insee"])
        except ValidationError as exc:
            errors["commune_insee"] = " ".join(exc.messages)
    if values.get("referral") and not values.get("referred"):
        errors["referral"] = _(
            "La structure de réorientation ne s'indique que si la personne est réorientée."
        )
    return errors


def check_counters(counters: dict[str, int]) -> dict:
    """French messages for anonymous workshop counters that cannot describe `total` people."""
    errors: dict[str, str] = {}
    if any((counters.get(k) or 0) < 0 for k in taxonomy.COLLECTIVE_COUNTERS):
        return {"total": _("Les compteurs ne peuvent pas être négatifs.")}
    total = counters.get("total") or 0
    if total > MAX_PARTICIPANTS:
        errors["total"] = _("Pas plus de %(n)s participants anonymes.") % {"n": MAX_PARTICIPANTS}
    if (counters.get("deja_accompagne") or 0) > total:
        errors["deja_accompagne"] = _(
            "Plus de personnes déjà accompagnées que de participants anonymes."
        )
    labels = {
        "genre_": _("Les genres"),
        "tranche_age_": _("Les tranches d'âge"),
        "statut_social_": _("Les statuts"),
    }
    for prefix in COUNTER_GROUPS:
        counted = sum(counters.get(k) or 0 for k in counters if k.startswith(prefix))
        if counted > total:
            errors[f"{prefix}total"] = _(
                "%(what)s comptent %(counted)s personnes pour %(total)s participants anonymes."
            ) % {"what": labels[prefix], "counted": counted, "total": total}
    return errors


def _validated(
    values: dict[str, Any],
    kind: str,
    participants: Iterable[Beneficiary],
    counters: dict[str, int] | None,
    *,
    structure: Structure,
) -> tuple[list[Beneficiary], dict[str, int]]:
    """Check a report's values and participants; returns those that apply to its kind."""
    participants = list(participants) if kind == Kind.COLLECTIVE else []
    counters = (counters or {}) if kind == Kind.COLLECTIVE else {}
    errors = check_rules(values, kind=kind, today=timefmt.today_in(structure))
    if kind == Kind.COLLECTIVE:
        errors.update(check_counters(counters))
        if not errors and not participants and not counters.get("total"):
            errors["total"] = _("Indiquez au moins un participant.")
    _raise(errors)
    return participants, counters


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# --- Helpers --------------------------------------------------------------------------------
def _packed(values: dict[str, Any]) -> dict[str, Any]:
    out = {f: values.get(f) for f in FIELDS}
    for name in PACKED:
        out[name] = taxonomy.pack(str(v).replace("|", " ").strip() for v in values.get(name) or [])
    for name in ("commune", "commune_insee", "workshop_title", "procedure_text", "notes"):
        out[name] = (out[name] or "").strip()
    for name in ("autonomy", "level", "referral"):
        out[name] = out[name] or ""
    out["referred"] = bool(out["referred"])
    if out["place_type"] != "lieu_activite":
        out["place"] = None
    elif out["place"] is not None:
        # The place's commune, so statistics by commune need no join.
        out["commune"] = out["place"].city
        out["commune_insee"] = out["place"].insee_code or ""
    return out


def _check_scope(
    structure: Structure, *, place: Place | None, people: Iterable[Beneficiary]
) -> None:
    if place is not None and place.structure_id != structure.pk:
        raise ValidationError({"place": _("Ce lieu n'existe pas.")})
    for person in people:
        if person.structure_id != structure.pk or not person.is_identified:
            raise ValidationError(_("Cette personne n'existe pas."))


def _when(day: dt.date, structure: Structure) -> dt.datetime:
    """Noon of a report's day in the structure's zone: the instant it counts as activity."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=timefmt.zone_of(structure))


def _snapshot(
    activity: Activity, person: Beneficiary, *, first_time: bool | None = None
) -> Accompaniment:
    if first_time is None:
        first_time = not (
            Accompaniment.objects.filter(beneficiary=person, live=True, date__lte=activity.date)
            .exclude(activity=activity)
            .exists()
        )
    return Accompaniment(
        activity=activity,
        structure=activity.structure,
        date=activity.date,
        beneficiary=person,
        first_time=first_time,
        age_band=(
            taxonomy.age_band(person.birth_year, today=activity.date)
            if person.birth_year
            else person.age_band
        ),
        gender=person.gender,
        social_status=person.social_status,
        commune_insee=person.commune_insee,
    )


def _touch(people: Iterable[Beneficiary], day: dt.date, structure: Structure) -> None:
    """The retention clock of each person restarts at their latest accompaniment."""
    beneficiary_services.beneficiaries_active_on(
        beneficiaries=list(people), when=_when(day, structure)
    )


def anonymous_rows(activity: Activity, counters: dict[str, int]) -> list[Accompaniment]:
    """`total` anonymous rows whose genders, age bands and statuses add up to the counters."""
    total = counters.get("total") or 0
    columns: dict[str, list[str]] = {}
    for prefix, (attribute, codes) in COUNTER_GROUPS.items():
        column: list[str] = []
        for code in codes:
            column += [code] * (counters.get(prefix + code) or 0)
        columns[attribute] = column + [taxonomy.NOT_GIVEN] * (total - len(column))
    returning = counters.get("deja_accompagne") or 0
    return [
        Accompaniment(
            activity=activity,
            structure=activity.structure,
            date=activity.date,
            first_time=i >= returning,
            gender=columns["gender"][i],
            age_band=columns["age_band"][i],
            social_status=columns["social_status"][i],
            commune_insee=activity.commune_insee,
        )
        for i in range(total)
    ]


PROFILE_KEYS = ("age_band", "gender", "social_status", "commune", "commune_insee")


def _anonymous_person(*, structure: Structure, actor: User, profile: dict[str, Any]) -> Beneficiary:
    return beneficiary_services.beneficiary_create(
        structure=structure,
        actor=actor,
        source={"source": "activity"},
        anonymous=True,
        **{key: profile.get(key) or _blank(key) for key in PROFILE_KEYS},
    )


def _blank(key: str) -> str:
    return "" if key.startswith("commune") else taxonomy.NOT_GIVEN


def person_from_contact(*, appointment: Appointment, actor: User) -> Beneficiary:
    """The identified person of an appointment: found by phone or e-mail, or created."""
    return beneficiary_services.beneficiary_find_or_create(
        structure=appointment.structure,
        actor=actor,
        first_name=appointment.first_name,
        last_name=appointment.last_name,
        phone=appointment.phone,
        email=appointment.email,
        source={"source": "appointment", "appointment": appointment.pk},
    )


def _remember(*, user: User, structure: Structure, activity: Activity) -> None:
    """Keep what the advisor entered in this report (duration, where, materials) to offer it
    in their next one. The form never pre-ticks these values: it shows them as a sentence,
    « Comme la dernière fois : … — modifier », and keeps them unless the advisor changes or
    removes them (`ActivityForm`)."""
    values = {
        "place_type": activity.place_type,
        "place": activity.place_id,
        "commune": activity.commune,
        "commune_insee": activity.commune_insee,
        "duration": activity.duration,
        "materials": activity.material_codes,
    }
    EntryDefaults.objects.update_or_create(
        user=user, structure=structure, defaults={"values": values}
    )


# --- Services -------------------------------------------------------------------------------
@transaction.atomic
def activity_create(
    *,
    structure: Structure,
    advisor: User,
    kind: str,
    values: dict[str, Any],
    beneficiary: Beneficiary | None = None,
    profile: dict[str, Any] | None = None,
    participants: Iterable[Beneficiary] = (),
    counters: dict[str, int] | None = None,
    appointment: Appointment | None = None,
    from_contact: bool = False,
    anonymous: bool = False,
    duplicated_from: Activity | None = None,
) -> Activity:
    """Record an individual accompaniment or a collective workshop, one row per participant.

    Individual: `beneficiary`; or else, from an appointment, the person on record it is
    linked to (unless the advisor chose `anonymous`), or with `from_contact` the person found
    by its phone or e-mail or created from its details; or else an anonymous person with
    `profile`. No record is created or found unless `from_contact` asks for it.
    Collective: identified `participants` plus anonymous `counters` (national counter names).
    """
    if kind not in Kind.values:
        raise ValidationError(_("Type d'activité inconnu."))
    participants, counters = _validated(values, kind, participants, counters, structure=structure)
    fields = _packed(values)
    _check_scope(
        structure, place=fields["place"], people=[beneficiary] if beneficiary else participants
    )
    if appointment is not None:
        if appointment.structure_id != structure.pk:
            raise ValidationError(_("Ce rendez-vous n'existe pas."))
        if Activity.objects.filter(appointment=appointment).exists():
            raise ValidationError(_("Ce rendez-vous a déjà un compte rendu."))
    if kind == Kind.INDIVIDUAL and beneficiary is None and appointment is not None:
        linked = appointment.beneficiary
        if linked is not None and linked.is_identified and not anonymous:
            beneficiary = linked
        elif from_contact:
            beneficiary = person_from_contact(appointment=appointment, actor=advisor)
    if kind == Kind.INDIVIDUAL and beneficiary is None:
        beneficiary = _anonymous_person(structure=structure, actor=advisor, profile=profile or {})
    if appointment is not None and beneficiary is not None and not appointment.beneficiary_id:
        appointment_link_beneficiary(
            appointment=appointment, beneficiary=beneficiary, actor=advisor
        )

    activity = Activity(
        structure=structure,
        advisor=advisor,
        kind=kind,
        appointment=appointment,
        created_by=advisor,
        **fields,
    )
    activity.full_clean()
    activity.save()
    people = participants
    if kind == Kind.INDIVIDUAL:
        assert beneficiary is not None  # given, found from the appointment, or anonymous above
        people = [beneficiary]
    rows = []
    for person in people:
        first_time = None
        if person.anonymous:
            first_time = not (profile or {}).get("returning", False)
        rows.append(_snapshot(activity, person, first_time=first_time))
    rows += anonymous_rows(activity, counters)
    Accompaniment.objects.bulk_create(rows)
    _touch(people, activity.date, activity.structure)
    data: dict[str, Any] = {"kind": kind, "participants": len(rows)}
    if appointment is not None:
        data["appointment"] = appointment.pk
    if duplicated_from is not None:
        data["duplicated_from"] = duplicated_from.pk
    journal.record(
        structure=structure,
        action="activity.created",
        obj=activity,
        actor=advisor,
        subject=beneficiary if kind == Kind.INDIVIDUAL else None,
        data=data,
    )
    _remember(user=advisor, structure=structure, activity=activity)
    return activity


@transaction.atomic
def activity_update(
    *,
    activity: Activity,
    actor: User,
    values: dict[str, Any],
    beneficiary: Beneficiary | None = None,
    profile: dict[str, Any] | None = None,
    participants: Iterable[Beneficiary] = (),
    counters: dict[str, int] | None = None,
) -> Activity:
    """Change a report; journalled with the names of the changed fields (never their values)."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.deleted_at is not None:
        raise ValidationError(_("Ce compte rendu a été supprimé."))
    kind = activity.kind
    participants, counters = _validated(
        values, kind, participants, counters, structure=activity.structure
    )
    fields = _packed(values)
    _check_scope(
        activity.structure,
        place=fields["place"],
        people=[beneficiary] if beneficiary else participants,
    )
    changed = [
        name
        for name, value in fields.items()
        if (getattr(activity, f"{name}_id") if name == "place" else getattr(activity, name))
        != (value.pk if name == "place" and value is not None else value)
    ]
    for name, value in fields.items():
        setattr(activity, name, value)
    activity.full_clean()
    activity.save()
    rows = list(activity.accompaniments.select_related("beneficiary"))
    people: list[Beneficiary] = []
    if kind == Kind.INDIVIDUAL:
        current = rows[0] if rows else None
        person = current.beneficiary if current else None
        if beneficiary is None and current is not None and person is not None and person.anonymous:
            # Still anonymous: the same anonymous person, with the profile as now given.
            person = beneficiary_services.beneficiary_update(
                beneficiary=person,
                actor=actor,
                **{key: (profile or {}).get(key) or getattr(person, key) for key in PROFILE_KEYS},
            )
            returning = (profile or {}).get("returning", not current.first_time)
            new = _snapshot(activity, person, first_time=not returning)
        elif beneficiary is None:
            person = _anonymous_person(
                structure=activity.structure, actor=actor, profile=profile or {}
            )
            new = _snapshot(activity, person, first_time=not (profile or {}).get("returning"))
        else:
            person = beneficiary
            new = _snapshot(activity, person)
        if current is None or current.beneficiary_id != person.pk:
            changed.append("participants")
        # Keep the snapshot of the same person, taken on the day of the report.
        if current is not None and current.beneficiary_id == person.pk and not person.anonymous:
            Accompaniment.objects.filter(pk=current.pk).update(date=activity.date)
        else:
            activity.accompaniments.all().delete()
            new.save()
        people = [person]
    else:
        kept = {r.beneficiary_id: r for r in rows if r.beneficiary_id}
        wanted = {p.pk: p for p in participants}
        removed = [pk for pk in kept if pk not in wanted]
        added = [p for pk, p in wanted.items() if pk not in kept]
        anonymous_changed = counters_of(activity) != {
            k: counters.get(k) or 0 for k in taxonomy.COLLECTIVE_COUNTERS
        }
        if removed or added or anonymous_changed:
            changed.append("participants")
        activity.accompaniments.filter(beneficiary_id__in=removed).delete()
        if anonymous_changed:
            activity.accompaniments.filter(beneficiary__isnull=True).delete()
        activity.accompaniments.update(date=activity.date)
        new_rows = [_snapshot(activity, p) for p in added]
        if anonymous_changed:
            new_rows += anonymous_rows(activity, counters)
        Accompaniment.objects.bulk_create(new_rows)
        people = list(wanted.values())
    _touch(people, activity.date, activity.structure)
    journal.record(
        structure=activity.structure,
        action="activity.updated",
        obj=activity,
        actor=actor,
        subject=people[0] if kind == Kind.INDIVIDUAL else None,
        data={"fields": sorted(set(changed))},
    )
    _remember(user=actor, structure=activity.structure, activity=activity)
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, actor: User) -> Activity:
    """Soft delete: the report disappears from lists and statistics, the rows stay."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.deleted_at is not None:
        return activity
    activity.deleted_at = timezone.now()
    # The appointment may get a new report.
    activity.appointment = None
    activity.save(update_fields=["deleted_at", "appointment", "updated_at"])
    activity.accompaniments.update(live=False)
    person = None
    if activity.kind == Kind.INDIVIDUAL:
        row = activity.accompaniments.first()
        person = row.beneficiary_id if row else None
    journal.record(
        structure=activity.structure,
        action="activity.deleted",
        obj=activity,
        actor=actor,
        subject=person,
        data={"kind": activity.kind},
    )
    return activity


def activity_duplicate(*, activity: Activity) -> dict[str, Any]:
    """The values of a new report copied from `activity`, without its people and notes.

    Nothing is saved: the advisor checks the form, then `activity_create` records it.
    """
    initial: dict[str, Any] = {
        "date": timefmt.today_in(activity.structure),
        "duration": activity.duration,
        "place_type": activity.place_type,
        "place": activity.place_id,
        "commune": activity.commune,
        "commune_insee": activity.commune_insee,
        "workshop_title": activity.workshop_title,
        "themes": activity.theme_codes,
        "procedure_themes": activity.procedure_codes,
        "procedure_text": activity.procedure_text,
        "materials": activity.material_codes,
        "autonomy": activity.autonomy,
        "level": activity.level,
        "referred": activity.referred,
        "referral": activity.referral,
        "tags": activity.tag_list,
    }
    return initial


# --- Writes other apps ask for ---------------------------------------------------------------


@transaction.atomic
def accompaniments_merge(
    *, source: Beneficiary, target: Beneficiary, actor: User | None
) -> tuple[int, int]:
    """Move every accompaniment of `source` to `target` (two records of one person being
    merged); an activity both took part in keeps one row, `target`'s. Returns (moved, dropped);
    each activity touched is journalled about `target`."""
    shared = set(
        Accompaniment.objects.filter(beneficiary=target).values_list("activity_id", flat=True)
    )
    rows = Accompaniment.objects.filter(beneficiary=source)
    touched = set(rows.values_list("activity_id", flat=True))
    duplicates = rows.filter(activity_id__in=shared)
    dropped = duplicates.count()
    duplicates.delete()
    moved = Accompaniment.objects.filter(beneficiary=source).update(beneficiary=target)
    for activity in Activity.objects.filter(pk__in=touched).order_by("pk"):
        journal.record(
            structure=activity.structure,
            action="activity.participant_merged",
            obj=activity,
            actor=actor,
            subject=target,
            data={"from": source.pk, "to": target.pk},
        )
    return moved, dropped


@transaction.atomic
def activity_notes_erase(
    *,
    beneficiary_ids: list[int],
    subject: Beneficiary | int | None,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
) -> int:
    """Empty the notes of the individual activities of these people (GDPR erasure); a
    workshop's notes are about a group and stay. Each report emptied is journalled."""
    emptied = list(
        Activity.objects.filter(
            kind=Kind.INDIVIDUAL, accompaniments__beneficiary_id__in=beneficiary_ids
        )
        .exclude(notes="")
        .distinct()
        .order_by("pk")
    )
    Activity.objects.filter(pk__in=[a.pk for a in emptied]).update(notes="")
    for activity in emptied:
        journal.record(
            structure=activity.structure,
            action="activity.notes_erased",
            obj=activity,
            actor=actor,
            actor_label=actor_label,
            subject=subject,
            data={"fields": ["notes"], **({"reason": reason} if reason else {})},
        )
    return len(emptied)
