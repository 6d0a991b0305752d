"""Every page that shows a person is journalled by the selector that returns the person.

Reads go through `beneficiaries.selectors.beneficiary_for / record_read / search_people`,
`activities.selectors.activity_for` and `appointments.selectors.appointment_for`; the pages
below were missed when each view journalled its own reads.
"""

import pytest

from lien.journal.models import JournalEntry
from tests.conftest import make_beneficiary, signed_in


def _entries(personas, action):
    return list(
        JournalEntry.objects.filter(structure=personas.a, action=action, actor=personas.advisor)
    )


def _one_read(personas, action, page, **expected):
    entries = [e for e in _entries(personas, action) if e.data.get("page") == page]
    assert len(entries) == 1, [(e.action, e.data) for e in _entries(personas, action)]
    for key, value in expected.items():
        assert getattr(entries[0], key) == value, (key, getattr(entries[0], key), value)
    return entries[0]


@pytest.mark.parametrize(
    ("suffix", "page"),
    [("", "detail"), ("modifier/", "edit"), ("fusionner/", "merge")],
)
def test_a_persons_pages_journal_the_read(personas, suffix, page):
    person = personas.beneficiary_a
    url = f"/equipe/{personas.a.slug}/personnes/{person.pk}/{suffix}"
    assert signed_in(personas.advisor).get(url).status_code == 200
    entry = _one_read(personas, "beneficiary.viewed", page, subject_id=person.pk)
    assert entry.object_id == person.pk


def test_the_merge_confirmation_journals_both_people(personas):
    keep = personas.beneficiary_a
    other = make_beneficiary(personas.a, first_name="Doublon", last_name="Exemple")
    url = f"/equipe/{personas.a.slug}/personnes/{keep.pk}/fusionner/?avec={other.pk}"
    assert signed_in(personas.advisor).get(url).status_code == 200
    read = {
        e.subject_id
        for e in _entries(personas, "beneficiary.viewed")
        if e.data.get("page") == "merge"
    }
    assert read == {keep.pk, other.pk}


def test_the_merge_search_is_journalled_without_its_words(personas):
    keep = personas.beneficiary_a
    make_beneficiary(personas.a, first_name="Zéphyrine", last_name="Cherchée")
    url = f"/equipe/{personas.a.slug}/personnes/{keep.pk}/fusionner/?q=Zephyrine"
    assert signed_in(personas.advisor).get(url).status_code == 200
    entry = _one_read(personas, "beneficiary.searched", "merge")
    assert entry.data["results"] == 1
    assert "zephyrine" not in str(entry.data).lower()


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("{pk}/", "detail"),
        ("{pk}/modifier/", "edit"),
        ("{pk}/dupliquer/", "copy"),
        ("nouveau/?depuis={pk}", "copy"),
        ("{pk}/supprimer/", "delete"),
    ],
)
def test_a_reports_pages_journal_the_read(personas, path, page):
    activity = personas.activity_a
    url = f"/equipe/{personas.a.slug}/activites/" + path.format(pk=activity.pk)
    assert signed_in(personas.advisor).get(url).status_code == 200
    entry = _one_read(personas, "activity.viewed", page, object_id=activity.pk)
    assert entry.subject_id == personas.beneficiary_a.pk


def test_a_report_started_from_a_persons_page_journals_the_person(personas):
    person = personas.beneficiary_a
    url = f"/equipe/{personas.a.slug}/activites/nouveau/?personne={person.pk}"
    assert signed_in(personas.advisor).get(url).status_code == 200
    _one_read(personas, "beneficiary.viewed", "report", subject_id=person.pk)


def test_the_people_picker_journals_its_searches_without_their_words(personas):
    make_beneficiary(personas.a, first_name="Zéphyrine", last_name="Cherchée")
    url = f"/equipe/{personas.a.slug}/activites/personnes/?champ=beneficiary&beneficiary_q=Zeph"
    page = signed_in(personas.advisor).get(url, headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert "Zéphyrine" in page.content.decode()
    entry = _one_read(personas, "beneficiary.searched", "report")
    assert entry.data["results"] == 1
    assert "zeph" not in str(entry.data).lower()


@pytest.mark.parametrize(
    ("suffix", "page"), [("", "detail"), ("annuler/", "cancel"), ("deplacer/", "move")]
)
def test_an_appointments_pages_journal_the_read(personas, suffix, page):
    appointment = personas.appointment_a
    url = f"/equipe/{personas.a.slug}/rendez-vous/{appointment.pk}/{suffix}"
    assert signed_in(personas.advisor).get(url).status_code == 200
    _one_read(personas, "appointment.viewed", page, object_id=appointment.pk)


def test_booking_for_a_person_on_record_journals_the_prefill(personas):
    person = personas.beneficiary_a
    url = f"/equipe/{personas.a.slug}/rendez-vous/nouveau/?personne={person.pk}"
    assert signed_in(personas.advisor).get(url).status_code == 200
    _one_read(personas, "beneficiary.viewed", "appointment.book", subject_id=person.pk)


def test_a_coordinator_reading_no_name_leaves_no_read_of_a_person(personas):
    appointment = personas.appointment_a
    url = f"/equipe/{personas.a.slug}/rendez-vous/{appointment.pk}/"
    assert signed_in(personas.coordinator).get(url).status_code == 200
    assert not JournalEntry.objects.filter(
        action="appointment.viewed", actor=personas.coordinator
    ).exists()
