"""The slot engine: a pure, deterministic function of its inputs.

    slots = windows (advisor presences for this motif, holidays, closures and cancelled
            dates already removed by lien.schedule.occurrences)
          − busy intervals (absences, and existing active appointments' blocked ranges)
          − what lies outside [now + min_delay, now + max_delay]

A slot [start, end) of the motif's duration lies inside one window. It *blocks* the advisor
from start − buffer to end + buffer (travel time), and that blocked range may not overlap
any busy interval. Candidate starts step every `step` from each window's start. The result
is sorted by (start, advisor, place) and has no duplicates; the same input always gives
the same output.
"""

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Window:
    """When an advisor is available for this motif (an occurrence of a presence)."""

    start: dt.datetime
    end: dt.datetime
    advisor_id: int
    place_id: int | None = None


@dataclass(frozen=True, order=True)
class Busy:
    """When an advisor may not take a new appointment (blocked range or absence).

    start/end are aware datetimes or epoch seconds (as fetched by the selectors).
    """

    start: dt.datetime | int
    end: dt.datetime | int
    advisor_id: int


@dataclass(frozen=True, order=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    advisor_id: int
    place_id: int | None = None

    def blocked(self, buffer: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
        return self.start - buffer, self.end + buffer


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping intervals (touching ones merged)."""
    out: list[list[int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def _seconds(value: dt.datetime | int) -> int:
    """Epoch seconds; selectors may already give ints (computed by the database)."""
    return value if isinstance(value, int) else int(value.timestamp())


def compute_slots(
    *,
    windows: Iterable[Window],
    busy: Iterable[Busy],
    duration: dt.timedelta,
    now: dt.datetime,
    min_delay: dt.timedelta = dt.timedelta(0),
    max_delay: dt.timedelta = dt.timedelta(days=56),
    buffer: dt.timedelta = dt.timedelta(0),
    step: dt.timedelta = dt.timedelta(minutes=15),
) -> list[Slot]:
    """Every bookable slot; see the module docstring for the rules.

    All arithmetic is done in absolute time (seconds since the epoch), so delays and steps
    are real durations across daylight-saving changes; slots keep their window's timezone.
    """
    if duration <= dt.timedelta(0) or step <= dt.timedelta(0):
        raise ValueError("duration and step must be positive")
    dur, stp, buf = (int(x.total_seconds()) for x in (duration, step, buffer))
    earliest = _seconds(now) + int(min_delay.total_seconds())
    latest = _seconds(now) + int(max_delay.total_seconds())
    busy_by_advisor: dict[int, list[tuple[int, int]]] = {}
    for b in busy:
        start, end = _seconds(b.start), _seconds(b.end)
        if start < end:
            busy_by_advisor.setdefault(b.advisor_id, []).append((start, end))
    merged = {advisor: _merged(items) for advisor, items in busy_by_advisor.items()}
    starts = {advisor: [a for a, _ in items] for advisor, items in merged.items()}

    def free(advisor: int, start: int, end: int) -> bool:
        items = merged.get(advisor)
        if not items:
            return True
        # The only busy intervals that can overlap [start, end) begin before `end`;
        # being merged and sorted, checking the last of them is enough.
        i = bisect_left(starts[advisor], end) - 1
        return i < 0 or items[i][1] <= start

    found: set[Slot] = set()
    for window in windows:
        tz = window.start.tzinfo
        start, window_end = _seconds(window.start), _seconds(window.end)
        while start + dur <= window_end and start <= latest:
            if start >= earliest and free(window.advisor_id, start - buf, start + dur + buf):
                found.add(
                    Slot(
                        dt.datetime.fromtimestamp(start, tz),
                        dt.datetime.fromtimestamp(start + dur, tz),
                        window.advisor_id,
                        window.place_id,
                    )
                )
            start += stp
    return sorted(
        found, key=lambda s: (s.start, s.advisor_id, s.place_id is not None, s.place_id or 0)
    )
