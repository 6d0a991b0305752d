"""The report form never changes things behind the advisor's back.

- From an appointment: the person on record it is linked to is the one helped; an appointment
  with no record linked starts *without a record*, and a record is found or created from its
  name and contact only when the advisor chooses that option.
- Remembered values (duration, where, materials) are shown as « Comme la dernière fois : … —
  modifier »; remembered materials are kept unless removed one by one, so a tap that meant
  "add" never removes one.
- Walk-ins (recorded as seen, maybe linked to a person) open the same pre-filled report.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from lien.activities.models import Activity, EntryDefaults
from lien.beneficiaries.models import Beneficiary
from lien.journal.models import JournalEntry
from tests.conftest import PARIS, make_appointment, signed_in

pytestmark = pytest.mark.django_db

BASE = "/equipe/ville-a/activites/"
# Pages get French no-break spaces (lien/core/typography.py); the tests read plain ones.
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


def report(p, **extra) -> dict:
    """What the advisor posts for an individual report at place_a, person aside."""
    data = {
        "date": yesterday().isoformat(),
        "duration": "45",
        "place_type": "lieu_activite",
        "place": str(p.place_a.pk),
        "themes": ["email"],
        "beneficiary": "",
        "autonomy": "autonome",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def past_appointment(p, *, first_name="Marcel", last_name="Petit", **extra):
    p.motif_a.themes = "|email|sante|"
    p.motif_a.save(update_fields=["themes"])
    appointment = make_appointment(
        p.motif_a, p.advisor, p.place_a, yesterday(), dt.time(10), first_name=first_name, **extra
    )
    appointment.last_name = last_name
    appointment.save(update_fields=["last_name"])
    return appointment


def identified_people(p) -> set[int]:
    return set(Beneficiary.objects.filter(structure=p.a, anonymous=False).values_list("pk"))


def checked(page: str, name: str) -> list[str]:
    """The values of the checked inputs named `name` in a page."""
    values = []
    for tag in re.findall(r"<input\b[^>]*>", page):
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag):
            found = re.search(r'value="([^"]*)"', tag)
            values.append(found.group(1) if found else "")
    return values


# --- The person of a report from an appointment ----------------------------------------------
def test_an_appointment_linked_to_a_person_shows_that_person(personas):
    appointment = past_appointment(personas)
    appointment.beneficiary = personas.beneficiary_a
    appointment.save(update_fields=["beneficiary"])
    client = signed_in(personas.advisor)
    page = client.get(f"{BASE}nouveau/?rdv={appointment.pk}").content.decode().translate(SPACES)
    assert checked(page, "beneficiary") == [str(personas.beneficiary_a.pk)]
    assert "Josette Durand" in page
    assert "Créer une fiche" not in page and "Reprendre la fiche" not in page
    before = identified_people(personas)
    assert (
        client.post(
            f"{BASE}nouveau/?rdv={appointment.pk}",
            report(personas, beneficiary=str(personas.beneficiary_a.pk)),
        ).status_code
        == 302
    )
    activity = Activity.objects.get(appointment=appointment)
    assert activity.accompaniments.get().beneficiary == personas.beneficiary_a
    assert identified_people(personas) == before


def test_choosing_no_record_for_a_linked_appointment_is_respected(personas):
    appointment = past_appointment(personas)
    appointment.beneficiary = personas.beneficiary_a
    appointment.save(update_fields=["beneficiary"])
    client = signed_in(personas.advisor)
    response = client.post(f"{BASE}nouveau/?rdv={appointment.pk}", report(personas))
    assert response.status_code == 302
    person = Activity.objects.get(appointment=appointment).accompaniments.get().beneficiary
    assert person.anonymous
    appointment.refresh_from_db()
    assert appointment.beneficiary == personas.beneficiary_a


def test_an_appointment_without_a_record_starts_without_one(personas):
    appointment = past_appointment(personas, phone="+33611223344", email="marcel@example.org")
    client = signed_in(personas.advisor)
    page = client.get(f"{BASE}nouveau/?rdv={appointment.pk}").content.decode().translate(SPACES)
    # The name is context; the default is no record, and nothing says "anonymous person".
    assert "Le rendez-vous est au nom de Marcel Petit, sans fiche liée" in page
    assert checked(page, "beneficiary") == [""]
    assert "Créer une fiche pour Marcel Petit" in page
    assert 'value="rdv"' in page
    assert "Personne anonyme" not in page
    assert checked(page, "from_contact") == []
    before = identified_people(personas)
    response = client.post(f"{BASE}nouveau/?rdv={appointment.pk}", report(personas))
    assert response.status_code == 302
    # Saved as it was shown: no record created, an anonymous accompaniment.
    assert identified_people(personas) == before
    assert not Beneficiary.objects.filter(phone="+33611223344").exists()
    person = Activity.objects.get(appointment=appointment).accompaniments.get().beneficiary
    assert person.anonymous and person.phone == "" and person.first_name == ""
    assert not JournalEntry.objects.filter(
        action="beneficiary.created", data__source="appointment"
    ).exists()


def test_a_record_is_created_only_when_the_advisor_chooses_it(personas):
    appointment = past_appointment(personas, phone="+33611223344")
    client = signed_in(personas.advisor)
    data = report(personas, beneficiary="rdv")
    assert client.post(f"{BASE}nouveau/?rdv={appointment.pk}", data).status_code == 302
    person = Beneficiary.objects.get(phone="+33611223344")
    assert (person.first_name, person.last_name, person.anonymous) == ("Marcel", "Petit", False)
    appointment.refresh_from_db()
    assert appointment.beneficiary == person
    assert Activity.objects.get(appointment=appointment).accompaniments.get().beneficiary == person


def test_a_record_with_the_same_contact_is_named_and_its_read_journalled(personas):
    appointment = past_appointment(personas, phone=personas.beneficiary_a.phone)
    client = signed_in(personas.advisor)
    page = client.get(f"{BASE}nouveau/?rdv={appointment.pk}").content.decode().translate(SPACES)
    assert "Reprendre la fiche de Josette Durand" in page
    assert checked(page, "beneficiary") == [""]
    assert JournalEntry.objects.filter(
        action="beneficiary.viewed", subject_id=personas.beneficiary_a.pk, data__page="report"
    ).exists()
    assert JournalEntry.objects.filter(
        action="appointment.viewed", object_id=appointment.pk, data__page="report"
    ).exists()
    assert (
        client.post(
            f"{BASE}nouveau/?rdv={appointment.pk}", report(personas, beneficiary="rdv")
        ).status_code
        == 302
    )
    row = Activity.objects.get(appointment=appointment).accompaniments.get()
    assert row.beneficiary == personas.beneficiary_a


def test_a_person_and_the_appointments_record_at_once_is_refused(personas):
    appointment = past_appointment(personas, phone="+33611223344")
    client = signed_in(personas.advisor)
    data = report(personas, beneficiary=str(personas.beneficiary_a.pk), from_contact="on")
    response = client.post(f"{BASE}nouveau/?rdv={appointment.pk}", data)
    assert response.status_code == 200
    page = response.content.decode().translate(SPACES)
    assert "Choisissez une seule personne" in page
    # The error summary's link leads to the choice of the person.
    assert 'href="#id_beneficiary"' in page and '<fieldset id="id_beneficiary">' in page
    assert not Activity.objects.filter(appointment=appointment).exists()
    assert not Beneficiary.objects.filter(phone="+33611223344").exists()


def test_an_error_keeps_the_choice_of_the_appointments_record(personas):
    appointment = past_appointment(personas, phone="+33611223344")
    client = signed_in(personas.advisor)
    response = client.post(
        f"{BASE}nouveau/?rdv={appointment.pk}", report(personas, beneficiary="rdv", themes=[])
    )
    page = response.content.decode().translate(SPACES)
    assert response.status_code == 200 and checked(page, "beneficiary") == ["rdv"]
    assert not Beneficiary.objects.filter(phone="+33611223344").exists()


# --- Walk-ins ---------------------------------------------------------------------------------
def _walk_in(p, start: dt.datetime, **extra):
    p.motif_a.themes = "|email|"
    p.motif_a.location_type = "phone"  # a walk-in is on site whatever its motif says
    p.motif_a.save(update_fields=["themes", "location_type"])
    appointment = make_appointment(
        p.motif_a,
        p.advisor,
        extra.pop("place", p.place_a),
        timezone.localdate(start),
        timezone.localtime(start).time(),
        channel="walk_in",
        status="seen",
        first_name=extra.pop("first_name", "Personne accueillie"),
        phone="",
        **extra,
    )
    appointment.last_name = ""
    appointment.save(update_fields=["last_name"])
    return appointment


def test_a_walk_in_opens_its_report_prefilled(personas):
    today = timezone.localdate()
    with time_machine.travel(dt.datetime.combine(today, dt.time(10), tzinfo=PARIS), tick=False):
        start = timezone.now() - dt.timedelta(minutes=5)
        appointment = _walk_in(personas, start, beneficiary=personas.beneficiary_a)
        client = signed_in(personas.advisor)
        response = client.get(f"{BASE}nouveau/?rdv={appointment.pk}")
        assert response.status_code == 200
        form = response.context["form"]
        assert form.initial["date"] == today and form.initial["duration"] == "30"
        assert form.initial["place_type"] == "lieu_activite"
        assert form.initial["place"] == personas.place_a.pk
        assert form.initial["themes"] == ["email"]
        page = response.content.decode().translate(SPACES)
        assert checked(page, "beneficiary") == [str(personas.beneficiary_a.pk)]
        data = report(
            personas,
            date=today.isoformat(),
            duration="30",
            beneficiary=str(personas.beneficiary_a.pk),
        )
        assert client.post(f"{BASE}nouveau/?rdv={appointment.pk}", data).status_code == 302
    activity = Activity.objects.get(appointment=appointment)
    assert activity.accompaniments.get().beneficiary == personas.beneficiary_a


def test_a_walk_in_known_by_no_contact_offers_no_record_to_create(personas):
    start = timezone.now() - dt.timedelta(hours=1)
    appointment = _walk_in(personas, start, place=None)
    client = signed_in(personas.advisor)
    page = client.get(f"{BASE}nouveau/?rdv={appointment.pk}").content.decode().translate(SPACES)
    assert checked(page, "beneficiary") == [""] and 'value="rdv"' not in page
    before = identified_people(personas)
    response = client.post(
        f"{BASE}nouveau/?rdv={appointment.pk}", report(personas, beneficiary="rdv")
    )
    assert response.status_code == 200 and not Activity.objects.filter(appointment=appointment)
    assert identified_people(personas) == before


def test_a_walk_in_without_a_place_takes_the_remembered_one(personas):
    EntryDefaults.objects.create(
        user=personas.advisor,
        structure=personas.a,
        values={"place_type": "lieu_activite", "place": personas.place_a.pk},
    )
    appointment = _walk_in(personas, timezone.now() - dt.timedelta(hours=1), place=None)
    response = signed_in(personas.advisor).get(f"{BASE}nouveau/?rdv={appointment.pk}")
    form = response.context["form"]
    assert form.initial["place"] == personas.place_a.pk
    assert (
        "Comme la dernière fois : <strong>Club des seniors</strong>"
        in response.content.decode().translate(SPACES)
    )


# --- Remembered values -------------------------------------------------------------------------
def remember(p, **values):
    saved = {
        "place_type": "domicile",
        "place": None,
        "commune": "Melun",
        "commune_insee": "77288",
        "duration": 50,
        "materials": ["ordinateur"],
        **values,
    }
    EntryDefaults.objects.update_or_create(
        user=p.advisor, structure=p.a, defaults={"values": saved}
    )


def test_remembered_values_are_a_sentence_not_ticked_boxes(personas):
    remember(personas, materials=["ordinateur", "telephone"])
    page = signed_in(personas.advisor).get(f"{BASE}nouveau/").content.decode().translate(SPACES)
    assert "Comme la dernière fois : <strong>Ordinateur, Téléphone</strong>" in page
    assert "Comme la dernière fois : <strong>50 min</strong>" in page
    assert "Comme la dernière fois : <strong>À domicile, Melun (77288)</strong>" in page
    assert page.count('<span class="change">modifier') == 3
    # No material box is ticked; the remembered ones travel as hidden values, each removable.
    assert checked(page, "materials") == []
    assert re.findall(r'<input type="hidden" name="materials_kept" value="(\w+)"', page) == [
        "ordinateur",
        "telephone",
    ]
    assert sorted(re.findall(r'name="materials_drop" value="(\w+)"', page)) == [
        "ordinateur",
        "telephone",
    ]
    # The boxes that add offer the other materials only.
    added = re.findall(r'name="materials" value="(\w+)"', page)
    assert "ordinateur" not in added and "tablette" in added
    # Folded: nothing to open unless the advisor wants to change.
    assert (
        '<details class="remembered">' in page and '<details class="remembered" open>' not in page
    )


def test_remembered_values_are_kept_when_the_advisor_adds_a_theme(personas):
    remember(personas)
    client = signed_in(personas.advisor)
    data = {
        "date": yesterday().isoformat(),
        "beneficiary": "",
        # What the unopened folds post: the pre-selected values and the kept materials.
        "duration_other": "50",
        "place_type": "domicile",
        "commune": "Melun",
        "commune_insee": "77288",
        "materials_kept": ["ordinateur"],
        "themes": ["email", "sante"],
    }
    assert client.post(f"{BASE}nouveau/", data).status_code == 302
    activity = Activity.objects.latest("pk")
    assert activity.materials == "|ordinateur|" and activity.themes == "|email|sante|"
    assert (activity.duration, activity.place_type, activity.commune_insee) == (
        50,
        "domicile",
        "77288",
    )


@pytest.mark.parametrize(
    ("tapped", "saved"),
    [
        ({"materials": ["telephone"]}, "|ordinateur|telephone|"),
        # The remembered value ticked again (not offered, but valid) changes nothing.
        ({"materials": ["ordinateur"]}, "|ordinateur|"),
        # Removing is its own box, saying so.
        ({"materials_drop": ["ordinateur"], "materials": ["telephone"]}, "|telephone|"),
        ({"materials_drop": ["ordinateur"]}, ""),
    ],
)
def test_a_tap_never_removes_a_remembered_material_silently(personas, tapped, saved):
    remember(personas)
    client = signed_in(personas.advisor)
    data = report(personas, materials_kept=["ordinateur"], **tapped)
    assert client.post(f"{BASE}nouveau/", data).status_code == 302
    assert Activity.objects.latest("pk").materials == saved


def test_a_form_error_keeps_the_remembered_values_and_opens_what_was_changed(personas):
    remember(personas)
    client = signed_in(personas.advisor)
    data = {
        "date": yesterday().isoformat(),
        "beneficiary": "",
        "duration_other": "50",
        "place_type": "domicile",
        "commune": "Melun",
        "commune_insee": "77288",
        "materials_kept": ["ordinateur"],
        "materials": ["tablette"],
        "themes": [],  # the error
    }
    response = client.post(f"{BASE}nouveau/", data)
    page = response.content.decode().translate(SPACES)
    assert response.status_code == 200 and "au moins une thématique" in page
    assert re.findall(r'name="materials_kept" value="(\w+)"', page) == ["ordinateur"]
    assert checked(page, "materials") == ["tablette"]
    assert "Comme la dernière fois : <strong>Ordinateur</strong>" in page
    # Only the fold the advisor changed opens (materials); duration and place stay folded.
    assert page.count('<details class="remembered" open>') == 1
    assert page.count('<details class="remembered">') == 2
    # A changed place opens its fold, as an error would.
    data.update(commune_insee="ABCDE")
    page = client.post(f"{BASE}nouveau/", data).content.decode().translate(SPACES)
    assert page.count('<details class="remembered" open>') == 2


def test_a_remembered_place_since_removed_is_not_offered(personas):
    remember(personas, place_type="lieu_activite", place=987654, commune="", commune_insee="")
    response = signed_in(personas.advisor).get(f"{BASE}nouveau/")
    assert "place" not in response.context["form"].initial
    assert (
        response.content.decode()
        .translate(SPACES)
        .translate(SPACES)
        .count('<span class="change">modifier')
        == 2
    )


def test_an_appointment_sets_where_and_how_long_memory_only_the_materials(personas):
    remember(personas)
    appointment = past_appointment(personas)
    response = signed_in(personas.advisor).get(f"{BASE}nouveau/?rdv={appointment.pk}")
    form = response.context["form"]
    assert form.initial["place"] == personas.place_a.pk and form.initial["duration"] == "30"
    assert "commune" not in form.initial
    page = response.content.decode().translate(SPACES)
    assert page.count('<span class="change">modifier') == 1
    assert "Comme la dernière fois : <strong>Ordinateur</strong>" in page
    assert "Cochées d'après le motif du rendez-vous." in page.replace("&#x27;", "'")


# --- Copies and edits show their own values ------------------------------------------------------
def test_a_copy_and_an_edit_show_their_own_materials_as_ticked_boxes(personas):
    remember(personas, materials=["ordinateur"])
    source = personas.activity_a
    source.materials = "|telephone|"
    source.save(update_fields=["materials"])
    client = signed_in(personas.advisor)
    for url in (f"{BASE}{source.pk}/dupliquer/", f"{BASE}{source.pk}/modifier/"):
        page = client.get(url).content.decode().translate(SPACES)
        assert "Comme la dernière fois" not in page, url
        assert checked(page, "materials") == ["telephone"], url
    # Editing: unticking a box of the report itself removes it, as it says.
    data = report(personas, beneficiary=str(personas.beneficiary_a.pk), materials=["tablette"])
    assert client.post(f"{BASE}{source.pk}/modifier/", data).status_code == 302
    source.refresh_from_db()
    assert source.materials == "|tablette|"
