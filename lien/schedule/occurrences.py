"""Expanding recurring presences into dated occurrences: a pure function of its inputs.

This is the single place that decides when an advisor is somewhere. The public week page,
the home page's "next times" and (later) the appointment slot engine all build on it.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import lcm
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class PresenceRule:
    """The recurrence part of a Presence, detached from the ORM."""

    id: int
    advisor_id: int
    place_id: int | None
    mode: str
    weekday: int
    start: dt.time
    end: dt.time
    every_n_weeks: int
    valid_from: dt.date
    valid_until: dt.date | None


@dataclass(frozen=True, order=True)
class Occurrence:
    start: dt.datetime
    end: dt.datetime
    presence_id: int
    advisor_id: int
    place_id: int | None
    mode: str

    @property
    def day(self) -> dt.date:
        return self.start.date()


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def occurs_on(rule: PresenceRule, day: dt.date) -> bool:
    """Does the recurrence (ignoring exceptions, holidays and closures) fall on `day`?"""
    if day.weekday() != rule.weekday or day < rule.valid_from:
        return False
    if rule.valid_until is not None and day > rule.valid_until:
        return False
    weeks = (_monday(day) - _monday(rule.valid_from)).days // 7
    return weeks % rule.every_n_weeks == 0


def expand(
    rules: Iterable[PresenceRule],
    start: dt.date,
    end: dt.date,
    *,
    tz: ZoneInfo,
    cancelled: frozenset[tuple[int, dt.date]] = frozenset(),
    closures: dict[int, list[tuple[dt.date, dt.date]]] | None = None,
    is_holiday: Callable[[dt.date], bool] = lambda day: False,
) -> list[Occurrence]:
    """Occurrences of `rules` on days start..end inclusive, sorted by start time.

    A day is dropped when it is a public holiday, when the presence was cancelled that day
    (`cancelled` holds (presence id, date) pairs), or when the place is closed that day
    (`closures` maps place id to inclusive date ranges).
    """
    closures = closures or {}
    result: list[Occurrence] = []
    for rule in rules:
        first = max(start, rule.valid_from)
        # Jump to the rule's weekday, then step a week at a time.
        day = first + dt.timedelta(days=(rule.weekday - first.weekday()) % 7)
        last = end if rule.valid_until is None else min(end, rule.valid_until)
        while day <= last:
            if (
                occurs_on(rule, day)
                and (rule.id, day) not in cancelled
                and not is_holiday(day)
                and not (
                    rule.place_id is not None
                    and any(a <= day <= b for a, b in closures.get(rule.place_id, ()))
                )
            ):
                result.append(
                    Occurrence(
                        start=dt.datetime.combine(day, rule.start, tzinfo=tz),
                        end=dt.datetime.combine(day, rule.end, tzinfo=tz),
                        presence_id=rule.id,
                        advisor_id=rule.advisor_id,
                        place_id=rule.place_id,
                        mode=rule.mode,
                    )
                )
            day += dt.timedelta(days=7)
    result.sort()
    return result


def conflicts(a: PresenceRule, b: PresenceRule) -> dt.date | None:
    """First date on which two presences of the same advisor overlap in time, if any."""
    if a.advisor_id != b.advisor_id or a.weekday != b.weekday:
        return None
    if not (a.start < b.end and b.start < a.end):
        return None
    first = max(a.valid_from, b.valid_from)
    ends = [d for d in (a.valid_until, b.valid_until) if d is not None]
    # Both recurrences repeat every lcm weeks, so checking that many weeks is enough.
    horizon = first + dt.timedelta(weeks=lcm(a.every_n_weeks, b.every_n_weeks) + 1)
    last = min([*ends, horizon])
    day = first + dt.timedelta(days=(a.weekday - first.weekday()) % 7)
    while day <= last:
        if occurs_on(a, day) and occurs_on(b, day):
            return day
        day += dt.timedelta(days=7)
    return None
