"""The appointment slot engine: properties of `compute_slots`, then `slots_for` on the ORM.

The pure engine is checked against a brute-force oracle written here from the rules of
lien/appointments/slots.py, on random advisors, windows (Europe/Paris, across a DST change),
busy intervals, durations, buffers, delays and steps. The database tests then check that
holidays, closures, cancelled presence dates, absences and bookings (made and cancelled
through the services) reach the engine, for fixed cases and for random ones.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lien.accounts.models import Role
from lien.appointments.models import Absence, Appointment, Motif
from lien.appointments.selectors import slots_for
from lien.appointments.services import SlotTaken, appointment_book, appointment_cancel
from lien.appointments.slots import Busy, Slot, Window, compute_slots
from lien.core.holidays import is_public_holiday
from lien.places.models import Closure
from lien.schedule.models import Presence, PresenceException
from tests.conftest import make_member, pin_calendar

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
MIN = dt.timedelta(minutes=1)

# ---------------------------------------------------------------------------------------------
# The oracle: the module docstring's rules, candidate by candidate, in absolute (UTC) time.

# Tests about fixed dates in 2027 pin A's presence to have begun then.
SEPTEMBER_2026 = dt.date(2026, 9, 3)


def oracle(*, windows, busy, duration, now, min_delay, max_delay, buffer, step):
    """Every (start, advisor, place) the rules allow, by brute force."""
    earliest = now.astimezone(UTC) + min_delay
    latest = now.astimezone(UTC) + max_delay
    blocked = [
        (b.advisor_id, b.start.astimezone(UTC), b.end.astimezone(UTC))
        for b in busy
        if b.start < b.end  # an empty interval blocks nothing
    ]
    found = set()
    for w in windows:
        window_start, window_end = w.start.astimezone(UTC), w.end.astimezone(UTC)
        k = 0
        while window_start + k * step + duration <= window_end:
            start = window_start + k * step
            end = start + duration
            k += 1
            if not earliest <= start <= latest:
                continue
            if any(
                advisor == w.advisor_id and a < end + buffer and start - buffer < b
                for advisor, a, b in blocked
            ):
                continue
            found.add((start, w.advisor_id, w.place_id))
    return found


def as_keys(slots: list[Slot]) -> set[tuple]:
    return {(s.start.astimezone(UTC), s.advisor_id, s.place_id) for s in slots}


def run(case: dict, **changes) -> list[Slot]:
    return compute_slots(**{**case, **changes})


# ---------------------------------------------------------------------------------------------
# Random inputs. Weeks start two weeks before a DST change in Europe/Paris (spring forward on
# 2027-03-28, fall back on 2027-10-31), so four weeks of windows always cross one. Windows are
# daytime (07:00-23:59) like real presences; busy intervals may span nights and several days.

MONDAYS = (dt.date(2027, 3, 15), dt.date(2027, 10, 18))
ADVISORS = (1, 2, 3, 4)


@st.composite
def windows_st(draw, base: dt.date, places: tuple):
    day = base + dt.timedelta(days=draw(st.integers(0, 27)))
    start = draw(st.integers(7 * 60, 19 * 60))
    length = draw(st.integers(0, 6 * 60))
    end = min(start + length, 24 * 60 - 1)
    return Window(
        dt.datetime.combine(day, dt.time(*divmod(start, 60)), tzinfo=PARIS),
        dt.datetime.combine(day, dt.time(*divmod(end, 60)), tzinfo=PARIS),
        draw(st.sampled_from(ADVISORS)),
        draw(st.sampled_from(places)),
    )


@st.composite
def busy_st(draw, base: dt.date, windows: list[Window], grid: tuple[dt.timedelta, ...]):
    step, duration, buffer = grid
    length = MIN * draw(st.one_of(st.just(0), st.integers(1, 3 * 60), st.integers(0, 4320)))
    where = draw(st.sampled_from(("anywhere", "near", "ends on", "starts on")))
    if where == "anywhere" or not windows:
        origin = dt.datetime.combine(base - dt.timedelta(days=1), dt.time(), tzinfo=UTC)
        start = origin + MIN * draw(st.integers(0, 30 * 24 * 60))
        advisor = draw(st.sampled_from(ADVISORS))
    else:
        # Near a window of the same advisor, where it matters; or touching exactly the
        # blocked range of one of its candidate starts, before or after it.
        window = draw(st.sampled_from(windows))
        advisor = window.advisor_id
        if where == "near":
            start = window.start.astimezone(UTC) + MIN * draw(st.integers(-4 * 60, 7 * 60))
        else:
            candidate = window.start.astimezone(UTC) + step * draw(st.integers(0, 8))
            if where == "ends on":
                start = candidate - buffer - length
            else:
                start = candidate + duration + buffer
    # Absences typed by staff are Paris times; rows read from the database are UTC.
    tz = draw(st.sampled_from((PARIS, UTC)))
    return Busy(start.astimezone(tz), (start + length).astimezone(tz), advisor)


@st.composite
def nested_st(draw, busy: list[Busy]) -> list[Busy]:
    """Busy intervals inside given ones (same advisor), as absences inside a leave."""
    out = []
    for b in draw(st.lists(st.sampled_from(busy), max_size=2)) if busy else ():
        minutes = int((b.end - b.start) / MIN)
        first = draw(st.integers(0, minutes))
        last = draw(st.integers(first, minutes))
        out.append(Busy(b.start + MIN * first, b.start + MIN * last, b.advisor_id))
    return out


@st.composite
def cases(draw) -> dict:
    base = draw(st.sampled_from(MONDAYS))
    # On-site windows have places, remote ones none; one engine call never mixes both
    # (windows_for filters on the motif's location type).
    places = draw(st.sampled_from(((10, 11, 12), (None,))))
    windows = draw(st.lists(windows_st(base, places), max_size=10))
    step = MIN * draw(st.one_of(st.sampled_from((5, 10, 15, 20, 30)), st.integers(1, 90)))
    min_delay = MIN * draw(st.one_of(st.just(0), st.integers(0, 72 * 60)))
    max_delay = MIN * draw(st.one_of(st.just(56 * 24 * 60), st.integers(0, 35 * 24 * 60)))
    # Production passes timezone.now(), an UTC datetime.
    now = dt.datetime.combine(base, dt.time(7), tzinfo=UTC) + MIN * draw(
        st.integers(-3 * 24 * 60, 20 * 24 * 60)
    )
    if windows and draw(st.booleans()):
        # A delay bound exactly on a candidate start, where off-by-one errors show.
        window = draw(st.sampled_from(windows))
        candidate = window.start.astimezone(UTC) + step * draw(st.integers(0, 6))
        if draw(st.booleans()):
            now = candidate - min_delay
        else:
            max_delay = max(max_delay, min_delay)
            now = candidate - max_delay
    duration = MIN * draw(st.integers(5, 240))
    buffer = MIN * draw(st.integers(0, 60))
    busy = draw(st.lists(busy_st(base, windows, (step, duration, buffer)), max_size=14))
    busy += draw(nested_st(busy))
    return {
        "windows": windows,
        "busy": busy,
        "duration": duration,
        "now": now,
        "min_delay": min_delay,
        "max_delay": max_delay,
        "buffer": buffer,
        "step": step,
    }


PURE = settings(max_examples=150, deadline=None)


@pytest.mark.slow  # pure property test: the date matrix adds nothing
@PURE
@given(cases())
def test_every_slot_lies_inside_a_window_of_its_advisor_and_place(case):
    for slot in run(case):
        assert slot.end - slot.start == case["duration"]
        assert any(
            w.advisor_id == slot.advisor_id
            and w.place_id == slot.place_id
            and w.start <= slot.start
            and slot.end <= w.end
            and (slot.start - w.start) % case["step"] == dt.timedelta(0)
            for w in case["windows"]
        ), slot


@pytest.mark.slow  # pure property test: the date matrix adds nothing
@PURE
@given(cases())
def test_no_blocked_range_overlaps_a_busy_interval_of_its_advisor(case):
    for slot in run(case):
        lo, hi = slot.blocked(case["buffer"])
        assert (lo, hi) == (slot.start - case["buffer"], slot.end + case["buffer"])
        for b in case["busy"]:
            if b.advisor_id == slot.advisor_id and b.start < b.end:
                assert b.end <= lo or hi <= b.start, (slot, b)


@pytest.mark.slow  # pure property test: the date matrix adds nothing
@PURE
@given(cases())
def test_delays_are_respected(case):
    now = case["now"]
    for slot in run(case):
        assert now + case["min_delay"] <= slot.start <= now + case["max_delay"]


@pytest.mark.slow  # pure property test: the date matrix adds nothing
@PURE
@given(cases(), st.data())
def test_same_input_same_output_whatever_the_order(case, data):
    first = run(case)
    assert run(case) == first
    windows = data.draw(st.permutations(case["windows"]))
    busy = data.draw(st.permutations(case["busy"]))
    assert run(case, windows=windows, busy=busy) == first
    # One-shot iterables and repeated inputs change nothing either.
    assert run(case, windows=iter(windows + windows), busy=iter(busy + busy)) == first


@pytest.mark.slow  # pure property test: the date matrix adds nothing
@PURE
@given(cases())
def test_every_allowed_start_on_the_step_grid_is_returned(case):
    assert as_keys(run(case)) == oracle(**case)


@pytest.mark.slow  # pure property test: the date matrix adds nothing
@PURE
@given(cases())
def test_output_is_sorted_without_duplicates(case):
    slots = run(case)
    assert slots == sorted(slots, key=lambda s: (s.start, s.advisor_id, s.place_id or 0))
    assert len(as_keys(slots)) == len(slots)  # no two slots are the same instant either


# ---------------------------------------------------------------------------------------------
# Edge cases of the pure engine.

DAY = dt.date(2027, 4, 1)
NOW = dt.datetime(2027, 3, 1, 8, tzinfo=PARIS)


def at(hhmm: str, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=PARIS)


def starts(slots: list[Slot]) -> list[str]:
    return [s.start.astimezone(PARIS).strftime("%H:%M") for s in slots]


def engine(windows, busy=(), *, minutes=30, step=15, buffer=0, **kw) -> list[Slot]:
    return compute_slots(
        windows=windows,
        busy=busy,
        duration=MIN * minutes,
        now=kw.pop("now", NOW),
        buffer=MIN * buffer,
        step=MIN * step,
        **kw,
    )


def test_no_window_no_slot():
    assert engine([], [Busy(at("14:00"), at("15:00"), 1)]) == []


def test_duration_longer_than_the_window_gives_nothing_and_equal_gives_one():
    window = Window(at("14:00"), at("14:45"), 1, 10)
    assert engine([window], minutes=46) == []
    assert engine([window], minutes=45) == [Slot(at("14:00"), at("14:45"), 1, 10)]


def test_step_not_dividing_the_window_stops_at_the_last_start_that_fits():
    window = Window(at("14:00"), at("15:00"), 1, 10)
    assert starts(engine([window], minutes=20, step=25)) == ["14:00", "14:25"]
    # Starts count from the window's own start, even an odd one.
    odd = Window(at("14:07"), at("15:00"), 1, 10)
    assert starts(engine([odd], minutes=20, step=15)) == ["14:07", "14:22", "14:37"]


def test_busy_touching_the_slot_is_allowed_and_one_minute_more_is_not():
    window = Window(at("14:00"), at("16:00"), 1, 10)
    touching = [Busy(at("14:00"), at("14:30"), 1), Busy(at("15:00"), at("16:00"), 1)]
    assert starts(engine([window], touching)) == ["14:30"]
    overlapping = [Busy(at("14:00"), at("14:31"), 1), Busy(at("15:00"), at("16:00"), 1)]
    assert starts(engine([window], overlapping)) == []


def test_buffer_extends_the_blocked_range_on_both_sides():
    window = Window(at("14:00"), at("17:00"), 1, 10)
    busy = [Busy(at("14:00"), at("14:30"), 1), Busy(at("16:15"), at("17:00"), 1)]
    # [s - 15, s + 45) must avoid both: 14:45 <= s and s + 45 <= 16:15.
    assert starts(engine([window], busy, buffer=15)) == ["14:45", "15:00", "15:15", "15:30"]
    # The buffer may reach outside the window: only busy time counts.
    assert starts(engine([window], buffer=60))[0] == "14:00"


def test_busy_inside_a_longer_busy_does_not_shorten_it():
    window = Window(at("14:00"), at("17:00"), 1, 10)
    busy = [Busy(at("14:00"), at("16:00"), 1), Busy(at("14:30"), at("15:00"), 1)]
    assert starts(engine([window], busy)) == ["16:00", "16:15", "16:30"]


def test_busy_of_another_advisor_or_empty_busy_blocks_nothing():
    window = Window(at("14:00"), at("15:00"), 1, 10)
    busy = [Busy(at("14:00"), at("15:00"), 2), Busy(at("14:20"), at("14:20"), 1)]
    assert starts(engine([window], busy)) == ["14:00", "14:15", "14:30"]


def test_delay_bounds_are_inclusive():
    window = Window(at("14:00"), at("15:00"), 1, 10)
    now = at("12:00")
    got = engine(
        [window], now=now, min_delay=dt.timedelta(hours=2), max_delay=dt.timedelta(hours=2.5)
    )
    assert starts(got) == ["14:00", "14:15", "14:30"]


def test_overlapping_windows_give_each_slot_once_sorted_by_start_advisor_place():
    windows = [
        Window(at("14:00"), at("15:00"), 2, 10),
        Window(at("14:00"), at("15:00"), 1, 11),
        Window(at("14:30"), at("15:30"), 1, 11),
        Window(at("14:00"), at("15:00"), 1, 10),
    ]
    got = engine(windows)
    assert [(s.advisor_id, s.place_id) for s in got[:3]] == [(1, 10), (1, 11), (2, 10)]
    assert len(got) == len(set(got)) == 3 * 3 + 2  # 14:00-14:30 thrice, 14:45-15:00 once


@pytest.mark.parametrize("minutes, step", [(0, 15), (-5, 15), (30, 0), (30, -15)])
def test_non_positive_duration_or_step_is_refused(minutes, step):
    with pytest.raises(ValueError, match="positive"):
        engine([Window(at("14:00"), at("15:00"), 1, 10)], minutes=minutes, step=step)


def test_the_same_instant_of_now_gives_the_same_slots_in_any_time_zone():
    window = Window(at("09:00", dt.date(2027, 3, 29)), at("12:00", dt.date(2027, 3, 29)), 1, 10)
    now = dt.datetime(2027, 3, 26, 10, tzinfo=PARIS)  # Friday before the spring change
    delay = {"min_delay": dt.timedelta(hours=72)}
    in_paris = engine([window], now=now, **delay)
    assert in_paris[0].start - now.astimezone(UTC) >= dt.timedelta(hours=72)
    assert in_paris == engine([window], now=now.astimezone(UTC), **delay)


def test_a_window_over_the_dst_change_steps_in_real_time():
    day = dt.date(2027, 3, 28)
    got = engine([Window(at("01:00", day), at("04:00", day), 1, 10)])
    assert len(as_keys(got)) == len(got)  # 02:00+01:00 is the same instant as 03:00+02:00
    assert all(s.end.astimezone(UTC) - s.start.astimezone(UTC) == 30 * MIN for s in got)


def test_remote_and_on_site_windows_of_one_advisor_can_be_mixed():
    windows = [Window(at("14:00"), at("15:00"), 1, None), Window(at("14:00"), at("15:00"), 1, 10)]
    assert len(engine(windows)) == 6


# ---------------------------------------------------------------------------------------------
# slots_for on the database. The personas' advisor is at `place_a` every Thursday 14:00-17:00.

THURSDAY_STARTS = [f"{h}:{m:02d}" for h in (14, 15, 16) for m in (0, 15, 30, 45)][:11]


def monday(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS)


def make_motif(personas, **extra) -> Motif:
    extra = {"duration": 30, "min_delay_hours": 0, "max_delay_days": 28, **extra}
    motif = Motif.objects.create(structure=personas.a, title="Aide aux démarches", **extra)
    motif.places.add(personas.place_a)
    return motif


def by_day(slots: list[Slot]) -> dict[dt.date, list[str]]:
    out: dict[dt.date, list[str]] = {}
    for slot in slots:
        local = slot.start.astimezone(PARIS)
        out.setdefault(local.date(), []).append(local.strftime("%H:%M"))
    return out


def book(personas, motif, start: dt.datetime, now: dt.datetime, **extra) -> Appointment:
    return appointment_book(
        motif=motif,
        start=start,
        place=personas.place_a,
        first_name="Jeanne",
        channel="staff",
        actor=personas.coordinator,
        now=now,
        **{"phone": "+33612345678", **extra},
    )


@pytest.mark.django_db
def test_slots_for_offers_each_thursday_afternoon_across_the_dst_change(personas):
    motif = make_motif(personas)
    slots = slots_for(motif, now=monday(dt.date(2030, 3, 18)))
    thursdays = [dt.date(2030, 3, 21), dt.date(2030, 3, 28), dt.date(2030, 4, 4)]
    thursdays.append(dt.date(2030, 4, 11))
    assert by_day(slots) == dict.fromkeys(thursdays, THURSDAY_STARTS)
    assert {s.advisor_id for s in slots} == {personas.advisor.pk}
    assert {s.place_id for s in slots} == {personas.place_a.pk}
    # 14:00 in Paris is 13:00 UTC before the change (2030-03-31) and 12:00 UTC after it.
    firsts = {s.start.date(): s.start for s in reversed(slots)}  # 14:00 of each Thursday
    utc_hours = {day: start.astimezone(UTC).hour for day, start in firsts.items()}
    assert utc_hours[dt.date(2030, 3, 28)] == 13
    assert utc_hours[dt.date(2030, 4, 4)] == 12


@pytest.mark.django_db
@pytest.mark.parametrize(
    "holiday",
    [dt.date(2027, 5, 6), dt.date(2027, 11, 11)],  # Ascension, Armistice: both Thursdays
    ids=["ascension-2027", "armistice-2027"],
)
def test_no_slot_on_a_public_holiday(personas, holiday):
    pin_calendar(personas, since=SEPTEMBER_2026)
    assert holiday.weekday() == 3 and is_public_holiday(holiday, personas.a.insee_code)
    motif = make_motif(personas, max_delay_days=11)
    days = by_day(slots_for(motif, now=monday(holiday - dt.timedelta(days=3))))
    assert list(days) == [holiday + dt.timedelta(days=7)]


@pytest.mark.django_db
def test_no_slot_during_a_closure_or_on_a_cancelled_presence_date(personas):
    motif = make_motif(personas, max_delay_days=42)
    day = personas.appointment_a.start.date()  # a Thursday; the fixture's dates follow it
    now = monday(day - dt.timedelta(days=3))
    thursdays = [day + dt.timedelta(weeks=w) for w in range(6)]
    open_days = [d for d in thursdays if not is_public_holiday(d, personas.a.insee_code)]
    cancelled = personas.exception_a.date
    closed = [
        d for d in open_days if personas.closure_a.start_date <= d <= personas.closure_a.end_date
    ]
    assert cancelled == thursdays[1] and closed == [d for d in thursdays[2:4] if d in open_days]
    expected = [d for d in open_days if d != cancelled and d not in closed]
    assert list(by_day(slots_for(motif, now=now))) == expected
    # The exception and the closure are what removed those Thursdays.
    personas.exception_a.delete()
    assert (cancelled in by_day(slots_for(motif, now=now))) == (cancelled in open_days)
    personas.closure_a.delete()
    assert list(by_day(slots_for(motif, now=now))) == open_days


@pytest.mark.django_db
def test_absence_removes_the_slots_it_overlaps_and_touching_is_allowed(personas):
    motif = make_motif(personas)
    day = dt.date(2030, 3, 21)
    Absence.objects.create(
        structure=personas.a, advisor=personas.advisor, start=at("15:10", day), end=at("15:50", day)
    )
    Absence.objects.create(
        structure=personas.a,
        advisor=personas.advisor,
        start=at("12:00", day + dt.timedelta(days=7)),
        end=at("14:30", day + dt.timedelta(days=7)),
    )
    days = by_day(slots_for(motif, now=monday(dt.date(2030, 3, 18))))
    assert days[day] == ["14:00", "14:15", "14:30", "16:00", "16:15", "16:30"]
    assert days[day + dt.timedelta(days=7)] == THURSDAY_STARTS[2:]
    assert days[day + dt.timedelta(days=14)] == THURSDAY_STARTS


@pytest.mark.django_db
@pytest.mark.parametrize("by_staff", [True, False], ids=["revoked", "excused"])
def test_booking_takes_the_slot_and_cancelling_gives_it_back(personas, by_staff):
    motif = make_motif(personas)
    now = monday(dt.date(2030, 3, 18))
    day = dt.date(2030, 3, 21)
    appointment = book(personas, motif, at("14:30", day), now)
    assert (appointment.advisor, appointment.start) == (personas.advisor, at("14:30", day))
    assert by_day(slots_for(motif, now=now))[day] == ["14:00", *THURSDAY_STARTS[4:]]
    with pytest.raises(SlotTaken):
        book(personas, motif, at("14:45", day), now, phone="+33612345679")
    cancelled = appointment_cancel(
        appointment=appointment, actor=personas.coordinator if by_staff else None
    )
    assert cancelled.status == ("revoked" if by_staff else "excused")
    assert by_day(slots_for(motif, now=now))[day] == THURSDAY_STARTS
    again = book(personas, motif, at("14:45", day), now, phone="+33612345679")
    assert again.start == at("14:45", day)


@pytest.mark.django_db
def test_buffer_minutes_block_travel_time_around_a_booking(personas):
    motif = make_motif(personas, buffer_minutes=30)
    plain = make_motif(personas)
    now = monday(dt.date(2030, 3, 18))
    day = dt.date(2030, 3, 21)
    # Before any booking the buffer may reach outside the presence: every start fits.
    assert by_day(slots_for(motif, now=now))[day] == THURSDAY_STARTS
    appointment = book(personas, motif, at("14:30", day), now)
    assert (appointment.blocked_start, appointment.blocked_end) == (
        at("14:00", day),
        at("15:30", day),
    )
    # [s - 30, s + 60) must not reach into [14:00, 15:30): s >= 16:00.
    assert by_day(slots_for(motif, now=now))[day] == ["16:00", "16:15", "16:30"]
    # Another motif without buffer still sees the blocked range.
    assert by_day(slots_for(plain, now=now))[day] == THURSDAY_STARTS[6:]


@pytest.mark.django_db
def test_buffer_reaches_busy_time_just_outside_the_presence(personas):
    motif = make_motif(personas, buffer_minutes=30, max_delay_days=4)  # one Thursday only
    day = dt.date(2030, 3, 21)
    for start, end in (("13:00", "13:50"), ("17:10", "18:00")):  # before and after 14-17
        Absence.objects.create(
            structure=personas.a, advisor=personas.advisor, start=at(start, day), end=at(end, day)
        )
    # [s - 30, s + 60) must avoid both: 14:20 <= s and s <= 16:10.
    days = by_day(slots_for(motif, now=monday(dt.date(2030, 3, 18))))
    assert days == {day: ["14:30", "14:45", "15:00", "15:15", "15:30", "15:45", "16:00"]}


@pytest.mark.django_db
def test_min_delay_hours_and_max_delay_days(personas):
    motif = make_motif(personas, min_delay_hours=24, max_delay_days=14)
    now = dt.datetime(2030, 3, 20, 15, tzinfo=PARIS)  # Wednesday: 24 h later is Thursday 15:00
    resident = by_day(slots_for(motif, now=now))
    staff = by_day(slots_for(motif, now=now, staff=True))
    # 14 days later is Wednesday 3 April 15:00: Thursday 4 April is too far.
    assert resident == {
        dt.date(2030, 3, 21): THURSDAY_STARTS[4:],
        dt.date(2030, 3, 28): THURSDAY_STARTS,
    }
    assert staff == {dt.date(2030, 3, 21): THURSDAY_STARTS, dt.date(2030, 3, 28): THURSDAY_STARTS}


# ---------------------------------------------------------------------------------------------
# Random absences, presence exceptions, closures, bookings and cancellations through the ORM,
# compared with the oracle fed from what the test itself put in the database.

# Mondays of four-week ranges: one crosses the spring DST change (2030-03-31), the other holds
# Ascension (Thursday 2030-05-30).
DB_MONDAYS = (dt.date(2030, 3, 18), dt.date(2030, 5, 13))
HOLIDAYS = {dt.date(2030, 5, 30)}


def thursdays(first: dt.date, last: dt.date) -> list[dt.date]:
    day = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    out = []
    while day <= last:
        out.append(day)
        day += dt.timedelta(days=7)
    return out


@st.composite
def db_scenarios(draw) -> dict:
    base = draw(st.sampled_from(DB_MONDAYS))
    weeks = st.integers(0, 3)
    when = st.tuples(weeks, st.integers(10 * 60, 19 * 60))  # Thursday, minutes after midnight
    return {
        "base": base,
        "duration": draw(st.sampled_from((15, 30, 45, 60, 90))),
        "buffer": draw(st.sampled_from((0, 10, 15, 30))),
        "min_delay_hours": draw(st.sampled_from((0, 2, 72))),
        "max_delay_days": draw(st.integers(3, 30)),
        "absences": draw(st.lists(st.tuples(st.booleans(), when, st.integers(5, 300)), max_size=3)),
        "exceptions": draw(st.lists(st.tuples(st.booleans(), weeks), max_size=2)),
        "closure": draw(st.none() | st.tuples(weeks, st.integers(0, 8))),
        "bookings": draw(st.lists(st.tuples(weeks, st.integers(0, 15), st.booleans()), max_size=5)),
    }


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=db_scenarios())
def test_slots_for_matches_the_oracle_with_random_agenda(personas, scenario):
    with transaction.atomic():  # each example rolls back to the personas' state
        check_scenario(personas, scenario)
        transaction.set_rollback(True)


def check_scenario(personas, s: dict) -> None:
    second = make_member("second@a.example", personas.a, Role.ADVISOR, "Lou")
    presence_2 = Presence.objects.create(
        structure=personas.a,
        advisor=second,
        place=personas.place_a,
        weekday=3,
        start=dt.time(15),
        end=dt.time(18),
        valid_from=dt.date(2026, 9, 3),
    )
    presences = {
        personas.presence_a.pk: (personas.advisor.pk, "14:00", "17:00"),
        presence_2.pk: (second.pk, "15:00", "18:00"),
    }
    advisors = (personas.advisor, second)
    motif = make_motif(
        personas,
        duration=s["duration"],
        buffer_minutes=s["buffer"],
        min_delay_hours=s["min_delay_hours"],
        max_delay_days=s["max_delay_days"],
    )
    now = monday(s["base"])
    weeks = thursdays(s["base"], s["base"] + dt.timedelta(days=27))

    removed: set[tuple[int, dt.date]] = set()  # (presence id, day) without occurrence
    for which, week in s["exceptions"]:
        presence = personas.presence_a if which else presence_2
        PresenceException.objects.get_or_create(presence=presence, date=weeks[week])
        removed.add((presence.pk, weeks[week]))
    if s["closure"]:
        week, length = s["closure"]
        closed = [weeks[week] + dt.timedelta(days=d) for d in range(-length, 1)]
        Closure.objects.create(place=personas.place_a, start_date=closed[0], end_date=closed[-1])
        removed |= {(pk, day) for pk in presences for day in closed}
    busy = []
    for which, (week, minute), length in s["absences"]:
        advisor = advisors[which]
        start = dt.datetime.combine(weeks[week], dt.time(), tzinfo=PARIS) + MIN * minute
        Absence.objects.create(
            structure=personas.a, advisor=advisor, start=start, end=start + MIN * length
        )
        busy.append(Busy(start, start + MIN * length, advisor.pk))

    def expected(staff: bool) -> set[tuple]:
        windows = [
            Window(at(a, day), at(b, day), advisor, personas.place_a.pk)
            for pk, (advisor, a, b) in presences.items()
            for day in thursdays(
                now.date(), now.date() + dt.timedelta(days=s["max_delay_days"] + 1)
            )
            if day not in HOLIDAYS and (pk, day) not in removed
        ]
        return oracle(
            windows=windows,
            busy=busy,
            duration=MIN * s["duration"],
            now=now,
            min_delay=dt.timedelta(hours=0 if staff else s["min_delay_hours"]),
            max_delay=dt.timedelta(days=s["max_delay_days"]),
            buffer=MIN * s["buffer"],
            step=15 * MIN,
        )

    booked = []
    for n, (week, index, cancel) in enumerate(s["bookings"]):
        start = at("14:00", weeks[week]) + 15 * MIN * index
        free_advisors = {a for t, a, _ in expected(staff=True) if t == start}
        try:
            appointment = book(personas, motif, start, now, phone=f"+336123456{n:02d}")
        except (SlotTaken, ValidationError) as exc:  # taken, or outside the motif's delays
            assert not free_advisors, (start, free_advisors, exc)
            event("a booking was refused")
            continue
        assert appointment.advisor_id in free_advisors, (start, free_advisors)
        buffer = MIN * s["buffer"]
        assert appointment.blocked_start == appointment.start - buffer
        event("a booking was made")
        if cancel:
            event("a booking was cancelled")
            assert appointment_cancel(appointment=appointment, actor=personas.coordinator).status
            assert Appointment.objects.get(pk=appointment.pk).status == "revoked"
        else:
            busy.append(Busy(start - buffer, appointment.end + buffer, appointment.advisor_id))
        booked.append(appointment)

    for staff in (False, True):
        got = slots_for(motif, now=now, staff=staff)
        event(f"slots found (staff={staff}): {'some' if got else 'none'}")
        assert as_keys(got) == expected(staff)
        for slot in got:
            lo, hi = slot.blocked(MIN * s["buffer"])
            assert not Absence.objects.filter(
                advisor_id=slot.advisor_id, start__lt=hi, end__gt=lo
            ).exists()
            assert (
                not Appointment.objects.active()
                .filter(advisor_id=slot.advisor_id, blocked_start__lt=hi, blocked_end__gt=lo)
                .exists()
            )
            local = slot.start.astimezone(PARIS).date()
            assert local not in HOLIDAYS
            assert not Closure.objects.filter(
                place=personas.place_a, start_date__lte=local, end_date__gte=local
            ).exists()
            assert not PresenceException.objects.filter(
                presence__advisor_id=slot.advisor_id, date=local
            ).exists()
