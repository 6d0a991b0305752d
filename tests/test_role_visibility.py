"""What each role sees of a person, on every page it may open (docs/ARCHITECTURE.md, the
"Who sees what of a person" table; lien/accounts/permissions.py).

Every URL of the permission matrix is opened with structure A's objects by the coordinator
and by the reception, with the query strings that pre-fill or search a person, and its text
is searched for markers of what that role may not read:
- coordinator: no identity (names), no contact (phone, e-mail, address), no resident's message
  and no notes;
- reception: name and contact (to book), but never notes, a resident's message or a report.
"""

import pytest
from django.urls import reverse

from lien.accounts import permissions as perms
from lien.appointments.models import Message
from lien.journal.models import JournalEntry
from tests.conftest import signed_in
from tests.test_permissions import MATRIX, A, url_kwargs

NAME = ("Josette", "Durand")
CONTACT = ("+33612345678", "06 12 34 56 78", "josette.durand@example.org", "RUE-DOMICILE-A")
NOTES = ("NOTE-CONFIDENTIELLE-A", "NOTE-CRA-A", "MESSAGE-RDV-A")

FORBIDDEN = {
    "coordinator": NAME + CONTACT + NOTES,
    "reception": NOTES,
}


def _dress(personas) -> None:
    """Give A's appointment every kind of personal value, and a message sent to it."""
    appointment = personas.appointment_a
    appointment.email = "josette.durand@example.org"
    appointment.note = "MESSAGE-RDV-A"
    appointment.address = "RUE-DOMICILE-A"
    appointment.save()
    Message.objects.create(
        structure=personas.a,
        appointment=appointment,
        kind="confirmation",
        channel="email",
        recipient="josette.durand@example.org",
        due_at=appointment.start,
        idempotency_key="visibility-test",
    )


def _urls(personas) -> list[str]:
    kwargs = url_kwargs(personas, A)
    day = personas.appointment_a.start.date().isoformat()
    person = personas.beneficiary_a.pk
    urls = []
    for name, expected in MATRIX.items():
        if expected is None or not (
            name.split(":")[0] in STAFF_APPS or name == "site:staff_dashboard"
        ):
            continue
        urls.append(reverse(name, kwargs=kwargs.get(name, {})))
    # The query strings that show a person: pre-fills, searches, the day of the appointment.
    agenda = reverse("agenda:agenda", kwargs={"structure_slug": "ville-a"})
    urls += [
        f"{agenda}?jour={day}&vue=jour",
        f"{agenda}?jour={day}",
        f"{agenda}?q=Josette",
        f"{agenda}?q=0612345678",
        reverse("agenda:book", kwargs={"structure_slug": "ville-a"}) + f"?personne={person}",
        reverse("beneficiaries:list", kwargs={"structure_slug": "ville-a"}) + "?q=Josette",
        reverse("activities:create", kwargs={"structure_slug": "ville-a"}) + f"?personne={person}",
        reverse("activities:create", kwargs={"structure_slug": "ville-a"})
        + f"?rdv={personas.appointment_a.pk}",
        reverse("activities:people", kwargs={"structure_slug": "ville-a"}) + "?q=Josette",
    ]
    return urls


STAFF_APPS = ("places", "schedule", "agenda", "beneficiaries", "gdpr", "activities")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["coordinator", "reception"])
def test_a_role_reads_nothing_it_may_not(personas, role):
    _dress(personas)
    client = signed_in(getattr(personas, role))
    opened = 0
    for url in _urls(personas):
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(url, **headers)
            assert response.status_code < 500, url
            if response.status_code != 200:
                continue
            opened += 1
            text = response.content.decode()
            leaked = [marker for marker in FORBIDDEN[role] if marker in text]
            assert not leaked, f"{role} reads {leaked} on {url}"
    assert opened >= 20  # the pages were really opened, not all refused


