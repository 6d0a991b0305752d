"""A walk-in: a time (now by default, never later), a motif taken on site, a person on record
found with the picker or a first name only, then straight on to its report.

The clock is set to 15 h 10 today (Paris), so that « an hour ago » is still today.
"""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from lien.appointments import services
from lien.appointments.models import Appointment, Channel, Status
from lien.beneficiaries.models import Beneficiary
from lien.journal.models import JournalEntry
from tests.conftest import PARIS, make_appointment, make_motif, signed_in

# Pages get French no-break spaces (before « : », in « 14 h »): read as plain spaces.
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
URL = "/equipe/ville-a/rendez-vous/sans-rendez-vous/"
PICK = "/equipe/ville-a/personnes/chercher/"


@pytest.fixture
def afternoon():
    """Today at 15 h 10 in Paris, the clock standing still."""
    now = dt.datetime.combine(timezone.localdate(), dt.time(15, 10), tzinfo=PARIS)
    with time_machine.travel(now, tick=False):
        yield now


def today_at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(timezone.localdate(), dt.time(hour, minute), tzinfo=PARIS)


def post(personas, data, query=""):
    values = {"motif": personas.motif_a.pk, "place": personas.place_a.pk, **data}
    return signed_in(personas.advisor).post(f"{URL}{query}", values)


@pytest.mark.django_db
def test_a_walk_in_with_a_person_on_record_leads_to_its_report(personas, afternoon):
    person = personas.beneficiary_a
    client = signed_in(personas.advisor)
    page = client.get(f"{URL}?personne={person.pk}").content.decode().translate(SPACES)
    assert "Pour Josette Durand : le passage sera rattaché à sa fiche." in page
    assert 'name="first_name"' not in page  # the name comes from the record
    read = JournalEntry.objects.get(action="beneficiary.viewed", actor=personas.advisor)
    assert read.subject_id == person.pk and read.data["page"] == "appointment.walk_in"
    response = client.post(
        f"{URL}?personne={person.pk}",
        {"arrival": "14:20", "motif": personas.motif_a.pk, "place": personas.place_a.pk},
    )
    walk_in = Appointment.objects.get(channel=Channel.WALK_IN)
    assert response.status_code == 302
    assert response["Location"] == f"/equipe/ville-a/activites/nouveau/?rdv={walk_in.pk}"
    assert walk_in.beneficiary == person and walk_in.status == Status.SEEN
    assert (walk_in.first_name, walk_in.last_name) == ("Josette", "Durand")
    assert walk_in.start == today_at(14, 20) and walk_in.advisor == personas.advisor
    entry = JournalEntry.objects.get(action="appointment.walk_in_recorded")
    assert entry.object_id == walk_in.pk and entry.subject_id == person.pk
    # The report opens on it, about that person.
    report = client.get(response["Location"])
    assert report.status_code == 200
    assert f'value="{person.pk}"' in report.content.decode().translate(SPACES)


@pytest.mark.django_db
def test_the_time_is_now_by_default_and_editable(personas, afternoon):
    page = signed_in(personas.advisor).get(URL).content.decode().translate(SPACES)
    assert 'type="time" name="arrival" value="15:10"' in page
    post(personas, {"first_name": "", "arrival": ""})
    walk_in = Appointment.objects.get(channel=Channel.WALK_IN)
    assert walk_in.start == afternoon and walk_in.first_name == "Personne accueillie"


@pytest.mark.django_db
def test_a_time_still_to_come_is_refused_in_french(personas, afternoon):
    response = post(personas, {"arrival": "15:40", "first_name": "Gérard"})
    body = response.content.decode().translate(SPACES)
    assert response.status_code == 200
    assert "L&#x27;heure d&#x27;arrivée est encore à venir : indiquez une heure passée." in body
    assert 'role="alert"' in body and 'href="#id_arrival"' in body
    assert not Appointment.objects.filter(channel=Channel.WALK_IN).exists()
    # The service refuses it too, whoever calls it.
    with pytest.raises(ValidationError):
        services.appointment_record_walk_in(
            motif=personas.motif_a,
            advisor=personas.advisor,
            place=personas.place_a,
            actor=personas.advisor,
            start=afternoon + dt.timedelta(minutes=5),
        )


@pytest.mark.django_db
def test_a_one_off_keeps_a_first_name_and_creates_no_record(personas, afternoon):
    records = Beneficiary.objects.count()
    response = post(personas, {"arrival": "15:00", "first_name": "Gérard"})
    walk_in = Appointment.objects.get(channel=Channel.WALK_IN)
    assert response["Location"] == f"/equipe/ville-a/activites/nouveau/?rdv={walk_in.pk}"
    assert walk_in.first_name == "Gérard" and walk_in.beneficiary is None
    assert Beneficiary.objects.count() == records


@pytest.mark.django_db
def test_only_motifs_taken_on_site_are_offered(personas, afternoon):
    by_phone = make_motif(
        personas.a, personas.place_a, title="Rappel téléphonique", location_type="phone"
    )
    page = signed_in(personas.advisor).get(URL).content.decode().translate(SPACES)
    assert personas.motif_a.title in page and "Rappel téléphonique" not in page
    response = post(personas, {"motif": by_phone.pk, "arrival": "15:00"})
    assert response.status_code == 200
    assert not Appointment.objects.filter(channel=Channel.WALK_IN).exists()
    with pytest.raises(ValidationError):
        services.appointment_record_walk_in(
            motif=by_phone, advisor=personas.advisor, place=None, actor=personas.advisor
        )


