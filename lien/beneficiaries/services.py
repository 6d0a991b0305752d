"""Writes about the people helped: create, find or create, update, duplicates, merge,
information notice, the clock of their latest activity.

This module (with gdpr.py and importer.py) is the only one writing `Beneficiary` rows: other
apps call it. Every write is journalled; personal values (names, contact, notes) only ever go
in the entry's `personal` part, which is shredded when the person is erased.
"""

import datetime as dt
import difflib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lien import journal
from lien.accounts.models import Structure, User
from lien.appointments.models import Appointment
from lien.appointments.services import appointment_link_beneficiary
from lien.beneficiaries.models import PERSONAL_FIELDS, Beneficiary
from lien.core import taxonomy
from lien.core.text import fold
from lien.core.validators import normalise_phone, validate_insee_code, validate_postcode

IDENTITY_FIELDS = ("first_name", "last_name", "phone", "email", "notes")
PROFILE_FIELDS = ("age_band", "gender", "social_status", "commune", "commune_insee", "postcode")
EDITABLE_FIELDS = ("anonymous", *IDENTITY_FIELDS, "birth_year", *PROFILE_FIELDS)
EARLIEST_BIRTH_YEAR = 1900
NAME_SIMILARITY = 0.85


def _clean_values(values: dict[str, Any], *, today: dt.date) -> dict[str, Any]:
    """Normalise and check the editable values; raise a French ValidationError."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    cleaned = dict(values)
    for name in ("first_name", "last_name", "email", "notes", "commune", "postcode"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    errors: dict[str, list[str]] = {}
    if cleaned.get("phone"):
        try:
            cleaned["phone"] = normalise_phone(cleaned["phone"])
        except ValidationError as exc:
            errors["phone"] = exc.messages
    elif "phone" in cleaned:
        cleaned["phone"] = ""
    if cleaned.get("commune_insee"):
        try:
            cleaned["commune_insee"] = validate_insee_code(cleaned["commune_insee"])
        except ValidationError as exc:
            errors["commune_insee"] = exc.messages
    elif "commune_insee" in cleaned:
        cleaned["commune_insee"] = ""
    if cleaned.get("postcode"):
        try:
            validate_postcode(cleaned["postcode"])
        except ValidationError as exc:
            errors["postcode"] = exc.messages
    year = cleaned.get("birth_year")
    if year is not None and not (EARLIEST_BIRTH_YEAR <= year <= today.year):
        errors["birth_year"] = [
            _("L'année de naissance doit être comprise entre %(first)s et %(last)s.")
            % {"first": EARLIEST_BIRTH_YEAR, "last": today.year}
        ]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _apply(beneficiary: Beneficiary, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(beneficiary, name, value)
    if beneficiary.anonymous:
        # An anonymous person is a profile only: keep the age band, never the birth year.
        for name in IDENTITY_FIELDS:
            setattr(beneficiary, name, "")
        if beneficiary.birth_year:
            beneficiary.age_band = taxonomy.age_band(beneficiary.birth_year)
            beneficiary.birth_year = None
    elif not (beneficiary.first_name or beneficiary.last_name):
        raise ValidationError(
            {"last_name": _("Indiquez le prénom ou le nom, ou enregistrez une personne anonyme.")}
        )
    if beneficiary.birth_year:
        beneficiary.age_band = taxonomy.age_band(beneficiary.birth_year)


@transaction.atomic
def beneficiary_create(
    *, structure: Structure, actor: User, source: dict[str, Any] | None = None, **values: Any
) -> Beneficiary:
    """Record a person (identified, or anonymous with a profile only).

    The phone is normalised to +33…; the age band is computed from the birth year when it is
    known (a typed band is then ignored). `source` says where the record comes from, for the
    journal (`{"source": "appointment", "appointment": 12}`): ids and codes, no values.
    """
    values = _clean_values(values, today=timezone.localdate())
    beneficiary = Beneficiary(structure=structure, created_by=actor)
    _apply(beneficiary, values)
    beneficiary.full_clean()
    beneficiary.save()
    journal.record(
        structure=structure,
        action="beneficiary.created",
        obj=beneficiary,
        actor=actor,
        subject=beneficiary,
        data={"anonymous": beneficiary.anonymous, **(source or {})},
    )
    return beneficiary


def find_by_contact(*, structure: Structure, phone: str, email: str) -> Beneficiary | None:
    """The identified person of the structure with this phone (+33…) or e-mail, if any."""
    contact = Q()
    if phone:
        contact |= Q(phone=phone)
    if email:
        contact |= Q(email__iexact=email)
    if not contact:
        return None
    people = Beneficiary.objects.of_structure(structure).identified()
    return people.filter(contact).order_by("pk").first()


@transaction.atomic
def beneficiary_find_or_create(
    *,
    structure: Structure,
    actor: User,
    first_name: str,
    last_name: str = "",
    phone: str = "",
    email: str = "",
    source: dict[str, Any] | None = None,
) -> Beneficiary:
    """The identified person with this phone or e-mail, or a new record with these details
    (an appointment's contact becoming the person of its report)."""
    found = find_by_contact(structure=structure, phone=phone, email=email)
    if found is not None:
        return found
    return beneficiary_create(
        structure=structure,
        actor=actor,
        source=source,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
    )


def beneficiaries_active_on(*, beneficiaries: list[Beneficiary], when: dt.datetime) -> None:
    """Restart the retention clock of these people at `when` (their latest accompaniment).

    Not journalled on its own: the clock is derived from the activity that moves it, which
    its service journals (`activity.created`, `activity.updated`).
    """
    Beneficiary.objects.filter(
        pk__in=[p.pk for p in beneficiaries], last_activity_at__lt=when
    ).update(last_activity_at=when)


@transaction.atomic
def beneficiary_update(
    *, beneficiary: Beneficiary, actor: User | None, **values: Any
) -> Beneficiary:
    """Change a person's record; the journal lists the changed field names only."""
    if beneficiary.anonymised_at or beneficiary.merged_into_id:
        raise ValidationError(
            _("Cette fiche a été anonymisée ou fusionnée : elle ne peut plus être modifiée.")
        )
    if values.get("anonymous") and not beneficiary.anonymous:
        raise ValidationError(
            _(
                "Pour retirer l'identité d'une personne, utilisez l'effacement de ses données "
                "personnelles."
            )
        )
    values = _clean_values(values, today=timezone.localdate())
    before = {name: getattr(beneficiary, name) for name in EDITABLE_FIELDS}
    _apply(beneficiary, values)
    changed = [name for name in EDITABLE_FIELDS if getattr(beneficiary, name) != before[name]]
    if not changed:
        return beneficiary
    beneficiary.full_clean()
    beneficiary.save()
    journal.record(
        structure=beneficiary.structure,
        action="beneficiary.updated",
        obj=beneficiary,
        actor=actor,
        subject=beneficiary,
        data={"fields": changed},
        personal={
            "before": {
                name: before[name] for name in changed if name in PERSONAL_FIELDS and before[name]
            }
        },
    )
    return beneficiary


def _names_alike(a_first: str, a_last: str, b_first: str, b_last: str) -> bool:
    a_first, a_last, b_first, b_last = map(fold, (a_first, a_last, b_first, b_last))
    if a_last and a_last == b_last and a_first[:1] and a_first[:1] == b_first[:1]:
        return True
    full = f"{a_first} {a_last}".strip()
    if not full:
        return False
    for other in (f"{b_first} {b_last}".strip(), f"{b_last} {b_first}".strip()):
        if other and difflib.SequenceMatcher(None, full, other).ratio() >= NAME_SIMILARITY:
            return True
    return False


def find_duplicates(
    *,
    structure: Structure,
    first_name: str = "",
    last_name: str = "",
    birth_year: int | None = None,
    phone: str = "",
    exclude: Beneficiary | None = None,
) -> list[Beneficiary]:
    """Identified people of the structure who are probably the same person.

    Same phone; or a similar name (accent-insensitive, ≥ 85 % alike, or same last name and
    first initial) with the same birth year.
    """
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValidationError:
            phone = ""
    condition = Q()
    if phone:
        condition |= Q(phone=phone)
    if birth_year:
        condition |= Q(birth_year=birth_year)
    if not condition:
        return []
    candidates = Beneficiary.objects.of_structure(structure).identified().filter(condition)
    if exclude is not None and exclude.pk:
        candidates = candidates.exclude(pk=exclude.pk)
    found = []
    for candidate in candidates.order_by("pk")[:500]:
        same_phone = bool(phone) and candidate.phone == phone
        if same_phone or _names_alike(
            first_name, last_name, candidate.first_name, candidate.last_name
        ):
            found.append(candidate)
    return found


def duplicates_of(beneficiary: Beneficiary) -> list[Beneficiary]:
    if not beneficiary.is_identified or beneficiary.merged_into_id:
        return []
    return find_duplicates(
        structure=beneficiary.structure,
        first_name=beneficiary.first_name,
        last_name=beneficiary.last_name,
        birth_year=beneficiary.birth_year,
        phone=beneficiary.phone,
        exclude=beneficiary,
    )


# Fields filled on the record kept when it has none (identity only between identified people).
_FILLABLE = ("first_name", "last_name", "phone", "email", "birth_year", *PROFILE_FIELDS)


@transaction.atomic
def beneficiary_merge(*, keep: Beneficiary, other: Beneficiary, actor: User) -> Beneficiary:
    """Merge `other` into `keep`: every appointment and accompaniment moves to `keep`.

    `keep`'s empty fields are filled from `other`; `other` stays as an empty record pointing at
    `keep` (`merged_into`), without personal data, so links and the journal still resolve.
    """
    if keep.pk == other.pk:
        raise ValidationError(_("Une fiche ne peut pas être fusionnée avec elle-même."))
    if keep.structure_id != other.structure_id:
        raise ValidationError(_("Ces deux fiches n'appartiennent pas à la même structure."))
    keep = Beneficiary.objects.select_for_update().get(pk=keep.pk)
    other = Beneficiary.objects.select_for_update().get(pk=other.pk)
    if keep.merged_into_id or other.merged_into_id:
        raise ValidationError(_("L'une de ces fiches a déjà été fusionnée dans une autre."))
    if keep.anonymised_at:
        raise ValidationError(_("Une fiche anonymisée ne peut pas recevoir d'autres données."))
    if keep.anonymous and other.is_identified:
        raise ValidationError(
            _("Gardez plutôt la fiche identifiée et fusionnez-y la fiche anonyme.")
        )

    # Each app moves its own rows and journals it. (activities.services imports this module.)
    from lien.activities.services import accompaniments_merge

    moved, dropped = accompaniments_merge(source=other, target=keep, actor=actor)
    appointments = 0
    for appointment in Appointment.objects.filter(beneficiary=other).order_by("pk"):
        appointment_link_beneficiary(appointment=appointment, beneficiary=keep, actor=actor)
        appointments += 1
    Beneficiary.objects.filter(merged_into=other).update(merged_into=keep)

    filled = []
    for name in _FILLABLE:
        empty = getattr(keep, name) in ("", None, taxonomy.NOT_GIVEN)
        if empty and getattr(other, name) not in ("", None, taxonomy.NOT_GIVEN):
            if keep.anonymous and name in (*IDENTITY_FIELDS, "birth_year"):
                continue
            setattr(keep, name, getattr(other, name))
            filled.append(name)
    if other.notes and not keep.anonymous and other.notes not in keep.notes:
        keep.notes = f"{keep.notes}\n\n{other.notes}".strip()[:5000]
        filled.append("notes")
    if other.notice_given_on and (
        not keep.notice_given_on or other.notice_given_on < keep.notice_given_on
    ):
        keep.notice_given_on = other.notice_given_on
        filled.append("notice_given_on")
    keep.last_activity_at = max(keep.last_activity_at, other.last_activity_at)
    keep.created_at = min(keep.created_at, other.created_at)
    keep.full_clean()
    keep.save()

    for name in IDENTITY_FIELDS:
        setattr(other, name, "")
    other.birth_year = None
    other.merged_into = keep
    other.anonymised_at = other.anonymised_at or timezone.now()
    other.save()

    data = {
        "kept": keep.pk,
        "merged": other.pk,
        "accompaniments_moved": moved,
        "accompaniments_dropped": dropped,
        "appointments_moved": appointments,
        "filled": filled,
    }
    for subject in (keep, other):
        journal.record(
            structure=keep.structure,
            action="beneficiary.merged",
            obj=subject,
            actor=actor,
            subject=subject,
            data=data,
        )
    return keep


@transaction.atomic
def notice_given(*, beneficiary: Beneficiary, on: dt.date, actor: User) -> Beneficiary:
    """Record the day the person was given the information notice."""
    if not beneficiary.is_identified or beneficiary.merged_into_id:
        raise ValidationError(
            _("La notice d'information ne concerne que les personnes identifiées.")
        )
    if on > timezone.localdate():
        raise ValidationError(_("La date de remise ne peut pas être dans le futur."))
    beneficiary.notice_given_on = on
    beneficiary.save(update_fields=["notice_given_on", "updated_at"])
    journal.record(
        structure=beneficiary.structure,
        action="beneficiary.notice_given",
        obj=beneficiary,
        actor=actor,
        subject=beneficiary,
        data={"on": on.isoformat()},
    )
    return beneficiary
