"""Staff side of appointments: agenda, booking on behalf, statuses, walk-ins, motifs, absences."""

import datetime as dt

import pytest
from django.utils import timezone

from lien.appointments.models import Absence, Appointment, Motif, Status
from lien.appointments.selectors import slots_for
from lien.core.templatetags.lien import long_date
from lien.journal.models import JournalEntry
from tests.conftest import PARIS, make_appointment, open_thursday, signed_in


@pytest.mark.django_db
def test_reception_books_on_behalf_of_a_caller(personas):
    client = signed_in(personas.reception)
    base = "/equipe/ville-a/rendez-vous/nouveau/"
    page = client.get(f"{base}?motif={personas.motif_a.pk}").content.decode()
    assert "4. Horaire" in page  # one place only: straight to the times
    start = dt.datetime.combine(open_thursday(personas), dt.time(15), tzinfo=PARIS)
    response = client.post(
        f"{base}?motif={personas.motif_a.pk}",
        {"debut": start.isoformat(), "first_name": "Marcel", "phone": "06 11 22 33 44"},
    )
    appointment = Appointment.objects.get(first_name="Marcel")
    assert response.status_code == 302
    assert response["Location"] == f"/equipe/ville-a/rendez-vous/{appointment.pk}/"
    assert appointment.channel == "staff" and appointment.created_by == personas.reception
    assert appointment.phone == "+33611223344"
    entry = JournalEntry.objects.get(action="appointment.booked", object_id=appointment.pk)
    assert entry.actor == personas.reception


@pytest.mark.django_db
def test_booking_a_taken_time_offers_alternatives(personas):
    start = dt.datetime.combine(open_thursday(personas), dt.time(14), tzinfo=PARIS)
    make_appointment(
        personas.motif_a, personas.advisor, personas.place_a, start.date(), dt.time(14)
    )
    response = signed_in(personas.reception).post(
        f"/equipe/ville-a/rendez-vous/nouveau/?motif={personas.motif_a.pk}",
        {"debut": start.isoformat(), "first_name": "Marcel", "phone": "0611223344"},
    )
    body = response.content.decode()
    assert "Ce créneau vient d&#x27;être réservé." in body
    assert "Autres créneaux libres" in body
    assert Appointment.objects.filter(first_name="Marcel").count() == 0


@pytest.mark.django_db
def test_staff_booking_needs_a_contact(personas):
    start = dt.datetime.combine(open_thursday(personas), dt.time(15), tzinfo=PARIS)
    response = signed_in(personas.reception).post(
        f"/equipe/ville-a/rendez-vous/nouveau/?motif={personas.motif_a.pk}",
        {"debut": start.isoformat(), "first_name": "Marcel"},
    )
    assert "Indiquez un numéro de téléphone ou une adresse e-mail" in response.content.decode()
    assert not Appointment.objects.filter(first_name="Marcel").exists()


@pytest.mark.django_db
def test_staff_cancel_revokes_frees_the_slot_and_journals(personas):
    future = make_appointment(
        personas.motif_a, personas.advisor, personas.place_a, open_thursday(personas), dt.time(15)
    )
    client = signed_in(personas.reception)
    url = f"/equipe/ville-a/rendez-vous/{future.pk}/annuler/"
    assert "Annuler ce rendez-vous\u202f?" in client.get(url).content.decode()
    client.post(url)
    future.refresh_from_db()
    assert future.status == Status.REVOKED and future.cancelled_at is not None
    assert any(s.start == future.start for s in slots_for(personas.motif_a, staff=True))
    assert JournalEntry.objects.filter(
        action="appointment.cancelled", actor=personas.reception
    ).exists()


