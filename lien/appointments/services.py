"""Writes for appointments: book, move, cancel, set status, record a walk-in, link to a
person's record, anonymise; motifs, absences, the booking policy.

This app's models are written here (and by notifications.py, delivery.py and feeds.py for
messages and feeds) only: other apps call these functions. Every write journals who did it: a
staff member (`actor`), the resident's link, the worker or an operator (`actor_label`).
"""

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lien import journal
from lien.accounts.models import Structure, User
from lien.appointments import notifications
from lien.appointments.models import (
    ACTIVE_STATUSES,
    HOLDING_STATUSES,
    Absence,
    Appointment,
    BookingPolicy,
    Channel,
    LocationType,
    Message,
    MessageKind,
    Motif,
    Status,
)
from lien.appointments.selectors import slots_for
from lien.appointments.slots import Slot
from lien.beneficiaries.models import Beneficiary
from lien.core import timefmt
from lien.core.changes import changed_fields
from lien.core.validators import normalise_phone
from lien.places.models import Place

RESIDENT_LINK = "resident-link"


class SlotTaken(Exception):
    """The chosen time was booked meanwhile; `alternatives` are the next free slots."""

    def __init__(self, alternatives: list[Slot]) -> None:
        super().__init__(_("Ce créneau vient d'être réservé."))
        self.alternatives = alternatives


def policy_for(structure: Structure) -> BookingPolicy:
    """The structure's booking policy; the default one is created the first time it is needed."""
    policy = BookingPolicy.objects.filter(structure=structure).first()
    if policy is not None:
        return policy
    try:
        return booking_policy_save(
            policy=BookingPolicy(structure=structure, reminders=BookingPolicy.DEFAULT_REMINDERS),
            actor=None,
            actor_label="system",
        )
    except (IntegrityError, ValidationError):
        # Created meanwhile by a concurrent request (one policy per structure).
        return BookingPolicy.objects.get(structure=structure)


@transaction.atomic
def booking_policy_save(
    *, policy: BookingPolicy, actor: User | None, actor_label: str = ""
) -> BookingPolicy:
    """Create or change a structure's reminders and open-booking cap (operators, in the admin)."""
    created = policy.pk is None
    policy.full_clean()
    changed = changed_fields(policy)
    policy.save()
    who: dict[str, Any] = {
        "structure": policy.structure,
        "obj": policy,
        "actor": actor,
        "actor_label": actor_label,
    }
    if created:
        journal.record(action="booking_policy.created", **who)
    elif changed:
        journal.record(action="booking_policy.updated", data={"fields": changed}, **who)
    return policy


def _contact(phone: str, email: str) -> tuple[str, str]:
    phone = normalise_phone(phone) if phone else ""
    email = (email or "").strip().lower()
    return phone, email


def _lock_contact(structure: Structure, *keys: str) -> None:
    """Serialise the bookings of one contact until the transaction ends (PostgreSQL).

    Without it, two simultaneous bookings with the same phone could both pass the open-booking
    cap. SQLite needs nothing: its IMMEDIATE transactions already serialise every writer.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(k for k in keys if k):  # one order everywhere: no deadlock
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"lien:contact:{structure.pk}:{key}"],
            )


def _journal(
    appointment: Appointment, action: str, actor: User | None, data: dict | None = None
) -> None:
    """Journal a change to an appointment, about its person, by staff or the resident's link."""
    journal.record(
        structure=appointment.structure,
        action=action,
        obj=appointment,
        subject=appointment.beneficiary_id,
        actor=actor,
        actor_label="" if actor else RESIDENT_LINK,
        data=data,
    )


def _check_open_cap(structure: Structure, phone: str, email: str) -> None:
    _lock_contact(structure, phone, email)
    cap = policy_for(structure).max_open_per_contact
    open_ = Appointment.objects.of_structure(structure).filter(
        status=Status.UNKNOWN, start__gt=timezone.now()
    )
    for field, value in (("phone", phone), ("email", email)):
        if value and open_.filter(**{field: value}).count() >= cap:
            raise ValidationError(
                _(
                    "Vous avez déjà %(n)d rendez-vous à venir. Annulez-en un ou appelez-nous "
                    "pour en prendre un autre."
                )
                % {"n": cap}
            )


def _alternatives(
    motif: Motif, place: Place | None, staff: bool, now: dt.datetime | None = None, limit: int = 3
) -> list[Slot]:
    from lien.appointments.selectors import distinct_times

    return distinct_times(slots_for(motif, place=place, staff=staff, now=now))[:limit]