@pytest.mark.django_db
def test_the_walk_in_page_offers_the_picker(personas, afternoon):
    client = signed_in(personas.advisor)
    page = client.get(URL).content.decode().translate(SPACES)
    assert f'hx-get="{PICK}?pour=passage"' in page
    # Without JavaScript: the search reloads the page with the people found as buttons.
    page = client.get(f"{URL}?qui=durand").content.decode().translate(SPACES)
    assert f'name="personne" value="{personas.beneficiary_a.pk}"' in page
    partial = client.get(f"{PICK}?pour=passage&qui=durand", headers={"hx-request": "true"})
    assert (
        f'name="personne" value="{personas.beneficiary_a.pk}"'
        in partial.content.decode().translate(SPACES)
    )
    pages = JournalEntry.objects.filter(action="beneficiary.searched").values_list(
        "data__page", flat=True
    )
    assert list(pages) == ["appointment.walk_in", "appointment.walk_in"]


@pytest.mark.django_db
def test_only_advisors_record_walk_ins(personas):
    for who in ("reception", "coordinator"):
        assert signed_in(getattr(personas, who)).get(URL).status_code == 403
    assert signed_in(personas.outsider).get(URL).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "data"),
    [
        ("", {"arrival": "25:99"}),
        ("", {"arrival": "x" * 300}),
        ("", {"motif": "abc"}),
        ("", {"place": "-1"}),
        ("", {"first_name": "x" * 500}),
        ("?personne=abc", {"arrival": "15:00"}),
        ("?qui=" + "x" * 500, {}),
    ],
)
def test_bad_input_gets_the_form_back(personas, afternoon, query, data):
    response = post(personas, data, query)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert not Appointment.objects.filter(channel=Channel.WALK_IN).exists()


@pytest.mark.django_db
def test_a_person_of_another_structure_is_not_found(personas, afternoon):
    query = f"?personne={personas.beneficiary_b.pk}"
    assert signed_in(personas.advisor).get(f"{URL}{query}").status_code == 404
    assert post(personas, {"arrival": "15:00"}, query).status_code == 404
    assert not Appointment.objects.filter(channel=Channel.WALK_IN).exists()


# --- A walk-in among the day's appointments ---------------------------------------------------
def walk_in_at(personas, hour: int, minute: int = 0, **extra) -> Appointment:
    return services.appointment_record_walk_in(
        motif=personas.motif_a,
        advisor=personas.advisor,
        place=personas.place_a,
        actor=personas.advisor,
        first_name="Gérard",
        start=today_at(hour, minute),
        **extra,
    )


@pytest.mark.django_db
def test_a_walk_in_ends_when_the_next_appointment_begins(personas, afternoon):
    """Arrived at 14:50 for a motif longer than the 10 minutes before the next appointment:
    recorded, ending at 15:00."""
    assert personas.motif_a.duration > 10
    make_appointment(
        personas.motif_a, personas.advisor, personas.place_a, timezone.localdate(), dt.time(15)
    )
    walk_in = walk_in_at(personas, 14, 50)
    assert walk_in.end == today_at(15) and walk_in.blocked_end == today_at(15)


@pytest.mark.django_db
def test_a_walk_in_during_an_appointment_still_to_mark_says_what_to_do(personas, afternoon):
    scheduled = make_appointment(
        personas.motif_a, personas.advisor, personas.place_a, timezone.localdate(), dt.time(14)
    )
    with pytest.raises(ValidationError) as refused:
        walk_in_at(personas, 14, 10)
    assert "marquez-le « Absent·e »" in " ".join(refused.value.messages)
    assert not Appointment.objects.filter(channel=Channel.WALK_IN).exists()
    # Nobody came: once marked absent, the time is free for the walk-in.
    services.appointment_set_status(
        appointment=scheduled, status=Status.NOSHOW, actor=personas.advisor
    )
    walk_in = walk_in_at(personas, 14, 10)
    assert walk_in.status == Status.SEEN


@pytest.mark.django_db
def test_a_second_walk_in_ends_the_first(personas, afternoon):
    """The first walk-in's end was the motif's length, a guess: the next arrival ends it."""
    first = walk_in_at(personas, 14)
    second = walk_in_at(personas, 14, 20)
    first.refresh_from_db()
    assert first.end == first.blocked_end == today_at(14, 20)
    assert second.start == today_at(14, 20)
    entry = JournalEntry.objects.get(action="appointment.walk_in_shortened")
    assert entry.object_id == first.pk


@pytest.mark.django_db
def test_a_walk_in_during_someone_seen_is_refused(personas, afternoon):
    seen = make_appointment(
        personas.motif_a, personas.advisor, personas.place_a, timezone.localdate(), dt.time(14)
    )
    services.appointment_set_status(appointment=seen, status=Status.SEEN, actor=personas.advisor)
    with pytest.raises(ValidationError) as refused:
        walk_in_at(personas, 14, 10)
    assert "Vous receviez déjà quelqu'un" in " ".join(refused.value.messages)
    seen.refresh_from_db()
    assert seen.end == today_at(14) + dt.timedelta(minutes=personas.motif_a.duration)
