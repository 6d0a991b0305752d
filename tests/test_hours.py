"""Tests of lien.places.hours: weekly rules <-> OSM opening_hours, French wording.

Public holidays are tested in test_holidays.py.

No database is needed: the module is pure.
"""

import datetime
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opening_hours import OpeningHours, State

from lien.places.hours import (
    HoursError,
    ParsedHours,
    WeeklyRule,
    describe_fr,
    describe_fr_lines,
    find_overlaps,
    normalize_rules,
    parse_osm,
    to_osm,
)

T = datetime.time
LEGACY_DIR = Path(__file__).resolve().parent / "data" / "lieux"
LEGACY_FILES = [
    "legacy-v0-charente.json",
    "legacy-v0-nouvelle-caledonie.json",
    "legacy-v0-bus-france-services-charente.json",
]
MONDAY_W51 = datetime.date(2026, 12, 14)  # ISO 2026-W51: then W52, W53 and 2027-W01 (odd, odd)


def rule(weekday, start, end, weeks="all"):
    return WeeklyRule(weekday, T(*start), T(*end), weeks)


def weekdays(days, start, end, weeks="all"):
    return [rule(day, start, end, weeks) for day in days]


def expected_intervals(rules, first_day, days):
    """Open intervals the rules describe, computed independently of the module."""
    result = []
    for offset in range(days):
        day = first_day + datetime.timedelta(days=offset)
        parity = "odd" if day.isocalendar().week % 2 else "even"
        ranges = sorted(
            (r.start, r.end)
            for r in rules
            if r.weekday == day.weekday() and r.weeks in ("all", parity)
        )
        merged = []
        for start, end in ranges:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        result.extend(
            (datetime.datetime.combine(day, start), datetime.datetime.combine(day, end))
            for start, end in merged
        )
    return result


def osm_intervals(value, first_day, days, country=None):
    """Open intervals of an OSM string according to the opening_hours library."""
    if not value:
        return []
    start = datetime.datetime.combine(first_day, T())
    end = start + datetime.timedelta(days=days)
    return [
        (begin, finish)
        for begin, finish, state, _comment in OpeningHours(value, country=country).intervals(
            start, end
        )
        if state == State.OPEN
    ]


def assert_french_error(error, value):
    message = str(error)
    assert message.startswith("Horaires "), message
    assert f"« {value} »" in message, message


# ------------------------------------------------------------------------------------------
# to_osm


WEEKDAYS_MORNING_AFTERNOON = [
    *weekdays(range(5), (9, 0), (12, 0)),
    *weekdays(range(5), (14, 0), (17, 0)),
    rule(5, (9, 0), (12, 0)),
]


def test_to_osm_groups_consecutive_days():
    assert (
        to_osm(WEEKDAYS_MORNING_AFTERNOON, False) == "Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00"
    )


def test_to_osm_lists_non_consecutive_days_and_appends_ph_off():
    assert to_osm(weekdays([4, 0, 2], (9, 0), (12, 0)), True) == "Mo,We,Fr 09:00-12:00; PH off"


def test_to_osm_alternate_weeks():
    assert to_osm([rule(3, (14, 0), (17, 0), "odd")], False) == "week 1-53/2 Th 14:00-17:00"
    assert to_osm([rule(1, (9, 30), (12, 0), "even")], True) == "week 2-52/2 Tu 09:30-12:00; PH off"


def test_to_osm_mixed_parities_on_one_day_do_not_override_each_other():
    rules = [rule(0, (9, 0), (12, 0)), rule(0, (14, 0), (17, 0), "odd")]
    value = to_osm(rules, False)
    assert value == "week 1-53/2 Mo 09:00-12:00,14:00-17:00; week 2-52/2 Mo 09:00-12:00"
    assert osm_intervals(value, MONDAY_W51, 28) == expected_intervals(rules, MONDAY_W51, 28)


def test_to_osm_without_rules_is_empty():
    assert to_osm([], False) == ""
    assert to_osm([], True) == ""


def test_to_osm_merges_overlapping_rules():
    rules = [rule(0, (9, 0), (12, 0)), rule(0, (11, 0), (13, 0)), rule(0, (13, 0), (14, 0))]
    assert to_osm(rules, False) == "Mo 09:00-14:00"


