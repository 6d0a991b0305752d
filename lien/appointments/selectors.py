"""Reads for appointments: availability windows, busy time and slots for one motif."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BigIntegerField, Func, QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from lien import journal
from lien.accounts.models import Membership, Structure
from lien.accounts.permissions import can
from lien.appointments.models import Absence, Appointment, LocationType, Message, Motif
from lien.appointments.slots import Busy, Slot, Window, compute_slots
from lien.core import timefmt
from lien.places.models import Place
from lien.schedule.selectors import occurrences_between

STEP = dt.timedelta(minutes=15)


def windows_for(
    motif: Motif, start: dt.date, end: dt.date, place: Place | None = None
) -> list[Window]:
    """Occurrences of the presences that can host this motif, as availability windows."""
    if motif.location_type == LocationType.PUBLIC_OFFICE:
        place_ids = set(motif.places.values_list("pk", flat=True))
        if place is not None:
            place_ids &= {place.pk}
        found = [
            o for o in occurrences_between(motif.structure, start, end) if o.place_id in place_ids
        ]
    else:
        found = [
            o
            for o in occurrences_between(motif.structure, start, end)
            if o.place_id is None and o.mode == motif.location_type
        ]
    return [Window(o.start, o.end, o.advisor_id, o.place_id) for o in found]


def busy_for(
    structure: Structure,
    advisor_ids: set[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    exclude_pk: int | None = None,
) -> list[Busy]:
    """Absences and active appointments (whatever their structure: one person, one agenda)."""
    busy = [
        Busy(a, b, adv)
        for a, b, adv in Absence.objects.filter(
            advisor_id__in=advisor_ids, start__lt=end, end__gt=start
        ).values_list("start", "end", "advisor_id")
    ]
    appointments = Appointment.objects.holding().filter(
        advisor_id__in=advisor_ids, blocked_start__lt=end, blocked_end__gt=start
    )
    if exclude_pk:
        appointments = appointments.exclude(pk=exclude_pk)
    # Thousands of rows: fetch epoch seconds, not datetimes (converting each timestamp in
    # Python costs more than the query; see docs/PERFORMANCE.md).
    busy += [
        Busy(a, b, adv)
        for a, b, adv in appointments.annotate(
            s=EpochSeconds("blocked_start"), e=EpochSeconds("blocked_end")
        ).values_list("s", "e", "advisor_id")
    ]
    return busy


class EpochSeconds(Func):
    """A timestamp column as whole seconds since 1970-01-01 UTC, computed by the database."""

    output_field = BigIntegerField()

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, Any]:
        if connection.vendor == "postgresql":
            template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS bigint)"
        else:  # SQLite stores UTC text timestamps
            template = "CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0) AS INTEGER)"
        return super().as_sql(compiler, connection, function, template, arg_joiner, **extra_context)


def slots_for(
    motif: Motif,
    *,
    place: Place | None = None,
    now: dt.datetime | None = None,
    staff: bool = False,
    exclude_pk: int | None = None,
    days: int | None = None,
) -> list[Slot]:
    """Bookable slots for a motif. Staff bookings ignore the minimum delay."""
    now = now or timezone.now()
    max_delay = dt.timedelta(days=days if days is not None else motif.max_delay_days)
    min_delay = dt.timedelta(0) if staff else dt.timedelta(hours=motif.min_delay_hours)
    today = now.astimezone(timefmt.zone_of(motif.structure)).date()
    windows = windows_for(motif, today, today + max_delay + dt.timedelta(days=1), place)
    if not windows:
        return []
    advisors = {w.advisor_id for w in windows}
    buffer = dt.timedelta(minutes=motif.buffer_minutes)
    busy = busy_for(
        motif.structure,
        advisors,
        min(w.start for w in windows) - buffer,
        max(w.end for w in windows) + buffer,
        exclude_pk=exclude_pk,
    )
    return compute_slots(
        windows=windows,
        busy=busy,
        duration=dt.timedelta(minutes=motif.duration),
        now=now,
        min_delay=min_delay,
        max_delay=max_delay,
        buffer=buffer,
        step=STEP,
    )


def distinct_times(slots: list[Slot]) -> list[Slot]:
    """One slot per (start, place): residents choose a time, not an advisor."""
    seen: set[tuple] = set()
    out = []
    for slot in slots:
        key = (slot.start, slot.place_id)
        if key not in seen:
            seen.add(key)
            out.append(slot)
    return out


def free_days(slots: list[Slot]) -> dict[dt.date, list[Slot]]:
    """The free times by local day, in time order (one pass over the sorted slots): the
    residents' list of days and the staff's times by day."""
    # Only the first slot of each day is converted to local time: a list holds hundreds.
    zone = timezone.get_current_timezone()
    grouped: dict[dt.date, list[Slot]] = {}
    items: list[Slot] = []
    next_midnight: dt.datetime | None = None
    for slot in slots:
        if next_midnight is None or slot.start >= next_midnight:
            day = slot.start.astimezone(zone).date()
            next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
            items = grouped.setdefault(day, [])
        items.append(slot)
    return grouped


def bookable_places(motif: Motif) -> QuerySet[Place]:
    return motif.places.filter(published=True)


def appointment_for(membership: Membership, pk: int, *, purpose: str) -> Appointment:
    """An appointment of the member's structure, or 404. Its page names the person (for those
    who may see names): that read is journalled here, with the page it is for (detail,
    cancel, move, status)."""
    appointment = get_object_or_404(
        Appointment.objects.of_structure(membership.structure).select_related(
            "motif", "place", "advisor"
        ),
        pk=pk,
    )
    if can(membership, "beneficiary.view_identity"):
        journal.record(
            structure=membership.structure,
            action="appointment.viewed",
            obj=appointment,
            actor=membership.user,
            subject=appointment.beneficiary_id,
            data={"role": membership.role, "page": purpose},
        )
    return appointment


MESSAGE_LOG_SIZE = 200


def message_log_for(membership: Membership, *, state: str = "") -> list[Message]:
    """The latest messages of the member's structure (optionally in one delivery state).

    For those who see contacts the page shows each recipient's phone or e-mail: that read is
    journalled here (`message.listed`: the filter and how many were shown, never who).
    """
    items = Message.objects.filter(structure=membership.structure)
    if state:
        items = items.filter(state=state)
    shown = list(items.select_related("appointment").order_by("-due_at")[:MESSAGE_LOG_SIZE])
    if shown and can(membership, "beneficiary.view_contact"):
        journal.record(
            structure=membership.structure,
            action="message.listed",
            actor=membership.user,
            data={"role": membership.role, "shown": len(shown), "filters": {"etat": state}},
        )
    return shown


@dataclass
class PlaceDay:
    """Where appointments happen on a day (a place, or a way of meeting without one) and
    those appointments, in time order."""

    label: str
    appointments: list[Appointment] = field(default_factory=list)


def today_for(membership: Membership, day: dt.date) -> list[PlaceDay]:
    """The structure's appointments on `day` (its local day), every status, grouped by where
    they happen: each place, then each way of meeting without one (phone, visio, home, on
    site without a place). Each group is in time order; groups come by their first time.

    The "today" page names each person for members who may see identities: that read is
    journalled here (`appointment.listed`: the day and how many, never who).
    """
    structure = membership.structure
    zone = timefmt.zone_of(structure)
    items = list(
        Appointment.objects.of_structure(structure)
        .select_related("motif", "place", "advisor", "activity")
        .filter(
            start__gte=dt.datetime.combine(day, dt.time(), tzinfo=zone),
            start__lt=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone),
        )
        .order_by("start", "pk")
    )
    groups: dict[tuple[str, object], PlaceDay] = {}
    for appointment in items:
        if appointment.place is not None:
            key: tuple[str, object] = ("place", appointment.place_id)
            label = appointment.place.name
        else:
            key = ("mode", appointment.location_type)
            label = (
                _("Sans lieu")
                if appointment.location_type == LocationType.PUBLIC_OFFICE
                else appointment.get_location_type_display()
            )
        groups.setdefault(key, PlaceDay(label)).appointments.append(appointment)
    if items and can(membership, "beneficiary.view_identity"):
        journal.record(
            structure=structure,
            action="appointment.listed",
            actor=membership.user,
            data={"from": day.isoformat(), "view": "aujourdhui", "shown": len(items)},
        )
    return list(groups.values())
