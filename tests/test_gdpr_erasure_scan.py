"""Erasure leaves nothing: after it, no table holds the person's name, phone or e-mail.

The person is searched for (people list, agenda, report picker), opened, edited (the journal
keeps their old phone until the erasure), booked by staff from their record, booked online by
themselves *without* any link to the record, messaged (e-mail and SMS, sent by the worker),
and reported on; then an advisor erases them through the page, and every row of every table
of the database is read back.
"""

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from lien.activities.models import Activity
from lien.appointments import delivery
from lien.appointments.models import Appointment, Message
from lien.appointments.selectors import slots_for
from lien.appointments.services import appointment_book
from lien.beneficiaries.services import beneficiary_create, beneficiary_update
from lien.journal.models import JournalEntry
from tests.conftest import make_activity, signed_in

FIRST, LAST = "Yasmina", "Zorglub-Haddad"
PHONE, OLD_PHONE = "+33698123456", "+33698123400"
EMAIL = "yasmina.zh@example.org"
# How each value may appear: as stored, as shown, as typed.
MARKERS = ("yasmina", "zorglub", "698123456", "98 12 34 56", "698123400", "98 12 34 00", EMAIL)


def every_value_in_the_database():
    """(table, column, text) of every non-empty value of every table."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    yield table, column, str(value)


def leftovers() -> list[tuple[str, str, str]]:
    return [
        (table, column, marker)
        for table, column, text in every_value_in_the_database()
        for marker in MARKERS
        if marker in text.lower()
    ]


@pytest.mark.django_db
@override_settings(
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    SMS_BACKEND="console",
    SITE_URL="https://lien.example",
)
def test_an_erased_person_is_nowhere_in_the_database(personas):
    a, advisor = personas.a, personas.advisor
    person = beneficiary_create(
        structure=a,
        actor=advisor,
        anonymous=False,
        first_name=FIRST,
        last_name=LAST,
        phone=OLD_PHONE,
        email=EMAIL,
        birth_year=1961,
        notes=f"{FIRST} préfère le matin",
    )
    beneficiary_update(beneficiary=person, actor=advisor, phone=PHONE)  # old phone: journal

    client = signed_in(advisor)
    base = "/equipe/ville-a"
    # Searched, opened, picked, pre-filled: every reading is journalled.
    assert client.get(f"{base}/personnes/", {"q": "Zorglub"}).status_code == 200
    assert client.get(f"{base}/personnes/", {"q": "06 98 12 34 56"}).status_code == 200
    assert client.get(f"{base}/personnes/{person.pk}/").status_code == 200
    assert client.get(f"{base}/rendez-vous/", {"q": "Zorglub"}).status_code == 200
    picker = client.get(f"{base}/activites/personnes/", {"beneficiary_q": "Zorglub"})
    assert picker.status_code == 200
    reception = signed_in(personas.reception)
    assert reception.get(f"{base}/personnes/", {"q": "Yasmina"}).status_code == 200
    booked = reception.get(f"{base}/rendez-vous/nouveau/?personne={person.pk}")
    assert booked.status_code == 200

    # Booked by staff from the record (linked), and online by herself (linked to nothing).
    motif = personas.motif_a
    times = [s for s in slots_for(motif, place=personas.place_a) if s.start > timezone.now()]
    staff_booking = appointment_book(
        motif=motif,
        start=times[0].start,
        place=personas.place_a,
        first_name=FIRST,
        last_name=LAST,
        phone=PHONE,
        channel="staff",
        actor=personas.reception,
        beneficiary=person,
    )
    online = appointment_book(
        motif=motif,
        start=times[-1].start,
        place=personas.place_a,
        first_name=FIRST,
        last_name=LAST,
        phone="06 98 12 34 56",
        email=EMAIL.upper(),
        note=f"Bonjour, c'est {FIRST} {LAST}",
        channel="online",
    )
    assert online.beneficiary_id is None
    # The worker sends the confirmations (e-mail and SMS); the reminders wait.
    delivery.send_due_messages()
    assert Message.objects.filter(state="sent").count() >= 3
    # Reported on, with their name in the notes.
    make_activity(a, advisor, person, personas.place_a, notes=f"{FIRST} a créé son compte")
    assert leftovers(), "the markers are in the database before the erasure"

    response = client.post(f"{base}/personnes/{person.pk}/effacer/")
    assert response.status_code == 302

    assert leftovers() == []
    # What was theirs is still there, without them.
    for appointment in (staff_booking, online):
        appointment.refresh_from_db()
        assert appointment.first_name == "Personne anonymisée"
        assert appointment.status != "unknown" or appointment.start > timezone.now()
    assert Message.objects.filter(recipient="").count() >= 3
    assert Activity.objects.filter(accompaniments__beneficiary=person).exists()
    assert JournalEntry.objects.filter(action="beneficiary.erased", subject_id=person.pk).exists()


@pytest.mark.django_db
def test_erasure_leaves_other_peoples_bookings_alone(personas):
    """Only the person's own phone and e-mail match: a neighbour's booking stays whole."""
    person = beneficiary_create(
        structure=personas.a,
        actor=personas.advisor,
        anonymous=False,
        first_name=FIRST,
        last_name=LAST,
        phone=PHONE,
    )
    neighbour = personas.appointment_a  # Josette, another phone
    client = signed_in(personas.advisor)
    client.post(f"/equipe/ville-a/personnes/{person.pk}/effacer/")
    neighbour.refresh_from_db()
    assert neighbour.first_name == "Josette" and neighbour.phone == "+33612345678"
    assert Appointment.objects.filter(first_name="Personne anonymisée").count() == 0