def test_to_osm_refuses_a_rule_ending_before_it_starts():
    with pytest.raises(HoursError, match="l'heure de fin"):
        to_osm([rule(0, (12, 0), (9, 0))], False)


# ------------------------------------------------------------------------------------------
# French wording


def test_describe_fr_single_day_closed_on_public_holidays():
    assert (
        describe_fr([rule(3, (14, 0), (17, 0))], True)
        == "le jeudi de 14 h à 17 h, fermé les jours fériés"
    )


def test_describe_fr_groups_days():
    rules = [
        *weekdays(range(5), (9, 0), (12, 0)),
        *weekdays(range(5), (14, 0), (17, 30)),
        rule(5, (9, 0), (12, 0)),
    ]
    assert describe_fr(rules, False) == (
        "du lundi au vendredi de 9 h à 12 h et de 14 h à 17 h 30 ; le samedi de 9 h à 12 h"
    )


def test_describe_fr_non_consecutive_days():
    assert (
        describe_fr(weekdays([0, 2, 4], (9, 0), (12, 0)), False)
        == "le lundi, le mercredi et le vendredi de 9 h à 12 h"
    )


def test_describe_fr_alternate_weeks_and_minutes():
    assert (
        describe_fr([rule(1, (9, 0), (12, 0), "odd")], False)
        == "le mardi de 9 h à 12 h (semaines impaires)"
    )
    assert (
        describe_fr([rule(1, (9, 0), (12, 15), "even")], False)
        == "le mardi de 9 h à 12 h 15 (semaines paires)"
    )
    assert (
        describe_fr([rule(0, (8, 5), (9, 0)), rule(6, (10, 0), (11, 0))], False)
        == "le lundi de 8 h 05 à 9 h ; le dimanche de 10 h à 11 h"
    )


def test_describe_fr_mixed_runs_and_three_ranges():
    rules = [
        *weekdays([0, 1, 2, 4], (8, 0), (10, 0)),
        *weekdays([0, 1, 2, 4], (11, 0), (12, 0)),
        *weekdays([0, 1, 2, 4], (14, 0), (17, 0)),
        rule(5, (9, 0), (12, 0)),
        rule(6, (9, 0), (12, 0)),
    ]
    assert describe_fr(rules, False) == (
        "du lundi au mercredi et le vendredi de 8 h à 10 h, de 11 h à 12 h et de 14 h à 17 h ; "
        "le samedi et le dimanche de 9 h à 12 h"
    )


def test_describe_fr_without_rules():
    assert describe_fr([], False) == "horaires non communiqués"
    assert describe_fr([], True) == "horaires non communiqués"


def test_describe_fr_lines():
    assert describe_fr_lines(WEEKDAYS_MORNING_AFTERNOON, True) == [
        "Du lundi au vendredi : 9 h – 12 h, 14 h – 17 h",
        "Samedi : 9 h – 12 h",
        "Fermé les jours fériés",
    ]
    assert describe_fr_lines([rule(0, (9, 0), (12, 0)), rule(0, (14, 0), (17, 0))], False) == [
        "Lundi : 9 h – 12 h, 14 h – 17 h"
    ]
    assert describe_fr_lines(
        [*weekdays([0, 2, 4], (9, 0), (12, 0)), rule(1, (14, 0), (17, 30), "odd")], False
    ) == [
        "Lundi, mercredi et vendredi : 9 h – 12 h",
        "Mardi (semaines impaires) : 14 h – 17 h 30",
    ]
    assert describe_fr_lines([], True) == ["Horaires non communiqués"]


# ------------------------------------------------------------------------------------------
# find_overlaps


def test_find_overlaps_reports_overlapping_ranges_with_common_weeks():
    messages = find_overlaps([rule(0, (9, 0), (12, 0)), rule(0, (11, 0), (13, 0))])
    assert messages == ["Le lundi, les plages 9 h – 12 h et 11 h – 13 h se chevauchent."]
    for first, second in [("all", "odd"), ("all", "even"), ("odd", "odd"), ("even", "even")]:
        found = find_overlaps([rule(2, (9, 0), (12, 0), first), rule(2, (10, 0), (11, 0), second)])
        assert len(found) == 1, (first, second)
        assert found[0].startswith("Le mercredi, les plages 9 h – 12 h")
    assert len(find_overlaps([rule(4, (9, 0), (12, 0))] * 2)) == 1


