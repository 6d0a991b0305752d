"""The itinerant schedule: recurrence, exceptions, holidays, closures and conflicts."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from lien.schedule.models import Presence
from lien.schedule.occurrences import PresenceRule, conflicts, expand
from lien.schedule.selectors import occurrences_between
from tests.conftest import pin_calendar, signed_in

PARIS = ZoneInfo("Europe/Paris")

# Tests about fixed dates in 2027 pin A's presence to have begun then.
SEPTEMBER_2026 = dt.date(2026, 9, 3)


def rule(**kw) -> PresenceRule:
    base = {
        "id": 1,
        "advisor_id": 1,
        "place_id": 10,
        "mode": "public_office",
        "weekday": 3,
        "start": dt.time(14),
        "end": dt.time(17),
        "every_n_weeks": 1,
        "valid_from": dt.date(2026, 9, 3),
        "valid_until": None,
    }
    return PresenceRule(**{**base, **kw})


def days(occurrences):
    return [o.day for o in occurrences]


def test_weekly_presence_every_thursday():
    got = expand([rule()], dt.date(2026, 11, 23), dt.date(2026, 12, 13), tz=PARIS)
    assert days(got) == [dt.date(2026, 11, 26), dt.date(2026, 12, 3), dt.date(2026, 12, 10)]
    assert got[0].start == dt.datetime(2026, 11, 26, 14, tzinfo=PARIS)


def test_alternate_weeks_count_from_the_first_week():
    r = rule(every_n_weeks=2, valid_from=dt.date(2026, 11, 23))  # from the week of Mon 23
    got = expand([r], dt.date(2026, 11, 23), dt.date(2026, 12, 31), tz=PARIS)
    assert days(got) == [dt.date(2026, 11, 26), dt.date(2026, 12, 10), dt.date(2026, 12, 24)]


def test_date_range_exceptions_holidays_and_closures_remove_days():
    r = rule(valid_until=dt.date(2026, 12, 31))
    got = expand(
        [r],
        dt.date(2026, 11, 1),
        dt.date(2027, 1, 31),
        tz=PARIS,
        cancelled=frozenset({(1, dt.date(2026, 12, 17))}),
        closures={10: [(dt.date(2026, 12, 24), dt.date(2026, 12, 26))]},
        is_holiday=lambda d: d == dt.date(2026, 11, 5),
    )
    assert days(got) == [
        dt.date(2026, 11, 12),
        dt.date(2026, 11, 19),
        dt.date(2026, 11, 26),
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 10),
        dt.date(2026, 12, 31),
    ]


def test_same_input_same_output_sorted():
    rules = [rule(id=2, weekday=0, start=dt.time(9), end=dt.time(12)), rule()]
    a = expand(rules, dt.date(2026, 11, 1), dt.date(2026, 11, 30), tz=PARIS)
    b = expand(list(reversed(rules)), dt.date(2026, 11, 1), dt.date(2026, 11, 30), tz=PARIS)
    assert a == b == sorted(a)


def test_conflicts_respect_alternate_weeks():
    odd = rule(every_n_weeks=2, valid_from=dt.date(2026, 9, 3))
    even = rule(id=2, every_n_weeks=2, valid_from=dt.date(2026, 9, 10), place_id=11)
    assert conflicts(odd, even) is None
    weekly = rule(id=3, place_id=12, start=dt.time(16), end=dt.time(18))
    assert conflicts(odd, weekly) == dt.date(2026, 9, 3)
    touching = rule(id=4, start=dt.time(17), end=dt.time(18))
    assert conflicts(rule(), touching) is None


@pytest.mark.django_db
def test_public_holiday_of_the_structure_is_skipped(personas):
    pin_calendar(personas, since=SEPTEMBER_2026)
    # 11 November 2027 is a Thursday and a public holiday.
    found = occurrences_between(personas.a, dt.date(2027, 11, 8), dt.date(2027, 11, 14))
    assert found == []
    found = occurrences_between(personas.a, dt.date(2027, 11, 15), dt.date(2027, 11, 21))
    assert [o.day for o in found] == [dt.date(2027, 11, 18)]


@pytest.mark.django_db
def test_advisor_adds_a_presence_and_conflicts_are_refused(personas):
    client = signed_in(personas.advisor)
    data = {
        "advisor": personas.advisor.pk,
        "mode": "public_office",
        "place": personas.place_a.pk,
        "weekday": "3",
        "start": "16:00",
        "end": "18:00",
        "every_n_weeks": "1",
        "valid_from": "2026-09-01",
        "note": "",
    }
    response = client.post("/equipe/ville-a/planning/nouvelle/", data)
    assert response.status_code == 200
    assert "Chevauchement avec une autre présence" in response.content.decode()
    assert Presence.objects.filter(advisor=personas.advisor).count() == 1
    data.update(start="17:00", end="18:30")
    assert client.post("/equipe/ville-a/planning/nouvelle/", data).status_code == 302
    assert Presence.objects.filter(advisor=personas.advisor).count() == 2


@pytest.mark.django_db
def test_presence_form_refuses_bad_input_in_french(personas):
    client = signed_in(personas.coordinator)
    data = {
        "advisor": personas.advisor.pk,
        "mode": "public_office",
        "place": "",
        "weekday": "1",
        "start": "12:00",
        "end": "09:00",
        "every_n_weeks": "1",
        "valid_from": "2026-09-01",
        "valid_until": "2026-08-01",
    }
    body = client.post("/equipe/ville-a/planning/nouvelle/", data).content.decode()
    assert "Choisissez le lieu de la permanence." in body
    assert "L&#x27;heure de fin doit être après l&#x27;heure de début." in body
    assert "La date de fin doit être après la date de début." in body
    assert Presence.objects.count() == 2


@pytest.mark.django_db
def test_outsider_cannot_be_scheduled_in_another_structure(personas):
    client = signed_in(personas.coordinator)
    data = {
        "advisor": personas.outsider.pk,
        "mode": "phone",
        "weekday": "1",
        "start": "09:00",
        "end": "10:00",
        "every_n_weeks": "1",
        "valid_from": "2026-09-01",
    }
    body = client.post("/equipe/ville-a/planning/nouvelle/", data).content.decode()
    assert "Sélectionnez un choix valide" in body
    assert not Presence.objects.filter(advisor=personas.outsider, structure=personas.a).exists()


@pytest.mark.django_db
def test_cancelling_a_date_removes_it_from_the_public_week(personas, client):
    pin_calendar(personas, since=SEPTEMBER_2026)  # a test about the week of 11 January 2027
    url = "/ville-a/cette-semaine/?semaine=2027-01-11"
    assert "Club des seniors" in client.get(url).content.decode()
    staff = signed_in(personas.advisor)
    response = staff.post(
        f"/equipe/ville-a/planning/{personas.presence_a.pk}/annulations/",
        {"date": "2027-01-14", "reason": "Formation"},
    )
    assert response.status_code == 302
    assert "Club des seniors" not in client.get(url).content.decode()
    wrong_day = staff.post(
        f"/equipe/ville-a/planning/{personas.presence_a.pk}/annulations/", {"date": "2027-01-13"}
    )
    assert "n&#x27;a pas lieu ce jour-là" in wrong_day.content.decode()