@pytest.mark.django_db
def test_the_advisor_sees_everything_the_others_may_not(personas):
    """The markers are real: the same pages show them to the advisor."""
    _dress(personas)
    client = signed_in(personas.advisor)
    text = client.get(f"/equipe/ville-a/rendez-vous/{personas.appointment_a.pk}/").content.decode()
    for marker in ("Josette", "06 12 34 56 78", "josette.durand@example.org", "MESSAGE-RDV-A"):
        assert marker in text
    assert (
        "josette.durand@example.org"
        in client.get("/equipe/ville-a/rendez-vous/messages/").content.decode()
    )


@pytest.mark.django_db
def test_reception_sees_name_and_contact_to_book(personas):
    _dress(personas)
    client = signed_in(personas.reception)
    detail = client.get(
        f"/equipe/ville-a/rendez-vous/{personas.appointment_a.pk}/"
    ).content.decode()
    assert "Josette" in detail and "06 12 34 56 78" in detail
    page = client.get(f"/equipe/ville-a/rendez-vous/nouveau/?personne={personas.beneficiary_a.pk}")
    form = page.context["form"]
    assert form.initial["first_name"] == "Josette" and form.initial["phone"] == "06 12 34 56 78"


@pytest.mark.django_db
def test_the_booking_prefill_is_refused_to_coordinators_and_journalled(personas):
    url = f"/equipe/ville-a/rendez-vous/nouveau/?personne={personas.beneficiary_a.pk}"
    assert signed_in(personas.coordinator).get(url).status_code == 403
    assert not JournalEntry.objects.filter(action="beneficiary.viewed").exists()
    assert signed_in(personas.reception).get(url).status_code == 200
    entry = JournalEntry.objects.get(action="beneficiary.viewed")
    assert entry.subject_id == personas.beneficiary_a.pk and entry.actor == personas.reception
    assert entry.data["page"] == "appointment.book"


@pytest.mark.django_db
def test_appointment_pages_and_searches_are_journalled_without_the_words(personas):
    client = signed_in(personas.reception)
    client.get(f"/equipe/ville-a/rendez-vous/{personas.appointment_a.pk}/")
    viewed = JournalEntry.objects.get(action="appointment.viewed")
    assert viewed.subject_id == personas.beneficiary_a.pk
    client.get("/equipe/ville-a/rendez-vous/?q=Josette")
    searched = JournalEntry.objects.get(action="appointment.searched")
    assert searched.data == {"results": 1}
    assert "Josette" not in str(searched.data) + str(searched.personal)
    day = personas.appointment_a.start.date().isoformat()
    client.get(f"/equipe/ville-a/rendez-vous/?jour={day}&vue=jour")
    listed = JournalEntry.objects.get(action="appointment.listed")
    assert listed.data["shown"] == 1 and listed.data["view"] == "jour"
    # The coordinator's agenda shows no name: nothing to journal, and no search either.
    coordinator = signed_in(personas.coordinator)
    page = coordinator.get("/equipe/ville-a/rendez-vous/?q=Josette").content.decode()
    assert 'name="q"' not in page
    # (Only the coordinator's sign-in is journalled.)
    readings = JournalEntry.objects.filter(actor=personas.coordinator)
    assert readings.exclude(action__startswith="account.").count() == 0


def test_the_table_is_least_privilege():
    coordinator, reception = perms.PERMISSIONS["coordinator"], perms.PERMISSIONS["reception"]
    personal = {perms.VIEW_IDENTITY, perms.VIEW_CONTACT, perms.VIEW_NOTES, perms.VIEW_PROFILE}
    assert not personal & coordinator
    assert not {perms.VIEW_ACTIVITY_NAMES, perms.VIEW_ACTIVITY_NOTES} & coordinator
    assert {perms.VIEW_IDENTITY, perms.VIEW_CONTACT} <= reception
    assert not {perms.VIEW_NOTES, perms.VIEW_PROFILE, perms.VIEW_ACTIVITIES} & reception
    with pytest.raises(ValueError):
        perms.can(None, "beneficiary.view_everything")