def test_find_overlaps_accepts_touching_other_parity_and_other_days():
    assert find_overlaps([rule(0, (9, 0), (12, 0)), rule(0, (12, 0), (14, 0))]) == []
    assert find_overlaps([rule(0, (9, 0), (12, 0), "odd"), rule(0, (9, 0), (12, 0), "even")]) == []
    assert find_overlaps([rule(0, (9, 0), (12, 0)), rule(1, (9, 0), (12, 0))]) == []
    assert find_overlaps(WEEKDAYS_MORNING_AFTERNOON) == []


def test_find_overlaps_reports_rules_ending_before_they_start():
    assert find_overlaps([rule(1, (14, 0), (14, 0)), rule(3, (17, 0), (9, 30))]) == [
        "Le mardi, l'heure de fin (14 h) doit être après l'heure de début (14 h).",
        "Le jeudi, l'heure de fin (9 h 30) doit être après l'heure de début (17 h).",
    ]


def test_find_overlaps_reports_invalid_rules():
    messages = find_overlaps([rule(7, (9, 0), (12, 0)), rule(0, (9, 0), (12, 0), "weekly")])
    assert messages == [
        "Jour de la semaine invalide : 7.",
        "Choix de semaines invalide : weekly.",
    ]


def test_find_overlaps_counts_every_pair():
    rules = [rule(0, (9, 0), (12, 0)), rule(0, (10, 0), (11, 0), "odd"), rule(0, (8, 0), (18, 0))]
    assert len(find_overlaps(rules)) == 3


# ------------------------------------------------------------------------------------------
# parse_osm


def test_parse_osm_simple():
    parsed = parse_osm("Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00")
    assert parsed == ParsedHours(sorted(WEEKDAYS_MORNING_AFTERNOON), False, [])


@pytest.mark.parametrize("value", ["", "   ", None])
def test_parse_osm_empty(value):
    assert parse_osm(value) == ParsedHours([], False, [])


def test_parse_osm_later_rules_override_earlier_ones():
    parsed = parse_osm("Tu-Fr 10:00-12:30; Th off")
    assert parsed.rules == [rule(day, (10, 0), (12, 30)) for day in (1, 2, 4)]
    parsed = parse_osm("Mo-Fr 08:00-12:00; We 08:00-17:00")
    assert parsed.rules == [
        *weekdays([0, 1], (8, 0), (12, 0)),
        rule(2, (8, 0), (17, 0)),
        *weekdays([3, 4], (8, 0), (12, 0)),
    ]
    assert parsed.warnings == []


def test_parse_osm_merges_overlapping_ranges_with_a_warning():
    parsed = parse_osm("Mo,We 09:00-16:30,13:30-16:30; Tu 10:00-11:00")
    assert parsed.rules == [
        rule(0, (9, 0), (16, 30)),
        rule(1, (10, 0), (11, 0)),
        rule(2, (9, 0), (16, 30)),
    ]
    assert parsed.warnings == [
        "Plages horaires qui se chevauchent ou en double, fusionnées : "
        "« Mo,We 09:00-16:30,13:30-16:30 »."
    ]
    assert len(parse_osm("We 09:00-13:00,09:00-13:00").warnings) == 1
    # Touching ranges and additional rules are no overlap.
    assert parse_osm("Mo 09:00-12:00,12:00-13:00").warnings == []
    assert parse_osm("Mo-Fr 10:00-12:00, Sa 10:00-11:00").warnings == []


@pytest.mark.parametrize("suffix", ["; PH off", "; PH closed", ";PH off"])
def test_parse_osm_public_holidays_closed(suffix):
    parsed = parse_osm("Th 14:00-17:00" + suffix)
    assert parsed == ParsedHours([rule(3, (14, 0), (17, 0))], True, [])


def test_parse_osm_ph_off_overridden_by_later_rules():
    parsed = parse_osm("PH off; Mo-Fr 10:00-12:00")
    assert parsed.closed_on_public_holidays is False
    assert len(parsed.rules) == 5
    assert "jours fériés" in parsed.warnings[0]


