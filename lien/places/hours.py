"""Opening hours of places: weekly rules, OSM `opening_hours` strings and French wording.

This module is pure: it imports no Django model and never touches the database, so forms,
services, importers and templates can all share it.

A place's hours are a set of `WeeklyRule` (weekday, start, end, ISO-week parity) plus a flag
"closed on public holidays". They map onto the subset of the OSM `opening_hours` syntax made of
weekdays, times, `week 1-53/2` / `week 2-52/2` selectors and `PH off`:

- `to_osm` writes the compact canonical string;
- `parse_osm` reads a string found in open data, relying on the `opening_hours` library for its
  semantics (later rules override earlier ones for the same day) and refusing anything that is
  not plain weekly hours;
- `describe_fr` / `describe_fr_lines` word the hours for residents;
- `find_overlaps` lists the conflicts a form must refuse.

Which days are public holidays where a place is: `lien.core.holidays`.

Times are handled at minute precision (seconds are ignored). A rule ends at 23:59 at the latest:
opening until midnight or past it is not supported (the model's `TimeField` cannot store 24:00).
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from opening_hours import OpeningHours, State

WEEKS_ALL = "all"
WEEKS_ODD = "odd"
WEEKS_EVEN = "even"
WEEKS_CHOICES = (WEEKS_ALL, WEEKS_ODD, WEEKS_EVEN)

OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
OSM_ODD_WEEKS = "week 1-53/2"
OSM_EVEN_WEEKS = "week 2-52/2"

_MINUTES_PER_DAY = 24 * 60

# Evaluation window used by `parse_osm`: the whole ISO year 2026, which has a week 53, plus the
# first week of 2027 (odd again, right after week 53). Every weekday of every week number and
# both parities are seen, so any selector other than a weekly one shows up as a difference.
_WINDOW_START = datetime.date(2025, 12, 29)  # Monday of ISO week 2026-W01
_WINDOW_END = datetime.date(2027, 1, 11)  # Monday of ISO week 2027-W02 (excluded)

# Words and symbols allowed in a string `parse_osm` understands (case-insensitive words).
_ALLOWED_WORDS = {d.lower() for d in OSM_DAYS} | {"ph", "off", "closed", "open", "week"}
_ALLOWED_SYMBOLS = set("-,;/:")
_TOKEN_RE = re.compile(r"[^\W\d_]+|\d+(?::\d+)?|\S")
_NUMBER_RE = re.compile(r"\d{1,2}(?::\d{2})?")
_PH_CLOSED_RE = re.compile(r"\bPH\s+(?:off|closed)\b", re.IGNORECASE)
_PH_RE = re.compile(r"\bPH\b", re.IGNORECASE)
_TIMESPAN = r"\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}"
_TIMESPAN_RE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
# The time ranges of one rule: time spans separated by commas only.
_TIME_SELECTOR_RE = re.compile(rf"{_TIMESPAN}(?:\s*,\s*{_TIMESPAN})*")


@dataclass(frozen=True, order=True)
class WeeklyRule:
    """One weekly opening interval, e.g. Thursday 14:00-17:00 on odd ISO weeks."""

    weekday: int  # 0 = Monday … 6 = Sunday
    start: datetime.time
    end: datetime.time
    weeks: str = WEEKS_ALL  # "all" | "odd" | "even" (ISO week number parity)


class HoursError(ValueError):
    """Opening hours that cannot be understood or stored; the message is French, for users."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ParsedHours:
    """Result of `parse_osm`: canonical weekly rules and what was fixed up on the way."""

    rules: list[WeeklyRule]
    closed_on_public_holidays: bool
    warnings: list[str] = field(default_factory=list)  # French messages


# --------------------------------------------------------------------------------------------
# Minute masks: a day's opening is an int whose bit m is set when open during minute m.


def _minutes(value: datetime.time) -> int:
    return value.hour * 60 + value.minute


def _mask(start: int, end: int) -> int:
    return ((1 << (end - start)) - 1) << start


