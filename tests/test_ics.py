"""iCalendar files: the resident's attachment, and the advisors' private feeds."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from lien.accounts.models import Membership
from lien.appointments.feeds import feed_create, feed_revoke
from lien.appointments.ics import appointment_ics
from lien.appointments.models import CalendarFeed, LocationType, Status
from lien.appointments.selectors import slots_for
from lien.appointments.services import appointment_book, appointment_cancel, appointment_move
from lien.journal.models import JournalEntry
from tests.conftest import make_appointment, make_motif

SITE = "https://rdv.ville-a.example"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "Lien <rendez-vous@ville-a.example>"


def parse(data: bytes) -> tuple[Calendar, list]:
    cal = Calendar.from_ical(data)
    return cal, list(cal.walk("VEVENT"))


def book(personas, after_days: int = 5):
    motif = personas.motif_a
    motif.what_to_bring = "Votre téléphone"
    motif.save()
    after = timezone.now() + dt.timedelta(days=after_days)
    slot = next(s for s in slots_for(motif, place=personas.place_a) if s.start > after)
    return appointment_book(
        motif=motif,
        start=slot.start,
        place=personas.place_a,
        first_name="Josette",
        phone="0612345678",
        email="josette@example.org",
    )


@pytest.mark.django_db
def test_the_attachment_describes_the_appointment(personas):
    appointment = book(personas)
    cal, [event] = parse(appointment_ics(appointment))
    assert str(cal["METHOD"]) == "REQUEST" and str(cal["VERSION"]) == "2.0"
    assert str(event["UID"]) == f"rdv-{appointment.pk}@rdv.ville-a.example"
    assert appointment.token not in str(event["UID"])
    assert event.decoded("DTSTART") == appointment.start
    assert event.decoded("DTEND") == appointment.end
    # Written in the structure's zone, with its VTIMEZONE, so calendars keep the wall time.
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Paris"
    assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert str(event["SUMMARY"]) == "Apprendre à utiliser mon téléphone (Ville A)"
    assert str(event["LOCATION"]) == "Club des seniors, 1 rue de la Mairie, 77000 Ville"
    description = str(event["DESCRIPTION"])
    assert "À apporter : Votre téléphone" in description
    assert f"{SITE}/rdv/{appointment.token}/" in description
    assert int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:rendez-vous@ville-a.example"
    assert str(event["ATTENDEE"]) == "mailto:josette@example.org"


@pytest.mark.django_db
def test_sequence_grows_with_each_change_and_cancel_says_so(personas):
    appointment = book(personas)
    later = next(
        s
        for s in slots_for(personas.motif_a, place=personas.place_a)
        if s.start > appointment.start + dt.timedelta(days=1)
    )
    appointment = appointment_move(appointment=appointment, start=later.start)
    _cal, [moved] = parse(appointment_ics(appointment))
    assert int(moved["SEQUENCE"]) == 1 and moved.decoded("DTSTART") == later.start

    appointment = appointment_cancel(appointment=appointment)
    cal, [cancelled] = parse(appointment_ics(appointment, cancel=True))
    assert str(cal["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 2
    assert "Ce rendez-vous est annulé." in str(cancelled["DESCRIPTION"])
    assert str(cancelled["UID"]) == str(moved["UID"])


@pytest.mark.django_db
def test_location_says_how_when_there_is_no_place(personas):
    phone = make_motif(personas.a, personas.place_a, location_type=LocationType.PHONE)
    appointment = make_appointment(phone, personas.advisor, None, dt.date(2027, 3, 4), dt.time(10))
    _cal, [event] = parse(appointment_ics(appointment))
    assert str(event["LOCATION"]) == "Par téléphone"
    home = make_motif(personas.a, personas.place_a, location_type=LocationType.HOME)
    visit = make_appointment(
        home, personas.advisor, None, dt.date(2027, 3, 4), dt.time(11), address="3 rue des Lilas"
    )
    _cal, [event] = parse(appointment_ics(visit))
    assert str(event["LOCATION"]) == "À votre domicile : 3 rue des Lilas"


# --- Feeds -----------------------------------------------------------------------------


def fetch(feed: CalendarFeed):
    return Client().get(f"/agenda/{feed.token}.ics")


@pytest.mark.django_db
def test_the_feed_lists_the_advisors_active_appointments_without_contact_details(personas):
    motif, advisor, place = personas.motif_a, personas.advisor, personas.place_a
    today = timezone.localdate()
    recent = make_appointment(motif, advisor, place, today - dt.timedelta(days=10), dt.time(9))
    old = make_appointment(motif, advisor, place, today - dt.timedelta(days=40), dt.time(9))
    far = make_appointment(motif, advisor, place, today + dt.timedelta(days=400), dt.time(9))
    cancelled = make_appointment(
        motif, advisor, place, today + dt.timedelta(days=20), dt.time(9), status=Status.EXCUSED
    )
    visit = make_appointment(
        make_motif(personas.a, place, location_type=LocationType.HOME),
        advisor,
        None,
        today + dt.timedelta(days=21),
        dt.time(9),
        first_name="Marcel",
        address="3 rue des Lilas",
        email="marcel@example.org",
    )
    feed = feed_create(structure=personas.a, advisor=advisor, actor=advisor)

    response = fetch(feed)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    cal, events = parse(response.content)
    uids = {str(e["UID"]) for e in events}
    expected = {personas.appointment_a, recent, visit}
    assert uids == {f"rdv-{a.pk}@rdv.ville-a.example" for a in expected}
    assert not {old.pk, far.pk, cancelled.pk} & {int(u[4:].split("@")[0]) for u in uids}
    summaries = {str(e["SUMMARY"]) for e in events}
    assert "Josette Durand – Apprendre à utiliser mon téléphone" in summaries
    for secret in (
        "+33612345678",
        "06 12 34 56 78",
        "0612345678",
        "marcel@example.org",
        "3 rue des Lilas",
        personas.appointment_a.token,
        visit.token,
    ):
        assert secret not in body
    assert "METHOD" not in cal or str(cal["METHOD"]) == "PUBLISH"


@pytest.mark.django_db
def test_the_feed_leaves_out_other_advisors(personas):
    other = make_appointment(
        personas.motif_a,
        personas.coordinator,
        personas.place_a,
        timezone.localdate() + dt.timedelta(days=7),
        dt.time(9),
    )
    _cal, events = parse(
        fetch(
            feed_create(structure=personas.a, advisor=personas.advisor, actor=personas.advisor)
        ).content
    )
    uids = {str(e["UID"]) for e in events}
    assert f"rdv-{other.pk}@rdv.ville-a.example" not in uids
    assert f"rdv-{personas.appointment_b.pk}@rdv.ville-a.example" not in uids
    assert uids == {f"rdv-{personas.appointment_a.pk}@rdv.ville-a.example"}


@pytest.mark.django_db
def test_a_revoked_or_replaced_feed_is_gone(personas):
    first = feed_create(structure=personas.a, advisor=personas.advisor, actor=personas.advisor)
    second = feed_create(structure=personas.a, advisor=personas.advisor, actor=personas.advisor)
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None
    assert fetch(first).status_code == 404
    assert fetch(second).status_code == 200
    feed_revoke(feed=second, actor=personas.coordinator)
    assert fetch(second).status_code == 404
    actions = list(
        JournalEntry.objects.filter(object_type="calendarfeed")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "calendar_feed.created",
        "calendar_feed.created",
        "calendar_feed.read",  # the fetch that worked: the feed names people
        "calendar_feed.revoked",
    ]


@pytest.mark.django_db
def test_an_unknown_token_is_404(personas):
    assert Client().get("/agenda/not-a-real-token.ics").status_code == 404


@pytest.mark.django_db
def test_the_feed_stops_when_the_advisor_leaves_the_structure(personas):
    feed = feed_create(structure=personas.a, advisor=personas.advisor, actor=personas.advisor)
    Membership.objects.filter(user=personas.advisor, structure=personas.a).delete()
    assert fetch(feed).status_code == 404


@pytest.mark.django_db
def test_a_feed_is_only_for_a_member(personas):
    with pytest.raises(ValidationError):
        feed_create(structure=personas.a, advisor=personas.outsider, actor=personas.outsider)


@pytest.mark.django_db
def test_the_feed_is_read_only(personas):
    feed = feed_create(structure=personas.a, advisor=personas.advisor, actor=personas.advisor)
    assert Client().post(f"/agenda/{feed.token}.ics").status_code == 405