@pytest.mark.django_db
def test_staff_moves_an_appointment(personas):
    future = make_appointment(
        personas.motif_a, personas.advisor, personas.place_a, open_thursday(personas), dt.time(14)
    )
    new_start = dt.datetime.combine(open_thursday(personas, 2), dt.time(16), tzinfo=PARIS)
    client = signed_in(personas.advisor)
    assert (
        "Nouvel horaire"
        in client.get(f"/equipe/ville-a/rendez-vous/{future.pk}/deplacer/").content.decode()
    )
    client.post(
        f"/equipe/ville-a/rendez-vous/{future.pk}/deplacer/", {"debut": new_start.isoformat()}
    )
    future.refresh_from_db()
    assert future.start == new_start
    assert JournalEntry.objects.filter(action="appointment.moved", object_id=future.pk).exists()


@pytest.mark.django_db
def test_statuses_follow_what_happened(personas):
    past = make_appointment(
        personas.motif_a, personas.advisor, personas.place_a, dt.date(2026, 10, 1), dt.time(14)
    )
    future = make_appointment(
        personas.motif_a, personas.advisor, personas.place_a, open_thursday(personas), dt.time(15)
    )
    client = signed_in(personas.advisor)
    client.post(f"/equipe/ville-a/rendez-vous/{past.pk}/statut/", {"status": "seen"})
    past.refresh_from_db()
    assert past.status == Status.SEEN
    response = client.post(
        f"/equipe/ville-a/rendez-vous/{future.pk}/statut/", {"status": "noshow"}, follow=True
    )
    assert "pas encore eu lieu" in response.content.decode()
    future.refresh_from_db()
    assert future.status == Status.UNKNOWN
    # Reception cannot record what happened.
    assert (
        signed_in(personas.reception)
        .post(f"/equipe/ville-a/rendez-vous/{past.pk}/statut/", {"status": "noshow"})
        .status_code
        == 403
    )
    assert JournalEntry.objects.filter(
        action="appointment.status_changed", object_id=past.pk, actor=personas.advisor
    ).exists()


@pytest.mark.django_db
def test_walk_in_is_recorded_as_seen(personas):
    response = signed_in(personas.advisor).post(
        "/equipe/ville-a/rendez-vous/sans-rendez-vous/",
        {"motif": personas.motif_a.pk, "place": personas.place_a.pk, "first_name": ""},
    )
    walk_in = Appointment.objects.get(channel="walk_in")
    assert response.status_code == 302
    assert walk_in.status == Status.SEEN and walk_in.first_name == "Personne accueillie"


@pytest.mark.django_db
def test_reception_does_not_read_the_residents_note(personas):
    personas.appointment_a.note = "Je suis sourde, merci d'écrire."
    personas.appointment_a.save()
    url = f"/equipe/ville-a/rendez-vous/{personas.appointment_a.pk}/"
    assert "merci d&#x27;écrire" in signed_in(personas.advisor).get(url).content.decode()
    assert "merci d&#x27;écrire" not in signed_in(personas.reception).get(url).content.decode()


@pytest.mark.django_db
def test_agenda_week_day_and_search(personas):
    client = signed_in(personas.reception)
    day_a = personas.appointment_a.start.date()
    week = client.get(f"/equipe/ville-a/rendez-vous/?jour={day_a}").content.decode()
    assert "Josette" in week and long_date(day_a).lower() in week.lower()
    day_b = day_a - dt.timedelta(days=1)
    day = client.get(f"/equipe/ville-a/rendez-vous/?jour={day_b}&vue=jour").content.decode()
    assert "Josette" not in day
    found = client.get("/equipe/ville-a/rendez-vous/?q=06 12 34").content.decode()
    assert "Josette" in found
    other = client.get("/equipe/ville-a/rendez-vous/?q=Josette&jour=x").content.decode()
    assert f"/rendez-vous/{personas.appointment_a.pk}/" in other
    assert f"/rendez-vous/{personas.appointment_b.pk}/" not in other  # B's Josette