def test_parse_osm_alternate_weeks():
    parsed = parse_osm("week 1-53/2 Tu 09:00-12:30,13:30-15:30; PH off")
    assert parsed == ParsedHours(
        [rule(1, (9, 0), (12, 30), "odd"), rule(1, (13, 30), (15, 30), "odd")], True, []
    )
    parsed = parse_osm("week 2-52/2 Th 08:45-12:15; PH off")
    assert parsed.rules == [rule(3, (8, 45), (12, 15), "even")]
    # Same hours on odd and even weeks: every week.
    parsed = parse_osm("week 1-53/2 Mo 09:00-12:00; week 2-52/2 Mo 09:00-12:00")
    assert parsed.rules == [rule(0, (9, 0), (12, 0))]
    # An alternate-week rule overrides the every-week rule of that day on those weeks only.
    parsed = parse_osm("Mo 09:00-12:00; week 1-53/2 Mo 14:00-17:00")
    assert parsed.rules == [rule(0, (9, 0), (12, 0), "even"), rule(0, (14, 0), (17, 0), "odd")]


@pytest.mark.parametrize("value", ["Lu-Ve 9h-12h", "Mo 25:00-26:00", "Mo-Fr 9-12", "n'importe"])
def test_parse_osm_syntax_errors(value):
    with pytest.raises(HoursError) as error:
        parse_osm(value)
    assert_french_error(error.value, value)
    assert "illisibles" in str(error.value)


@pytest.mark.parametrize(
    "value",
    [
        "Jul-Aug Mo 10:00-12:00",
        "Mo-Fr 09:00-12:00; Dec 25 off",
        "2025 Mo 10:00-12:00",
        "Mo sunrise-sunset",
        "Mo 10:00-12:00+",
        'Mo 10:00-12:00 "sur rendez-vous"',
        "Mo 10:00-12:00 unknown",
        "Mo 22:00-02:00",
        "Mo 14:00-24:00",
        "24/7",
        "week 5-10 Mo 10:00-12:00",
        "week 1-52/2 Mo 10:00-12:00",
        "Mo-Fr 10:00-12:00; PH 10:00-11:00",
        "Mo-Fr 10:00-12:00; SH off",
        "Mo[1] 10:00-12:00",
    ],
)
def test_parse_osm_refuses_what_is_not_weekly_hours(value):
    with pytest.raises(HoursError) as error:
        parse_osm(value)
    assert_french_error(error.value, value)
    assert str(error.value).startswith("Horaires non compris : ")
    assert "semaines paires ou impaires" in str(error.value)


def test_hours_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_osm("Lu-Ve 9h-12h")


# ------------------------------------------------------------------------------------------
# Round trips


def test_round_trip_examples():
    examples = [
        (WEEKDAYS_MORNING_AFTERNOON, True),
        (weekdays([0, 2, 4], (9, 0), (12, 0)), False),
        ([rule(3, (14, 0), (17, 0), "odd"), rule(1, (9, 0), (12, 0), "even")], True),
        ([rule(0, (9, 0), (12, 0)), rule(0, (14, 0), (17, 0), "odd")], False),
        ([rule(6, (0, 0), (23, 59))], False),
    ]
    for rules, closed in examples:
        value = to_osm(rules, closed)
        assert parse_osm(value) == ParsedHours(sorted(rules), closed, []), value
        assert osm_intervals(value, MONDAY_W51, 42) == expected_intervals(rules, MONDAY_W51, 42)


def test_ph_off_closes_on_public_holidays():
    rules = weekdays(range(7), (9, 0), (12, 0))
    may_first = datetime.date(2026, 5, 1)
    assert osm_intervals(to_osm(rules, True), may_first, 1, country="FR") == []
    assert len(osm_intervals(to_osm(rules, False), may_first, 1, country="FR")) == 1


@st.composite
def canonical_rule_sets(draw):
    """Rules as normalize_rules returns them: no range overlaps or touches another one of the
    same weekday, whatever the parity."""
    rules = []
    for weekday in range(7):
        points = sorted(draw(st.lists(st.integers(0, 23 * 60 + 59), unique=True, max_size=6)))
        for start, end in zip(points[0::2], points[1::2], strict=False):
            weeks = draw(st.sampled_from(["all", "odd", "even"]))
            rules.append(WeeklyRule(weekday, T(*divmod(start, 60)), T(*divmod(end, 60)), weeks))
    return draw(st.permutations(rules))


