"""Appointment slots: `slots_for` over 4 weeks against the raw SQL that fetches its inputs.

A structure with 10 advisors at 6 places (each advisor there every weekday morning and
afternoon), one motif offered at the 6 places, and 5,000 active appointments over the 4
weeks. The report splits the cost: raw SQL fetch of the same inputs (the floor), the ORM
reads plus the expansion of presences (`windows_for` + `busy_for`), and the pure engine
(`compute_slots` on inputs already in memory).
"""

import datetime as dt
import random
from statistics import median
from zoneinfo import ZoneInfo

from django.db import connection

from bench import fixtures
from lien.accounts.models import Membership, Role, User
from lien.appointments.models import Absence, Appointment, Motif
from lien.appointments.selectors import STEP, busy_for, slots_for, windows_for
from lien.appointments.slots import compute_slots
from lien.places.models import Closure
from lien.schedule.models import Presence, PresenceException

ADVISORS = 10
PLACES = 6
APPOINTMENTS = 5000
DAYS = 28
PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 2, 1, 8, tzinfo=PARIS)  # a Monday; no DST change nor holiday in range
HALF_DAYS = ((dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(17)))


def advisors_with_week(structure, place_list) -> list[User]:
    """Advisors present every weekday morning and afternoon, at a place that varies."""
    User.objects.filter(email__endswith="@creneaux.bench.example").delete()
    users = []
    for i in range(ADVISORS):
        user = User.objects.create_user(f"c{i}@creneaux.bench.example", None, first_name=f"C{i}")
        Membership.objects.create(user=user, structure=structure, role=Role.ADVISOR)
        users.append(user)
    presences = Presence.objects.bulk_create(
        Presence(
            structure=structure,
            advisor=user,
            place=place_list[(a + day + 3 * half) % len(place_list)],
            weekday=day,
            start=start,
            end=end,
            valid_from=dt.date(2026, 9, 7),
        )
        for a, user in enumerate(users)
        for day in range(5)
        for half, (start, end) in enumerate(HALF_DAYS)
    )
    # A little of everything the engine reads: cancelled dates, a closure, absences.
    first = NOW.date()
    PresenceException.objects.bulk_create(
        PresenceException(presence=p, date=first + dt.timedelta(days=p.weekday + 7 * (k % 4)))
        for k, p in enumerate(presences[::10])
    )
    Closure.objects.create(
        place=place_list[0],
        start_date=first + dt.timedelta(days=9),
        end_date=first + dt.timedelta(days=10),
    )
    Absence.objects.bulk_create(
        Absence(
            structure=structure,
            advisor=user,
            start=dt.datetime.combine(first + dt.timedelta(days=2 + a), dt.time(9), tzinfo=PARIS),
            end=dt.datetime.combine(first + dt.timedelta(days=2 + a), dt.time(12), tzinfo=PARIS),
        )
        for a, user in enumerate(users)
    )
    return users


def appointments(structure, motif, users, place_list) -> None:
    """APPOINTMENTS active appointments, 30 minutes on a half-hour grid 08:00-20:00 Mon-Sat.

    Each advisor gets the same share on distinct grid positions, so no two of one advisor
    overlap (PostgreSQL's exclusion constraint would refuse them).
    """
    days = [NOW.date() + dt.timedelta(days=d) for d in range(DAYS)]
    grid = [
        dt.datetime.combine(day, dt.time(8), tzinfo=PARIS) + dt.timedelta(minutes=30 * k)
        for day in days
        if day.weekday() < 6
        for k in range(24)
    ]
    share = APPOINTMENTS // len(users)
    rows = []
    for a, user in enumerate(users):
        for n, start in enumerate(sorted(random.Random(a).sample(grid, share))):
            end = start + dt.timedelta(minutes=30)
            rows.append(
                Appointment(
                    structure=structure,
                    motif=motif,
                    advisor=user,
                    location_type="public_office",
                    place=place_list[(a + n) % len(place_list)],
                    start=start,
                    end=end,
                    blocked_start=start,
                    blocked_end=end,
                    status="unknown",
                    channel="staff",
                    first_name=f"Résident {a}-{n}",
                    phone="+33612345678",
                )
            )
    Appointment.objects.bulk_create(rows, batch_size=1000)