@transaction.atomic
def appointment_book(
    *,
    motif: Motif,
    start: dt.datetime,
    place: Place | None,
    first_name: str,
    last_name: str = "",
    phone: str = "",
    email: str = "",
    note: str = "",
    address: str = "",
    channel: str = Channel.ONLINE,
    actor: User | None = None,
    now: dt.datetime | None = None,
    beneficiary: Beneficiary | None = None,
    advisor: User | None = None,
) -> Appointment:
    """Book `motif` at `start` with any advisor free then (or with `advisor`, when staff
    chose one); raise SlotTaken if none is.

    Staff may book for a known person (`beneficiary`, of the motif's structure): the
    appointment is linked to their record, so its report finds them.

    Residents (channel online) are held to the motif's delays and to the cap of open
    bookings per contact; staff are not held to the minimum delay.
    """
    staff = channel != Channel.ONLINE
    if motif.location_type == LocationType.PUBLIC_OFFICE:
        if place is None or not motif.places.filter(pk=place.pk).exists():
            raise ValidationError(_("Ce motif n'est pas proposé dans ce lieu."))
    else:
        place = None
    if beneficiary is not None and beneficiary.structure_id != motif.structure_id:
        raise ValidationError(_("Cette personne n'existe pas."))
    if not staff and not motif.bookable_by_residents:
        raise ValidationError(_("Ce rendez-vous se prend uniquement par téléphone."))
    phone, email = _contact(phone, email)
    if channel != Channel.WALK_IN and not (phone or email):
        raise ValidationError(
            _(
                "Indiquez un numéro de téléphone ou une adresse e-mail pour "
                "que nous puissions vous prévenir."
            )
        )
    if channel == Channel.ONLINE:
        _check_open_cap(motif.structure, phone, email)
    candidates = [
        s
        for s in slots_for(motif, place=place, now=now, staff=staff)
        if s.start == start
        and (place is None or s.place_id == place.pk)
        and (advisor is None or s.advisor_id == advisor.pk)
    ]
    if not candidates:
        _check_window(motif, start, now=now or timezone.now(), staff=staff)
        raise SlotTaken(_alternatives(motif, place, staff, now))
    buffer = dt.timedelta(minutes=motif.buffer_minutes)
    for slot in candidates:
        blocked_start, blocked_end = slot.blocked(buffer)
        appointment = Appointment(
            structure=motif.structure,
            motif=motif,
            advisor_id=slot.advisor_id,
            location_type=motif.location_type,
            place=place,
            start=slot.start,
            end=slot.end,
            blocked_start=blocked_start,
            blocked_end=blocked_end,
            channel=channel,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            phone=phone,
            email=email,
            note=note.strip(),
            address=address.strip(),
            beneficiary=beneficiary,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        appointment.full_clean()
        if _overlaps(appointment):
            continue  # SQLite: the write lock is held, so this check is authoritative
        try:
            with transaction.atomic():
                appointment.save()
        except IntegrityError:
            continue  # PostgreSQL: a concurrent booking won this advisor's time
        _journal(
            appointment,
            "appointment.booked",
            actor,
            data={"channel": channel, "start": appointment.start.isoformat(), "motif": motif.pk},
        )
        notifications.schedule_for(appointment, MessageKind.CONFIRMATION)
        return appointment
    raise SlotTaken(_alternatives(motif, place, staff, now))


def _check_window(motif: Motif, start: dt.datetime, *, now: dt.datetime, staff: bool) -> None:
    """A clear message when the time is outside what this motif allows."""
    if start <= now:
        raise ValidationError(_("Ce moment est déjà passé. Choisissez un autre créneau."))
    if not staff and start < now + dt.timedelta(hours=motif.min_delay_hours):
        raise ValidationError(
            _(
                "Ce rendez-vous se prend au moins %(h)d heures à l'avance. Choisissez un créneau "
                "plus tard ou appelez-nous."
            )
            % {"h": motif.min_delay_hours}
        )
    if start > now + dt.timedelta(days=motif.max_delay_days):
        raise ValidationError(
            _("Ce rendez-vous se prend au plus %(d)d jours à l'avance.")
            % {"d": motif.max_delay_days}
        )


def _overlaps(appointment: Appointment) -> bool:
    others = Appointment.objects.holding().filter(
        advisor_id=appointment.advisor_id,
        blocked_start__lt=appointment.blocked_end,
        blocked_end__gt=appointment.blocked_start,
    )
    if appointment.pk:
        others = others.exclude(pk=appointment.pk)
    return others.exists()


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, actor: User | None = None) -> Appointment:
    """Cancel: by the resident (excused) when no staff actor, else by the service (revoked).

    The slot is free at once; pending reminders are withdrawn; the person is told.
    """
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status not in ACTIVE_STATUSES:
        return appointment
    if appointment.end <= timezone.now():
        raise ValidationError(_("Ce rendez-vous est passé : il ne peut plus être annulé."))
    appointment.status = Status.REVOKED if actor else Status.EXCUSED
    appointment.cancelled_at = timezone.now()
    appointment.save(update_fields=["status", "cancelled_at"])
    notifications.withdraw_pending(appointment)
    notifications.schedule_for(appointment, MessageKind.CANCELLATION)
    _journal(appointment, "appointment.cancelled", actor, data={"status": appointment.status})
    return appointment