@st.composite
def any_rule_sets(draw):
    """Valid rules that may overlap, touch or repeat each other."""
    rules = []
    for _ in range(draw(st.integers(0, 8))):
        start, end = sorted(
            draw(st.lists(st.integers(0, 1439), unique=True, min_size=2, max_size=2))
        )
        rules.append(
            WeeklyRule(
                draw(st.integers(0, 6)),
                T(*divmod(start, 60)),
                T(*divmod(end, 60)),
                draw(st.sampled_from(["all", "odd", "even"])),
            )
        )
    return rules


@settings(max_examples=150, deadline=None)
@given(rules=canonical_rule_sets(), closed=st.booleans())
def test_property_round_trip(rules, closed):
    value = to_osm(rules, closed)
    assert bool(value) == bool(rules)
    assert find_overlaps(rules) == []
    assert normalize_rules(rules) == sorted(rules)
    assert parse_osm(value) == ParsedHours(sorted(rules), closed and bool(rules), [])
    assert osm_intervals(value, MONDAY_W51, 35) == expected_intervals(rules, MONDAY_W51, 35)


@settings(max_examples=150, deadline=None)
@given(rules=any_rule_sets())
def test_property_overlapping_rules_evaluate_to_their_union(rules):
    value = to_osm(rules, False)
    assert osm_intervals(value, MONDAY_W51, 28) == expected_intervals(rules, MONDAY_W51, 28)
    normalized = normalize_rules(rules)
    assert find_overlaps(normalized) == []
    assert to_osm(normalized, False) == value
    assert parse_osm(value).rules == normalized


# ------------------------------------------------------------------------------------------
# Legacy open data


def legacy_hours():
    values = []
    for name in LEGACY_FILES:
        path = LEGACY_DIR / name
        values.extend(
            (name, item["horaires"])
            for item in json.loads(path.read_text(encoding="utf-8"))
            if item.get("horaires")
        )
    return values


def test_legacy_opening_hours_are_understood():
    values = legacy_hours()
    assert len(values) >= 150
    understood = []
    reported = []
    for name, value in values:
        try:
            parsed = parse_osm(value)
        except HoursError as error:
            assert_french_error(error, value)
            reported.append((name, value, str(error)))
            continue
        understood.append(value)
        assert parsed.rules, value
        assert find_overlaps(parsed.rules) == []
        assert parsed.closed_on_public_holidays == ("PH off" in value), value
        canonical = to_osm(parsed.rules, parsed.closed_on_public_holidays)
        first_monday = datetime.date(2026, 2, 2)
        assert osm_intervals(canonical, first_monday, 56) == osm_intervals(
            value, first_monday, 56
        ), value
        # Public holidays included, over a year whose holidays fall on every weekday.
        new_year = datetime.date(2026, 1, 1)
        assert osm_intervals(canonical, new_year, 365, "FR") == osm_intervals(
            value, new_year, 365, "FR"
        ), value
    print(f"legacy opening hours: {len(understood)} understood, {len(reported)} reported")
    for name, value, message in reported:
        print(f"  {name}: {value!r}: {message}")
    assert reported == []
    assert len(understood) == len(values)


def test_legacy_examples_keep_their_meaning():
    parsed = parse_osm("Tu-Fr 10:00-12:30,15:00-18:00; Sa 10:00-12:30; Th off")
    assert {r.weekday for r in parsed.rules} == {1, 2, 4, 5}
    parsed = parse_osm("Mo-Sa 08:00-11:00; Tu,Th 13:00-17:00; We 08:00-11:00,13:00-17:00")
    assert describe_fr(parsed.rules, parsed.closed_on_public_holidays) == (
        "le lundi, le vendredi et le samedi de 8 h à 11 h ; "
        "le mardi et le jeudi de 13 h à 17 h ; le mercredi de 8 h à 11 h et de 13 h à 17 h"
    )
    parsed = parse_osm("Mo 09:00-12:00,14:00-18:00;Tu 09:00-12:00,09:00-18:00")
    assert parsed.rules == [
        rule(0, (9, 0), (12, 0)),
        rule(0, (14, 0), (18, 0)),
        rule(1, (9, 0), (18, 0)),
    ]
    assert len(parsed.warnings) == 1