def raw_inputs(motif_id: int, structure_id: int, first_day, last_day, start, end) -> list:
    """The floor: the same rows slots_for reads, in six plain queries, with no expansion."""
    ops = connection.ops
    d1, d2 = ops.adapt_datefield_value(first_day), ops.adapt_datefield_value(last_day)
    t1, t2 = ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)

    def marks(values) -> str:
        return ", ".join(["%s"] * len(values)) or "null"

    with connection.cursor() as cursor:
        cursor.execute(
            "select place_id from appointments_motif_places where motif_id = %s", [motif_id]
        )
        places = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            'select id, advisor_id, place_id, mode, weekday, start, "end", every_n_weeks, '
            "valid_from, valid_until from schedule_presence where structure_id = %s "
            "and valid_from <= %s and (valid_until is null or valid_until >= %s)",
            [structure_id, d2, d1],
        )
        presences = cursor.fetchall()
        ids = [p[0] for p in presences]
        advisors = sorted({p[1] for p in presences})
        cursor.execute(
            f"select presence_id, date from schedule_presenceexception "  # noqa: S608
            f"where presence_id in ({marks(ids)}) and date between %s and %s",
            [*ids, d1, d2],
        )
        exceptions = cursor.fetchall()
        cursor.execute(
            f"select place_id, start_date, end_date from places_closure "  # noqa: S608
            f"where place_id in ({marks(places)}) and start_date <= %s and end_date >= %s",
            [*places, d2, d1],
        )
        closures = cursor.fetchall()
        cursor.execute(
            f'select advisor_id, start, "end" from appointments_absence '  # noqa: S608
            f'where advisor_id in ({marks(advisors)}) and start < %s and "end" > %s',
            [*advisors, t2, t1],
        )
        absences = cursor.fetchall()
        cursor.execute(
            f"select advisor_id, blocked_start, blocked_end from appointments_appointment "  # noqa: S608
            f"where status in ('unknown', 'seen', 'noshow') and advisor_id in ({marks(advisors)}) "
            "and blocked_start < %s and blocked_end > %s",
            [*advisors, t2, t1],
        )
        booked = cursor.fetchall()
    return [places, presences, exceptions, closures, absences, booked]


def run(timed, fmt) -> tuple[str, list[str]]:
    structure = fixtures.town("bench-creneaux", "21779988100016")
    place_list = fixtures.places(structure, PLACES)
    users = advisors_with_week(structure, place_list)
    motif = Motif.objects.create(
        structure=structure, title="Aide aux démarches", duration=30, max_delay_days=DAYS
    )
    motif.places.set(place_list)
    appointments(structure, motif, users, place_list)
    motif = Motif.objects.select_related("structure").get(pk=motif.pk)

    # The inputs slots_for computes, once, to time the engine and the raw fetch on the same.
    today = NOW.date()
    max_delay = dt.timedelta(days=motif.max_delay_days)
    min_delay = dt.timedelta(hours=motif.min_delay_hours)
    last_day = today + max_delay + dt.timedelta(days=1)
    windows = windows_for(motif, today, last_day)
    start, end = min(w.start for w in windows), max(w.end for w in windows)
    busy = busy_for(structure, {w.advisor_id for w in windows}, start, end)

    def engine():
        return compute_slots(
            windows=windows,
            busy=busy,
            duration=dt.timedelta(minutes=motif.duration),
            now=NOW,
            min_delay=min_delay,
            max_delay=max_delay,
            step=STEP,
        )

    def reads():
        found = windows_for(motif, today, last_day)
        return busy_for(structure, {w.advisor_id for w in found}, start, end)

    slots = slots_for(motif, now=NOW)
    assert slots == engine(), "slots_for and the engine on the same inputs disagree"
    fetched = raw_inputs(motif.pk, structure.pk, today, last_day, start, end)
    in_range = Appointment.objects.active().filter(blocked_start__lt=end, blocked_end__gt=start)
    assert len(fetched[5]) == in_range.count() > APPOINTMENTS * 0.99, len(fetched[5])

    full = timed(lambda: slots_for(motif, now=NOW))
    raw = timed(lambda: raw_inputs(motif.pk, structure.pk, today, last_day, start, end))
    orm = timed(reads)
    pure = timed(engine)
    n_presences = len(fetched[1])
    return (
        f"Appointment slots, {ADVISORS} advisors, {n_presences} presences, {PLACES} places, "
        f"{APPOINTMENTS} appointments, {DAYS} days",
        [
            f"slots_for(motif, now), 4 weeks  {fmt(full)}",
            f"raw SQL fetch of its inputs     {fmt(raw)}",
            f"windows_for + busy_for (ORM)    {fmt(orm)}",
            f"compute_slots (in memory)       {fmt(pure)}",
            f"ratio slots_for / raw SQL       {median(full) / median(raw):.1f}x",
            f"found {len(slots)} slots from {len(windows)} windows and {len(busy)} busy "
            f"intervals ({len(fetched[4])} absences, {len(fetched[5])} appointments)",
        ],
    )