def _ranges(mask: int) -> list[tuple[int, int]]:
    """The maximal [start, end) minute ranges of a mask, in order."""
    ranges = []
    while mask:
        start = (mask & -mask).bit_length() - 1  # lowest set bit
        carried = mask + (1 << start)  # the run of ones carries into the bit after it
        end = (carried & -carried).bit_length() - 1
        ranges.append((start, end))
        mask = (mask >> end) << end
    return ranges


def _time(minutes: int) -> datetime.time:
    return datetime.time(minutes // 60, minutes % 60)


def _check_rule(rule: WeeklyRule) -> None:
    if not isinstance(rule.weekday, int) or not 0 <= rule.weekday <= 6:
        raise HoursError(_("Jour de la semaine invalide : %(day)s.") % {"day": rule.weekday})
    if rule.weeks not in WEEKS_CHOICES:
        raise HoursError(_("Choix de semaines invalide : %(weeks)s.") % {"weeks": rule.weeks})
    if _minutes(rule.start) >= _minutes(rule.end):
        raise HoursError(
            _("Le %(day)s, l'heure de fin (%(end)s) doit être après l'heure de début (%(start)s).")
            % {
                "day": _day_names()[rule.weekday],
                "start": _format_time(rule.start),
                "end": _format_time(rule.end),
            }
        )


def _effective_masks(rules: Iterable[WeeklyRule]) -> tuple[list[int], list[int]]:
    """Per weekday, the minutes open on odd ISO weeks and on even ISO weeks."""
    odd = [0] * 7
    even = [0] * 7
    for rule in rules:
        _check_rule(rule)
        mask = _mask(_minutes(rule.start), _minutes(rule.end))
        if rule.weeks in (WEEKS_ALL, WEEKS_ODD):
            odd[rule.weekday] |= mask
        if rule.weeks in (WEEKS_ALL, WEEKS_EVEN):
            even[rule.weekday] |= mask
    return odd, even


def _rules_from_masks(odd: list[int], even: list[int]) -> list[WeeklyRule]:
    """Canonical rules: what both parities share is "all", the rest is "odd" or "even"."""
    rules: list[WeeklyRule] = []
    for weekday in range(7):
        common = odd[weekday] & even[weekday]
        for weeks, mask in (
            (WEEKS_ALL, common),
            (WEEKS_ODD, odd[weekday] & ~common),
            (WEEKS_EVEN, even[weekday] & ~common),
        ):
            rules.extend(
                WeeklyRule(weekday, _time(start), _time(end), weeks) for start, end in _ranges(mask)
            )
    return sorted(rules)


def normalize_rules(rules: Iterable[WeeklyRule]) -> list[WeeklyRule]:
    """Equivalent canonical rules: sorted, overlapping or touching ranges merged, and a range
    present in both odd and even weeks expressed as "all". Raises HoursError on invalid rules."""
    return _rules_from_masks(*_effective_masks(rules))


# --------------------------------------------------------------------------------------------
# OSM output


def _osm_days(weekdays: list[int]) -> str:
    """ "Mo-Fr", "Mo,We,Fr", "Th,Fr": ranges for runs of three days or more."""
    parts = []
    for first, last in _runs(weekdays):
        if last - first >= 2:
            parts.append(f"{OSM_DAYS[first]}-{OSM_DAYS[last]}")
        else:
            parts.extend(OSM_DAYS[day] for day in range(first, last + 1))
    return ",".join(parts)


def _osm_ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    return ",".join(
        f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
        for start, end in ranges
    )


def _runs(weekdays: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted weekdays, as (first, last) pairs."""
    runs: list[tuple[int, int]] = []
    for day in sorted(set(weekdays)):
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _group_days(per_day: dict[int, tuple]) -> list[tuple[list[int], tuple]]:
    """Group weekdays sharing the same value, in order of their first weekday."""
    groups: dict[tuple, list[int]] = {}
    for day in sorted(per_day):
        groups.setdefault(per_day[day], []).append(day)
    return sorted(((days, value) for value, days in groups.items()), key=lambda g: g[0][0])


def to_osm(rules: Iterable[WeeklyRule], closed_on_public_holidays: bool) -> str:
    """The canonical OSM opening_hours string of weekly rules ("" when there is no rule).

    Days with identical hours are grouped ("Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00").
    A weekday whose hours differ between odd and even ISO weeks gets one `week 1-53/2` rule
    and/or one `week 2-52/2` rule holding its complete hours for those weeks, so that no rule
    overrides another. "PH off" is appended when the place is closed on public holidays.
    """
    odd, even = _effective_masks(rules)
    every_week: dict[int, tuple] = {}
    odd_weeks: dict[int, tuple] = {}
    even_weeks: dict[int, tuple] = {}
    for day in range(7):
        if odd[day] == even[day]:
            if odd[day]:
                every_week[day] = tuple(_ranges(odd[day]))
            continue
        if odd[day]:
            odd_weeks[day] = tuple(_ranges(odd[day]))
        if even[day]:
            even_weeks[day] = tuple(_ranges(even[day]))
    parts: list[str] = []
    for prefix, per_day in (
        ("", every_week),
        (OSM_ODD_WEEKS + " ", odd_weeks),
        (OSM_EVEN_WEEKS + " ", even_weeks),
    ):
        parts.extend(
            f"{prefix}{_osm_days(days)} {_osm_ranges(ranges)}"
            for days, ranges in _group_days(per_day)
        )
    if not parts:
        return ""
    if closed_on_public_holidays:
        parts.append("PH off")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# French wording


def _day_names() -> list[str]:
    return [
        _("lundi"),
        _("mardi"),
        _("mercredi"),
        _("jeudi"),
        _("vendredi"),
        _("samedi"),
        _("dimanche"),
    ]


def _format_time(value: datetime.time | int) -> str:
    """French time: "9 h", "17 h 30", "12 h 05"."""
    minutes = value if isinstance(value, int) else _minutes(value)
    hours, rest = divmod(minutes, 60)
    if rest:
        return _("%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": rest}
    return _("%(hours)d h") % {"hours": hours}


def _join_fr(items: list[str]) -> str:
    """ "a", "a et b", "a, b et c"."""
    if len(items) <= 1:
        return "".join(items)
    return _("%(items)s et %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


def _days_fr(weekdays: list[int], with_article: bool) -> str:
    """ "du lundi au vendredi", "le lundi, le mercredi et le vendredi" (no article: "lundi")."""
    names = _day_names()
    items = []
    for first, last in _runs(weekdays):
        if last - first >= 2:
            items.append(
                _("du %(first)s au %(last)s") % {"first": names[first], "last": names[last]}
            )
        else:
            items.extend(
                _("le %(day)s") % {"day": names[day]} if with_article else names[day]
                for day in range(first, last + 1)
            )
    return _join_fr(items)


def _with_weeks(text: str, weeks: str) -> str:
    if weeks == WEEKS_ODD:
        return _("%(text)s (semaines impaires)") % {"text": text}
    if weeks == WEEKS_EVEN:
        return _("%(text)s (semaines paires)") % {"text": text}
    return text


def _description_groups(rules: Iterable[WeeklyRule]) -> list[tuple[list[int], str, tuple]]:
    """(weekdays, weeks, ranges) of the canonical rules, grouping days with identical hours,
    ordered by first weekday then all/odd/even weeks."""
    per_weeks: dict[str, dict[int, list[tuple[int, int]]]] = {w: {} for w in WEEKS_CHOICES}
    for rule in normalize_rules(rules):
        per_weeks[rule.weeks].setdefault(rule.weekday, []).append(
            (_minutes(rule.start), _minutes(rule.end))
        )
    groups: list[tuple[list[int], str, tuple]] = []
    for weeks, per_day in per_weeks.items():
        groups.extend(
            (days, weeks, ranges)
            for days, ranges in _group_days({day: tuple(r) for day, r in per_day.items()})
        )
    return sorted(groups, key=lambda g: (g[0][0], WEEKS_CHOICES.index(g[1])))


def describe_fr(rules: Iterable[WeeklyRule], closed_on_public_holidays: bool) -> str:
    """Plain French for residents, e.g. "du lundi au vendredi de 9 h à 12 h et de 14 h à
    17 h 30 ; le samedi de 9 h à 12 h, fermé les jours fériés"."""
    groups = _description_groups(rules)
    if not groups:
        return _("horaires non communiqués")
    parts = []
    for days, weeks, ranges in groups:
        hours = _join_fr(
            [
                _("de %(start)s à %(end)s")
                % {"start": _format_time(start), "end": _format_time(end)}
                for start, end in ranges
            ]
        )
        parts.append(
            _with_weeks(
                _("%(days)s %(hours)s") % {"days": _days_fr(days, True), "hours": hours}, weeks
            )
        )
    text = " ; ".join(parts)
    if closed_on_public_holidays:
        text = _("%(hours)s, fermé les jours fériés") % {"hours": text}
    return text


def describe_fr_lines(rules: Iterable[WeeklyRule], closed_on_public_holidays: bool) -> list[str]:
    """The same as lines for a list or table, e.g. ["Du lundi au vendredi : 9 h – 12 h,
    14 h – 17 h", "Samedi : 9 h – 12 h", "Fermé les jours fériés"]."""
    groups = _description_groups(rules)
    if not groups:
        return [_("Horaires non communiqués")]
    lines = []
    for days, weeks, ranges in groups:
        label = _with_weeks(_days_fr(days, False), weeks)
        hours = ", ".join(
            _("%(start)s – %(end)s") % {"start": _format_time(start), "end": _format_time(end)}
            for start, end in ranges
        )
        lines.append(
            _("%(days)s : %(hours)s") % {"days": label[:1].upper() + label[1:], "hours": hours}
        )
    if closed_on_public_holidays:
        lines.append(_("Fermé les jours fériés"))
    return lines


def _range_fr(rule: WeeklyRule) -> str:
    text = _("%(start)s – %(end)s") % {
        "start": _format_time(rule.start),
        "end": _format_time(rule.end),
    }
    return _with_weeks(text, rule.weeks)


def find_overlaps(rules: Iterable[WeeklyRule]) -> list[str]:
    """French messages for rules ending before they start and for every pair of rules of the
    same weekday, applying to common weeks, whose time ranges overlap (touching is fine).
    Invalid weekdays or week choices are reported too."""
    names = _day_names()
    messages = []
    valid = []
    for rule in rules:
        try:
            _check_rule(rule)
        except HoursError as error:
            messages.append(error.message)
        else:
            valid.append(rule)
    for index, first in enumerate(valid):
        for second in valid[index + 1 :]:
            if first.weekday != second.weekday:
                continue
            if WEEKS_ALL not in (first.weeks, second.weeks) and first.weeks != second.weeks:
                continue
            first_start, first_end = _minutes(first.start), _minutes(first.end)
            second_start, second_end = _minutes(second.start), _minutes(second.end)
            if first_start < second_end and second_start < first_end:
                one, two = sorted((first, second))
                messages.append(
                    _("Le %(day)s, les plages %(first)s et %(second)s se chevauchent.")
                    % {
                        "day": names[first.weekday],
                        "first": _range_fr(one),
                        "second": _range_fr(two),
                    }
                )
    return messages


# --------------------------------------------------------------------------------------------
# OSM input


def _not_understood(value: str, reason: str) -> HoursError:
    return HoursError(
        _(
            "Horaires non compris : « %(value)s » (%(reason)s). Seuls les horaires de chaque "
            "semaine (jours et heures), les semaines paires ou impaires et la fermeture les jours "
            "fériés (« PH off ») sont pris en charge ; pas les périodes de l'année, les dates "
            "précises, le lever ou le coucher du soleil, les heures de fermeture non précisées "
            "ni les commentaires."
        )
        % {"value": value, "reason": reason}
    )


def _open_by_day(value: str, oh: OpeningHours) -> dict[datetime.date, int]:
    """Minute masks of the open intervals of each day of the evaluation window."""
    days: dict[datetime.date, int] = {}
    start = datetime.datetime.combine(_WINDOW_START, datetime.time())
    end = datetime.datetime.combine(_WINDOW_END, datetime.time())
    for begin, finish, state, comment in oh.intervals(start, end):
        if comment:
            raise _not_understood(value, _("commentaire « %(comment)s »") % {"comment": comment})
        if state == State.UNKNOWN:
            raise _not_understood(value, _("horaires indiqués comme inconnus"))
        if state != State.OPEN:
            continue
        if finish.time() == datetime.time() or finish.date() != begin.date():
            raise _not_understood(value, _("ouverture jusqu'à minuit ou au-delà"))
        mask = _mask(_minutes(begin.time()), _minutes(finish.time()))
        days[begin.date()] = days.get(begin.date(), 0) | mask
    return days


def _evaluate(value: str, country: str | None = None) -> dict[datetime.date, int]:
    if not value:
        return {}
    return _open_by_day(value, OpeningHours(value, country=country))


def _overlap_warnings(value: str) -> list[str]:
    """Warnings for rules of the string listing overlapping time ranges (they get merged)."""
    warnings = []
    for part in value.split(";"):
        for selector in _TIME_SELECTOR_RE.findall(part):
            spans = sorted(
                (int(h1) * 60 + int(m1), int(h2) * 60 + int(m2))
                for h1, m1, h2, m2 in _TIMESPAN_RE.findall(selector)
            )
            if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)):
                warnings.append(
                    _("Plages horaires qui se chevauchent ou en double, fusionnées : « %(rule)s ».")
                    % {"rule": part.strip()}
                )
                break
    return warnings