@transaction.atomic
def appointment_move(
    *,
    appointment: Appointment,
    start: dt.datetime,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move to another free time of the same motif and place (any free advisor)."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status != Status.UNKNOWN:
        raise ValidationError(_("Seul un rendez-vous à venir peut être déplacé."))
    staff = actor is not None
    candidates = [
        s
        for s in slots_for(
            appointment.motif,
            place=appointment.place,
            now=now,
            staff=staff,
            exclude_pk=appointment.pk,
        )
        if s.start == start
    ]
    # Prefer keeping the same advisor.
    candidates.sort(key=lambda s: s.advisor_id != appointment.advisor_id)
    buffer = dt.timedelta(minutes=appointment.motif.buffer_minutes)
    old_start = appointment.start
    for slot in candidates:
        appointment.advisor_id = slot.advisor_id
        appointment.start, appointment.end = slot.start, slot.end
        appointment.blocked_start, appointment.blocked_end = slot.blocked(buffer)
        if _overlaps(appointment):
            continue
        try:
            with transaction.atomic():
                appointment.save()
        except IntegrityError:
            continue
        notifications.withdraw_pending(appointment)
        notifications.schedule_for(appointment, MessageKind.CHANGE)
        _journal(
            appointment,
            "appointment.moved",
            actor,
            data={"from": old_start.isoformat(), "to": start.isoformat()},
        )
        return appointment
    raise SlotTaken(_alternatives(appointment.motif, appointment.place, staff, now))


@transaction.atomic
def appointment_set_status(*, appointment: Appointment, status: str, actor: User) -> Appointment:
    """Record what happened: seen, no-show, excused, revoked (or back to unknown)."""
    if status not in Status.values:
        raise ValidationError(_("Statut inconnu."))
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if status in (Status.SEEN, Status.NOSHOW) and appointment.start > timezone.now():
        raise ValidationError(_("Ce rendez-vous n'a pas encore eu lieu."))
    previous = appointment.status
    if previous == status:
        return appointment
    appointment.status = status
    if status in HOLDING_STATUSES and _overlaps(appointment):
        raise ValidationError(_("Ce créneau a été repris par un autre rendez-vous."))
    tell_resident = False
    if status not in ACTIVE_STATUSES and previous in ACTIVE_STATUSES:
        appointment.cancelled_at = timezone.now()
        notifications.withdraw_pending(appointment)
        tell_resident = appointment.start > timezone.now()
    try:
        with transaction.atomic():
            appointment.save(update_fields=["status", "cancelled_at"])
    except IntegrityError as exc:
        raise ValidationError(_("Ce créneau a été repris par un autre rendez-vous.")) from exc
    if tell_resident:
        notifications.schedule_for(appointment, MessageKind.CANCELLATION)
    _journal(
        appointment, "appointment.status_changed", actor, data={"from": previous, "to": status}
    )
    return appointment


@transaction.atomic
def appointment_record_walk_in(
    *,
    motif: Motif,
    advisor: User,
    place: Place | None,
    actor: User,
    first_name: str = "",
    start: dt.datetime | None = None,
    beneficiary: Beneficiary | None = None,
) -> Appointment:
    """Someone came without an appointment and was helped: recorded as seen.

    A walk-in happens on site (a motif taken at a place) and has happened: `start` (now by
    default) may not be later than now. For a person on record (`beneficiary`) the appointment
    is linked to their record and named after it, so its report finds them; otherwise
    `first_name` is all that is kept (« Personne accueillie » without one).
    """
    now = timezone.now()
    start = start or now.replace(second=0, microsecond=0)
    if motif.location_type != LocationType.PUBLIC_OFFICE:
        raise ValidationError(
            _("Un passage sans rendez-vous a lieu sur place : choisissez un motif sur place.")
        )
    if place is not None and place.structure_id != motif.structure_id:
        raise ValidationError(_("Ce lieu n'existe pas."))
    if beneficiary is not None and beneficiary.structure_id != motif.structure_id:
        raise ValidationError(_("Cette personne n'existe pas."))
    if start > now:
        raise ValidationError(
            _("L'heure d'arrivée est encore à venir : indiquez une heure passée.")
        )
    end = start + dt.timedelta(minutes=motif.duration)
    # The walk-in ended when the advisor's next appointment began, at the latest.
    following = (
        Appointment.objects.holding()
        .filter(advisor=advisor, blocked_start__gt=start, blocked_start__lt=end)
        .order_by("blocked_start")
        .values_list("blocked_start", flat=True)
        .first()
    )
    if following is not None:
        end = following
    underway = (
        Appointment.objects.holding()
        .filter(advisor=advisor, blocked_start__lte=start, blocked_end__gt=start)
        .order_by("blocked_start")
        .first()
    )
    shortened = None
    if underway is not None and underway.channel == Channel.WALK_IN and underway.start < start:
        # The previous walk-in's end was the motif's length, a guess: this arrival ends it.
        shortened = underway
    elif underway is not None:
        times = {"start": timefmt.hour(underway.start), "end": timefmt.hour(underway.end)}
        if underway.status == Status.UNKNOWN:
            message = _(
                "Un rendez-vous de %(start)s à %(end)s est prévu à cette heure-là : s'il n'a pas "
                "eu lieu, marquez-le « Absent·e » ou « Excusé·e », sinon indiquez une heure "
                "d'arrivée après sa fin."
            )
        else:
            message = _(
                "Vous receviez déjà quelqu'un de %(start)s à %(end)s : indiquez une heure "
                "d'arrivée après sa fin."
            )
        raise ValidationError(message % times)
    if beneficiary is not None:
        first_name, last_name = beneficiary.first_name, beneficiary.last_name
    else:
        last_name = ""
    appointment = Appointment(
        structure=motif.structure,
        motif=motif,
        advisor=advisor,
        location_type=motif.location_type,
        place=place,
        start=start,
        end=end,
        blocked_start=start,
        blocked_end=end,
        status=Status.SEEN,
        channel=Channel.WALK_IN,
        first_name=first_name.strip() or _("Personne accueillie"),
        last_name=last_name.strip(),
        beneficiary=beneficiary,
        created_by=actor,
    )
    appointment.full_clean()
    if shortened is not None:
        shortened = Appointment.objects.select_for_update().get(pk=shortened.pk)
        shortened.end = shortened.blocked_end = start
        shortened.save(update_fields=["end", "blocked_end"])
        _journal(shortened, "appointment.walk_in_shortened", actor, data={"end": start.isoformat()})
    if _overlaps(appointment):
        raise ValidationError(_("Un rendez-vous est déjà prévu à ce moment pour ce conseiller."))
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        raise ValidationError(
            _("Un rendez-vous est déjà prévu à ce moment pour ce conseiller.")
        ) from exc
    _journal(
        appointment,
        "appointment.walk_in_recorded",
        actor,
        data={"start": appointment.start.isoformat(), "motif": motif.pk},
    )
    return appointment


@transaction.atomic
def motif_save(
    *, motif: Motif, places: Iterable[Place], actor: User | None, actor_label: str = ""
) -> Motif:
    """Create or change a motif and the places it is offered in; journalled with the names of
    the changed fields (`places` when they changed)."""
    created = motif.pk is None
    motif.full_clean()
    changed = changed_fields(motif)
    before = set() if created else set(motif.places.values_list("pk", flat=True))
    motif.save()
    motif.places.set(places)
    if before != {p.pk for p in places} and not created:
        changed.append("places")
    who: dict[str, Any] = {
        "structure": motif.structure,
        "obj": motif,
        "actor": actor,
        "actor_label": actor_label,
    }
    if created:
        journal.record(action="motif.created", **who)
    elif changed:
        journal.record(action="motif.updated", data={"fields": changed}, **who)
    return motif


def _absence_data(absence: Absence) -> dict:
    # When and whose, never the reason: free text may say why someone is away.
    return {
        "advisor": absence.advisor_id,
        "start": absence.start.isoformat(),
        "end": absence.end.isoformat(),
    }


@transaction.atomic
def absence_create(
    *,
    structure: Structure,
    advisor: User,
    start: dt.datetime,
    end: dt.datetime,
    reason: str = "",
    actor: User,
) -> Absence:
    """Record an advisor's absence; booked appointments in it are listed for the staff."""

    absence = Absence(structure=structure, advisor=advisor, start=start, end=end, reason=reason)
    absence.full_clean()
    absence.save()
    journal.record(
        structure=structure,
        action="absence.created",
        obj=absence,
        actor=actor,
        data=_absence_data(absence),
    )
    return absence


@transaction.atomic
def absence_delete(*, absence: Absence, actor: User | None, actor_label: str = "") -> None:
    journal.record(
        structure=absence.structure,
        action="absence.deleted",
        obj=absence,
        actor=actor,
        actor_label=actor_label,
        data=_absence_data(absence),
    )
    absence.delete()


# --- Writes other apps ask for ---------------------------------------------------------------


@transaction.atomic
def appointment_link_beneficiary(
    *, appointment: Appointment, beneficiary: Beneficiary, actor: User | None
) -> Appointment:
    """Link an appointment to a person's record: the person of its report, or the record
    another was merged into. Journalled about the person (and the previous one, if any)."""
    if beneficiary.structure_id != appointment.structure_id:
        raise ValidationError(_("Cette personne n'existe pas."))
    current = Appointment.objects.select_for_update().get(pk=appointment.pk)
    previous = current.beneficiary_id
    if previous == beneficiary.pk:
        return appointment
    current.beneficiary = beneficiary
    current.save(update_fields=["beneficiary"])
    appointment.beneficiary = beneficiary
    journal.record(
        structure=appointment.structure,
        action="appointment.beneficiary_linked",
        obj=appointment,
        subject=beneficiary,
        actor=actor,
        data={"previous": previous} if previous else None,
    )
    return appointment


def _without(text: str, values: Iterable[str]) -> str:
    """`text` with every occurrence of `values` (any case) replaced by « … »."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = re.sub(re.escape(value), "…", text, flags=re.IGNORECASE)
    return text


ANONYMISED_NAME = "Personne anonymisée"
# Appointments must keep a phone or an e-mail unless they are walk-ins (CHECK constraint
# `appointment_has_contact`). The reserved `.invalid` domain (RFC 2606) can never receive
# mail, and every queued message of the person is withdrawn before this is written.
ANONYMISED_EMAIL = "personne-anonymisee@anonyme.invalid"


@transaction.atomic
def appointments_anonymise(
    *,
    structure: Structure,
    appointment_ids: Iterable[int],
    contacts: Iterable[str],
    subject: Beneficiary | int | None,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
) -> int:
    """Erase a person's data from their appointments and messages (GDPR erasure).

    The appointments lose name, contact, message and address; their queued messages are
    withdrawn; every message of the structure sent to one of `contacts` (their phones and
    e-mails) or about these appointments loses its recipient, and a delivery error quoting
    them loses the quote. One `appointment.anonymised` entry per appointment, about `subject`.
    """
    from lien.appointments.notifications import withdraw_pending

    ids = list(appointment_ids)
    contacts = {c for c in contacts if c}
    appointments = Appointment.objects.filter(pk__in=ids)
    touched = list(appointments.order_by("pk"))
    for appointment in touched:
        withdraw_pending(appointment)
    messages = Message.objects.filter(
        Q(appointment_id__in=ids) | Q(structure=structure, recipient__in=contacts)
    )
    # A delivery error may quote the address it was refused for.
    for message in messages.exclude(error="").only("pk", "error", "recipient"):
        error = _without(message.error, [message.recipient, *contacts])
        if error != message.error:
            Message.objects.filter(pk=message.pk).update(error=error)
    messages.update(recipient="")
    blank = {"first_name": ANONYMISED_NAME, "last_name": "", "note": "", "address": ""}
    appointments.filter(channel=Channel.WALK_IN).update(**blank, phone="", email="")
    appointments.exclude(channel=Channel.WALK_IN).update(**blank, phone="", email=ANONYMISED_EMAIL)
    for appointment in touched:
        journal.record(
            structure=appointment.structure,
            action="appointment.anonymised",
            obj=appointment,
            subject=subject,
            actor=actor,
            actor_label=actor_label,
            data={"reason": reason} if reason else None,
        )
    return len(touched)