@pytest.mark.django_db
def test_motif_on_site_needs_a_place(personas):
    client = signed_in(personas.coordinator)
    response = client.post(
        "/equipe/ville-a/rendez-vous/motifs/nouveau/",
        {
            "title": "Ma retraite en ligne",
            "duration": "45",
            "location_type": "public_office",
            "min_delay_hours": "2",
            "max_delay_days": "30",
            "buffer_minutes": "0",
            "active": "on",
            "bookable_by_residents": "on",
        },
    )
    assert "Choisissez au moins un lieu" in response.content.decode()
    assert not Motif.objects.filter(title="Ma retraite en ligne").exists()
    response = client.post(
        "/equipe/ville-a/rendez-vous/motifs/nouveau/",
        {
            "title": "Ma retraite en ligne",
            "duration": "45",
            "location_type": "phone",
            "min_delay_hours": "2",
            "max_delay_days": "30",
            "buffer_minutes": "0",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert Motif.objects.get(title="Ma retraite en ligne").location_type == "phone"


@pytest.mark.django_db
def test_absence_removes_slots_and_bad_ranges_are_refused(personas):
    thursday = open_thursday(personas)
    client = signed_in(personas.advisor)
    before = [s for s in slots_for(personas.motif_a, staff=True) if s.start.date() == thursday]
    assert before
    response = client.post(
        "/equipe/ville-a/rendez-vous/absences/",
        {
            "advisor": personas.advisor.pk,
            "start": f"{thursday}T13:00",
            "end": f"{thursday}T18:00",
            "reason": "Formation",
        },
    )
    assert response.status_code == 302
    after = [s for s in slots_for(personas.motif_a, staff=True) if s.start.date() == thursday]
    assert after == []
    count = Absence.objects.count()
    response = client.post(
        "/equipe/ville-a/rendez-vous/absences/",
        {"advisor": personas.advisor.pk, "start": f"{thursday}T18:00", "end": f"{thursday}T13:00"},
    )
    assert "La fin de l&#x27;absence doit être après son début." in response.content.decode()
    assert Absence.objects.count() == count


@pytest.mark.django_db
def test_advisor_creates_replaces_and_revokes_the_private_feed(personas, client):
    staff = signed_in(personas.advisor)
    staff.post("/equipe/ville-a/rendez-vous/agenda-ics/", {"action": "create"})
    page = staff.get("/equipe/ville-a/rendez-vous/agenda-ics/").content.decode()
    first = page.split("/agenda/")[1].split(".ics")[0]
    assert client.get(f"/agenda/{first}.ics").status_code == 200
    staff.post("/equipe/ville-a/rendez-vous/agenda-ics/", {"action": "create"})
    assert client.get(f"/agenda/{first}.ics").status_code == 404
    page = staff.get("/equipe/ville-a/rendez-vous/agenda-ics/").content.decode()
    second = page.split("/agenda/")[1].split(".ics")[0]
    staff.post("/equipe/ville-a/rendez-vous/agenda-ics/", {"action": "revoke"})
    assert client.get(f"/agenda/{second}.ics").status_code == 404


@pytest.mark.django_db
def test_reception_books_for_a_person_on_record(personas):
    from urllib.parse import quote

    from lien.appointments.selectors import distinct_times

    person = personas.beneficiary_a
    client = signed_in(personas.reception)
    base = f"/equipe/ville-a/rendez-vous/nouveau/?personne={person.pk}"
    first = client.get(base).content.decode()
    assert f"motif={personas.motif_a.pk}&amp;personne={person.pk}" in first
    times = distinct_times(slots_for(personas.motif_a, place=personas.place_a, staff=True))
    slot = next(s for s in times if s.start > timezone.now() + dt.timedelta(days=2))
    when = quote(slot.start.isoformat())
    url = f"{base}&motif={personas.motif_a.pk}&lieu={personas.place_a.pk}&debut={when}"
    page = client.get(url).content.decode()
    assert 'value="Josette"' in page and "06 12 34 56 78" in page
    response = client.post(
        url,
        {"first_name": "Josette", "last_name": "Durand", "phone": "06 12 34 56 78"},
    )
    assert response.status_code == 302
    booked = Appointment.objects.exclude(pk=personas.appointment_a.pk).get(beneficiary=person)
    assert booked.channel == "staff" and booked.start == slot.start