def parse_osm(value: str) -> ParsedHours:
    """Weekly rules of an OSM opening_hours string, as found in open-data files.

    The string is evaluated with the `opening_hours` library (no public holidays) over a whole
    ISO year; every weekday must have the same hours on all odd weeks and on all even weeks,
    otherwise the string is not weekly hours and HoursError is raised. "PH off"/"PH closed" sets
    closed_on_public_holidays, after checking with the French calendar that it really applies.
    Overlapping ranges are merged, with a warning. Raises HoursError with a French message.
    """
    value = (value or "").strip()
    if not value:
        return ParsedHours([], False, [])
    try:
        oh = OpeningHours(value)
    except Exception as error:
        raise HoursError(
            _(
                "Horaires illisibles : « %(value)s » n'est pas au format OpenStreetMap attendu, "
                "par exemple « Mo-Fr 09:00-12:00,14:00-17:00; PH off »."
            )
            % {"value": value}
        ) from error

    for word in _TOKEN_RE.findall(value):
        if word[0].isdigit():
            allowed = _NUMBER_RE.fullmatch(word) is not None
        elif word[0].isalpha():
            allowed = word.lower() in _ALLOWED_WORDS
        else:
            allowed = word in _ALLOWED_SYMBOLS
        if word == '"':
            raise _not_understood(value, _("commentaire entre guillemets"))
        if not allowed:
            raise _not_understood(
                value, _("« %(word)s » n'est pas pris en charge") % {"word": word}
            )

    by_day = _open_by_day(value, oh)
    odd: list[int | None] = [None] * 7
    even: list[int | None] = [None] * 7
    day = _WINDOW_START
    while day < _WINDOW_END:
        masks = odd if day.isocalendar().week % 2 else even
        mask = by_day.get(day, 0)
        if masks[day.weekday()] is None:
            masks[day.weekday()] = mask
        elif masks[day.weekday()] != mask:
            raise _not_understood(value, _("les horaires changent au fil de l'année"))
        day += datetime.timedelta(days=1)
    rules = _rules_from_masks([m or 0 for m in odd], [m or 0 for m in even])

    warnings = _overlap_warnings(value)
    if _evaluate(to_osm(rules, False)) != by_day:  # safety net: to_osm must say the same
        raise _not_understood(value, _("les horaires changent au fil de l'année"))

    written_closed = _PH_CLOSED_RE.search(value) is not None
    closed = written_closed
    if _PH_RE.search(value):
        # Compare with the French calendar known to the library: the first reading giving the
        # same hours wins; "PH off" written before the hours it should apply to is overridden.
        with_holidays = _evaluate(value, country="FR")
        for candidate in (written_closed, not written_closed):
            if _evaluate(to_osm(rules, candidate), country="FR") == with_holidays:
                closed = candidate
                break
        else:
            raise _not_understood(value, _("horaires particuliers les jours fériés"))
        if written_closed and not closed:
            warnings.append(
                _(
                    "« PH off » est suivi d'horaires qui le remplacent : le lieu est considéré "
                    "comme ouvert les jours fériés."
                )
            )
    return ParsedHours(rules, closed, warnings)
