"""Activity reports: taxonomy rules, one row per participant, fast entry, lists and refusals."""

import datetime as dt
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lien.accounts.models import Role
from lien.activities import selectors, services
from lien.activities.models import Accompaniment, Activity, EntryDefaults
from lien.appointments.models import Status
from lien.core import taxonomy
from lien.journal.models import JournalEntry
from tests.conftest import (
    make_activity,
    make_appointment,
    make_beneficiary,
    make_member,
    signed_in,
)

BASE = "/equipe/ville-a/activites/"
PROCEDURE = taxonomy.PROCEDURE_THEME


def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


def report(p, **extra) -> dict:
    """A valid individual report of beneficiary_a at place_a, as the form posts it."""
    data = {
        "date": yesterday().isoformat(),
        "duration": "45",
        "place_type": "lieu_activite",
        "place": str(p.place_a.pk),
        "themes": ["email"],
        "beneficiary": str(p.beneficiary_a.pk),
        "autonomy": "autonome",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def workshop(p, **extra) -> dict:
    data = {
        "date": yesterday().isoformat(),
        "duration": "120",
        "place_type": "lieu_activite",
        "place": str(p.place_a.pk),
        "themes": ["navigation_sur_internet"],
        "workshop_title": "Découvrir internet",
        "level": "debutant",
        **{f"n_{c}": "0" for c in taxonomy.COLLECTIVE_COUNTERS},
    }
    data.update(extra)
    return data


def values(p, **extra) -> dict:
    data = {
        "date": yesterday(),
        "duration": 30,
        "place_type": "lieu_activite",
        "place": p.place_a,
        "themes": ["email"],
    }
    data.update(extra)
    return data


# --- Taxonomy rules ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_advisor_records_an_individual_accompaniment(personas):
    client = signed_in(personas.advisor)
    response = client.post(
        f"{BASE}nouveau/",
        report(
            personas,
            themes=[PROCEDURE, "email"],
            procedure_themes=["logement"],
            procedure_text="Demande de logement social",
            materials=["telephone"],
            tags="CAF, urgent",
            notes="Revenir la semaine prochaine",
        ),
    )
    assert response.status_code == 302
    activity = Activity.objects.filter(structure=personas.a).exclude(pk=personas.activity_a.pk)
    activity = activity.get()
    assert activity.themes == f"|{PROCEDURE}|email|"
    assert activity.procedure_themes == "|logement|"
    assert activity.tags == "|CAF|urgent|"
    assert activity.advisor == personas.advisor and activity.duration == 45
    row = activity.accompaniments.get()
    assert row.beneficiary == personas.beneficiary_a
    assert (row.gender, row.social_status, row.commune_insee) == ("feminin", "retraite", "77284")
    assert row.age_band == "soixante_dix_plus"
    # activity_a (four weeks ago) was earlier: not the first time.
    assert row.first_time is False
    personas.beneficiary_a.refresh_from_db()
    assert timezone.localdate(personas.beneficiary_a.last_activity_at) >= yesterday()
    entry = JournalEntry.objects.get(action="activity.created", object_id=activity.pk)
    assert entry.subject_id == personas.beneficiary_a.pk and entry.actor == personas.advisor
    assert "Revenir" not in str(entry.data) and "Josette" not in str(entry.data)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"date": "1999-12-31"}, "date", "1er janvier 2000"),
        ({"date": "tomorrow"}, "date", "dans le futur"),
        ({"duration": None, "duration_other": "0"}, "duration_other", "supérieure ou égale à 1"),
        ({"duration": None, "duration_other": "721"}, "duration_other", "inférieure ou égale"),
        ({"duration": None}, "duration", "Indiquez la durée"),
        ({"themes": []}, "themes", "au moins une thématique"),
        ({"procedure_themes": ["logement"]}, "procedure_themes", "Aide aux démarches"),
        ({"procedure_text": "CAF"}, "procedure_text", "Aide aux démarches"),
        ({"place": None}, "place", "Choisissez le lieu"),
        ({"place_type": "domicile", "place": None}, "commune", "code INSEE"),
        (
            {"place_type": "domicile", "commune": "Melun", "commune_insee": "ABCDE"},
            "commune_insee",
            "INSEE",
        ),
        ({"referral": "administration"}, "referral", "réorientée"),
    ],
)
def test_bad_input_gives_a_french_message_and_saves_nothing(personas, change, field, message):
    if change.get("date") == "tomorrow":
        change = {**change, "date": (timezone.localdate() + dt.timedelta(days=1)).isoformat()}
    client = signed_in(personas.advisor)  # its sign-in is journalled: before counting
    before = (Activity.objects.count(), Accompaniment.objects.count(), JournalEntry.objects.count())
    response = client.post(f"{BASE}nouveau/", report(personas, **change))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field]), errors[field]
    assert "corrigez les champs" in response.content.decode()
    after = (Activity.objects.count(), Accompaniment.objects.count(), JournalEntry.objects.count())
    assert after == before


@pytest.mark.django_db
def test_the_service_refuses_what_the_form_refuses(personas):
    with pytest.raises(ValidationError) as caught:
        services.activity_create(
            structure=personas.a,
            advisor=personas.advisor,
            kind="individuel",
            values=values(personas, procedure_themes=["logement"], duration=0, level="avance"),
            beneficiary=personas.beneficiary_a,
        )
    assert set(caught.value.message_dict) == {"procedure_themes", "duration", "level"}
    assert Activity.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad",
    [
        {"procedure_themes": "|logement|"},
        {"procedure_text": "CAF"},
        {"themes": "||"},
        {"themes": ""},
        {"duration": 0},
        {"duration": 721},
        {"date": dt.date(1999, 12, 31)},
        {"level": "debutant"},
        {"place": None},
        {"referral": "administration"},
    ],
)
def test_the_database_refuses_a_report_breaking_the_taxonomy(personas, bad):
    fields = {
        "structure": personas.a,
        "advisor": personas.advisor,
        "kind": "individuel",
        "date": dt.date(2026, 1, 5),
        "duration": 30,
        "place_type": "lieu_activite",
        "place": personas.place_a,
        "themes": "|email|",
        **bad,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.create(**fields)


@pytest.mark.django_db
def test_procedure_sub_themes_are_fine_with_the_procedure_theme(personas):
    activity = Activity.objects.create(
        structure=personas.a,
        advisor=personas.advisor,
        kind="individuel",
        date=dt.date(2026, 1, 5),
        duration=30,
        place=personas.place_a,
        themes=f"|{PROCEDURE}|",
        procedure_themes="|logement|",
    )
    assert activity.procedure_codes == ["logement"]


# --- Workshops --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_workshop_counts_one_accompaniment_per_participant(personas):
    other = make_beneficiary(personas.a, first_name="Marcel", phone="+33611223344", birth_year=2000)
    counters = {
        "n_total": "10",
        "n_deja_accompagne": "4",
        "n_genre_feminin": "6",
        "n_genre_masculin": "3",
        "n_tranche_age_soixante_dix_plus": "5",
        "n_statut_social_retraite": "7",
        "n_statut_social_en_emploi": "1",
    }
    response = signed_in(personas.advisor).post(
        f"{BASE}nouveau/?kind=collectif",
        workshop(personas, participants=[personas.beneficiary_a.pk, other.pk], **counters),
    )
    assert response.status_code == 302, response.context["form"].errors
    activity = Activity.objects.get(kind="collectif")
    rows = list(activity.accompaniments.all())
    assert len(rows) == 12
    anonymous = [r for r in rows if r.beneficiary_id is None]
    assert len(anonymous) == 10
    assert Counter(r.gender for r in anonymous) == {
        "feminin": 6,
        "masculin": 3,
        "non_communique": 1,
    }
    ages = Counter(r.age_band for r in anonymous)
    assert ages == {"soixante_dix_plus": 5, "non_communique": 5}
    assert Counter(r.social_status for r in anonymous) == {
        "retraite": 7,
        "en_emploi": 1,
        "non_communique": 2,
    }
    assert sum(1 for r in anonymous if not r.first_time) == 4
    linked = {r.beneficiary_id: r for r in rows if r.beneficiary_id}
    assert linked[other.pk].first_time is True and linked[other.pk].age_band != "non_communique"
    assert linked[personas.beneficiary_a.pk].first_time is False
    # The counters read back from the rows are the ones entered.
    assert selectors.counters_of(activity)["genre_feminin"] == 6
    assert selectors.counters_of(activity)["total"] == 10


@pytest.mark.django_db
def test_workshop_counters_above_the_total_are_refused(personas):
    response = signed_in(personas.advisor).post(
        f"{BASE}nouveau/?kind=collectif",
        workshop(personas, n_total="3", n_genre_feminin="2", n_genre_masculin="2"),
    )
    assert response.status_code == 200
    assert "comptent 4 personnes pour 3 participants" in response.content.decode()
    assert not Activity.objects.filter(kind="collectif").exists()
    empty = signed_in(personas.advisor).post(f"{BASE}nouveau/?kind=collectif", workshop(personas))
    assert "au moins un participant" in empty.content.decode()
    autonomy = signed_in(personas.advisor).post(
        f"{BASE}nouveau/?kind=collectif", workshop(personas, n_total="2", autonomy="autonome")
    )
    # The field is not on a workshop's form: ignored, and nothing wrong is stored.
    assert Activity.objects.get(kind="collectif").autonomy == ""
    assert autonomy.status_code == 302


@pytest.mark.django_db
def test_an_anonymous_individual_gets_an_anonymous_person(personas):
    response = signed_in(personas.advisor).post(
        f"{BASE}nouveau/",
        report(
            personas,
            beneficiary="",
            anon_gender="masculin",
            anon_age_band="dix_huit_vingt_quatre",
            anon_social_status="sans_emploi",
            anon_commune="Melun",
            anon_commune_insee="77288",
        ),
    )
    assert response.status_code == 302
    row = Accompaniment.objects.exclude(activity__in=[personas.activity_a, personas.activity_b])
    row = row.get()
    assert row.beneficiary.anonymous is True and row.beneficiary.first_name == ""
    assert (row.gender, row.age_band, row.social_status, row.commune_insee) == (
        "masculin",
        "dix_huit_vingt_quatre",
        "sans_emploi",
        "77288",
    )


# --- Edit, delete, duplicate, defaults ----------------------------------------------------------
@pytest.mark.django_db
def test_edit_is_journalled_with_the_changed_field_names(personas):
    client = signed_in(personas.advisor)
    url = f"{BASE}{personas.activity_a.pk}/modifier/"
    page = client.get(url).content.decode()
    assert "NOTE-CRA-A" in page
    response = client.post(
        url,
        report(
            personas,
            date=personas.activity_a.date.isoformat(),
            duration="60",
            notes="NOTE-CRA-A modifiée",
        ),
    )
    assert response.status_code == 302
    personas.activity_a.refresh_from_db()
    assert personas.activity_a.duration == 60
    entry = JournalEntry.objects.get(action="activity.updated")
    assert {"duration", "notes", "autonomy"} <= set(entry.data["fields"])
    assert not {"date", "themes", "place", "participants"} & set(entry.data["fields"])
    assert "NOTE" not in str(entry.data)
    assert personas.activity_a.accompaniments.count() == 1


@pytest.mark.django_db
def test_soft_delete_hides_the_report_from_lists_and_statistics(personas):
    client = signed_in(personas.advisor)
    url = f"{BASE}{personas.activity_a.pk}/supprimer/"
    assert "Supprimer ce compte rendu" in client.get(url).content.decode()
    assert Activity.objects.get(pk=personas.activity_a.pk).deleted_at is None  # GET asks only
    assert client.post(url).status_code == 302
    activity = Activity.objects.get(pk=personas.activity_a.pk)
    assert activity.deleted_at is not None
    assert not activity.accompaniments.filter(live=True).exists()
    assert activity not in selectors.activity_list(personas.a)
    assert "NOTE-CRA-A" not in client.get(BASE).content.decode()
    assert client.get(f"{BASE}{activity.pk}/").status_code == 404
    assert JournalEntry.objects.filter(action="activity.deleted", object_id=activity.pk).exists()


@pytest.mark.django_db
def test_duplicate_prefills_without_the_person_and_notes(personas):
    source = personas.activity_a
    source.materials = "|telephone|"
    source.save()
    client = signed_in(personas.advisor)
    response = client.get(f"{BASE}{source.pk}/dupliquer/")
    form = response.context["form"]
    assert form.initial["themes"] == ["email"] and form.initial["materials"] == ["telephone"]
    assert "beneficiary" not in form.initial and "notes" not in form.initial
    assert form.initial["date"] == timezone.localdate()
    assert "NOTE-CRA-A" not in response.content.decode()
    assert Activity.objects.count() == 2  # a form, not a saved copy
    other = make_beneficiary(personas.a, first_name="Marcel", phone="+33611223344")
    data = report(personas, beneficiary=str(other.pk))
    assert client.post(f"{BASE}{source.pk}/dupliquer/", data).status_code == 302
    copy = Activity.objects.latest("pk")
    assert copy.accompaniments.get().beneficiary == other
    entry = JournalEntry.objects.get(action="activity.created", object_id=copy.pk)
    assert entry.data["duplicated_from"] == source.pk


@pytest.mark.django_db
def test_a_new_report_starts_from_the_remembered_defaults(personas):
    client = signed_in(personas.advisor)
    data = report(
        personas,
        place_type="domicile",
        place="",
        commune="Melun",
        commune_insee="77288",
        duration="",
        duration_other="50",
        materials=["tablette"],
    )
    assert client.post(f"{BASE}nouveau/", data).status_code == 302
    saved = EntryDefaults.objects.get(user=personas.advisor, structure=personas.a).values
    assert saved["duration"] == 50 and saved["place_type"] == "domicile"
    form = client.get(f"{BASE}nouveau/").context["form"]
    assert form.initial["duration_other"] == 50
    assert form.initial["commune_insee"] == "77288"
    # Remembered materials are kept as shown, never pre-ticked (tests/test_report_form.py).
    assert form.initial["materials_kept"] == ["tablette"] and "materials" not in form.initial
    # Remembered per advisor: a colleague starts blank.
    colleague = make_member("autre@a.example", personas.a, Role.ADVISOR)
    assert (
        "duration_other" not in signed_in(colleague).get(f"{BASE}nouveau/").context["form"].initial
    )


# --- Fast entry from the agenda -----------------------------------------------------------------
def _past_appointment(p, **extra):
    p.motif_a.themes = f"|{PROCEDURE}|email|"
    p.motif_a.duration = 45
    p.motif_a.save()
    return make_appointment(p.motif_a, p.advisor, p.place_a, yesterday(), dt.time(10), **extra)


@pytest.mark.django_db
def test_marking_seen_opens_the_report_prefilled_from_the_appointment(personas):
    appointment = _past_appointment(personas)
    appointment.beneficiary = personas.beneficiary_a
    appointment.save()
    client = signed_in(personas.advisor)
    response = client.post(
        f"/equipe/ville-a/rendez-vous/{appointment.pk}/statut/", {"status": "seen"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}nouveau/?rdv={appointment.pk}"
    form = client.get(response["Location"]).context["form"]
    assert form.initial["beneficiary"] == personas.beneficiary_a.pk
    assert form.initial["place_type"] == "lieu_activite"
    assert form.initial["place"] == personas.place_a.pk
    assert form.initial["duration"] == "45"
    assert form.initial["themes"] == [PROCEDURE, "email"]
    assert form.initial["date"] == yesterday()
    # Only the autonomy is left to choose.
    data = report(personas, duration="45", themes=[PROCEDURE, "email"])
    response = client.post(f"{BASE}nouveau/?rdv={appointment.pk}", data)
    assert response.status_code == 302
    activity = Activity.objects.get(appointment=appointment)
    assert activity.accompaniments.get().beneficiary == personas.beneficiary_a
    # One report per appointment: the agenda now links to it.
    page = client.get(f"/equipe/ville-a/rendez-vous/{appointment.pk}/").content.decode()
    assert "Voir le compte rendu" in page
    again = client.get(f"{BASE}nouveau/?rdv={appointment.pk}")
    assert again.status_code == 302 and again["Location"] == f"{BASE}{activity.pk}/"


@pytest.mark.django_db
def test_a_coordinator_marking_seen_stays_on_the_appointment(personas):
    appointment = _past_appointment(personas)
    response = signed_in(personas.coordinator).post(
        f"/equipe/ville-a/rendez-vous/{appointment.pk}/statut/", {"status": "seen"}
    )
    assert response["Location"] == f"/equipe/ville-a/rendez-vous/{appointment.pk}/"
    appointment.refresh_from_db()
    assert appointment.status == Status.SEEN


@pytest.mark.django_db
def test_a_report_from_an_appointment_finds_the_person_by_phone(personas):
    appointment = _past_appointment(personas)  # Josette's phone, no beneficiary linked
    client = signed_in(personas.advisor)
    page = client.get(f"{BASE}nouveau/?rdv={appointment.pk}").content.decode()
    assert "Reprendre la fiche de Josette Durand" in page
    data = report(personas, beneficiary="rdv")
    assert client.post(f"{BASE}nouveau/?rdv={appointment.pk}", data).status_code == 302
    appointment.refresh_from_db()
    assert appointment.beneficiary == personas.beneficiary_a
    assert Activity.objects.get(appointment=appointment).accompaniments.get().beneficiary == (
        personas.beneficiary_a
    )


@pytest.mark.django_db
def test_a_report_from_an_appointment_creates_the_person(personas):
    appointment = _past_appointment(
        personas, first_name="Marcel", phone="+33611223344", email="marcel@example.org"
    )
    appointment.last_name = "Petit"
    appointment.save()
    client = signed_in(personas.advisor)
    page = client.get(f"{BASE}nouveau/?rdv={appointment.pk}").content.decode()
    assert "Créer une fiche pour Marcel Petit" in page
    data = report(personas, beneficiary="rdv")
    assert client.post(f"{BASE}nouveau/?rdv={appointment.pk}", data).status_code == 302
    appointment.refresh_from_db()
    person = appointment.beneficiary
    assert (person.first_name, person.last_name, person.phone) == (
        "Marcel",
        "Petit",
        "+33611223344",
    )
    assert person.email == "marcel@example.org" and person.structure == personas.a
    assert Activity.objects.get(appointment=appointment).accompaniments.get().beneficiary == person
    assert JournalEntry.objects.filter(action="beneficiary.created", subject_id=person.pk).exists()


@pytest.mark.django_db
def test_a_remote_appointment_is_reported_at_a_distance(personas):
    personas.motif_a.location_type = "phone"
    personas.motif_a.save()
    appointment = _past_appointment(personas)
    appointment.place = None
    appointment.location_type = "phone"
    appointment.beneficiary = personas.beneficiary_a
    appointment.save()
    initial = selectors.initial_from_appointment(appointment)
    assert initial["place_type"] == "a_distance" and "place" not in initial
    assert initial["commune_insee"] == "77284"


@pytest.mark.django_db
def test_the_motif_form_sets_the_report_themes(personas):
    client = signed_in(personas.coordinator)
    url = f"/equipe/ville-a/rendez-vous/motifs/{personas.motif_a.pk}/"
    data = {
        "title": personas.motif_a.title,
        "duration": "30",
        "location_type": "public_office",
        "places": [personas.place_a.pk],
        "bookable_by_residents": "on",
        "min_delay_hours": "2",
        "max_delay_days": "60",
        "buffer_minutes": "0",
        "active": "on",
        "themes": ["email", "sante"],
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    personas.motif_a.refresh_from_db()
    assert personas.motif_a.themes == "|email|sante|"
    assert client.get(url).context["form"].initial["themes"] == ["email", "sante"]


# --- Lists and who sees what --------------------------------------------------------------------
@pytest.mark.django_db
def test_the_advisor_list_shows_names_and_filters(personas):
    make_activity(
        personas.a,
        personas.advisor,
        personas.beneficiary_a,
        personas.place_a,
        date=dt.date(2025, 3, 1),
        themes="|sante|",
    )
    client = signed_in(personas.advisor)
    page = client.get(BASE).content.decode()
    assert "Josette Durand" in page and "2 comptes rendus" in page
    filtered = client.get(f"{BASE}?du=2025-01-01&au=2025-12-31&theme=sante").content.decode()
    assert "1 compte rendu" in filtered and "01/03/2025" in filtered
    assert f"{personas.activity_a.date:%d/%m/%Y}" not in filtered
    assert "1 compte rendu" in client.get(f"{BASE}?theme=email&type=individuel").content.decode()
    assert "Aucun compte rendu." in client.get(f"{BASE}?type=collectif").content.decode()
    # Bad filter values are dropped, never an error page.
    assert client.get(f"{BASE}?du=demain&conseiller=x&lieu=99999&page=zz").status_code == 200


@pytest.mark.django_db
def test_the_coordinator_list_shows_no_name_and_no_note(personas):
    response = signed_in(personas.coordinator).get(BASE)
    page = response.content.decode()
    assert response.status_code == 200 and "1 compte rendu" in page
    for secret in ("Josette", "Durand", "NOTE-CRA-A", "NOTE-CONFIDENTIELLE-A"):
        assert secret not in page
    assert signed_in(personas.reception).get(BASE).status_code == 403


@pytest.mark.django_db
def test_the_list_is_paginated_in_two_queries(personas, django_assert_max_num_queries):
    for day in range(60):
        make_activity(
            personas.a,
            personas.advisor,
            None,
            personas.place_a,
            date=dt.date(2025, 1, 1) + dt.timedelta(days=day),
        )
    page = selectors.activity_page(personas.a, 1)
    with django_assert_max_num_queries(2):
        page = selectors.activity_page(personas.a, 2)
        rows = list(page.object_list)
        assert rows[0].place.name == "Club des seniors"
        assert {r.participant_count for r in rows} == {1}
        assert rows[0].advisor.first_name == "Camille"
    assert len(rows) == 11 and page.paginator.count == 61
    response = signed_in(personas.advisor).get(f"{BASE}?page=2")
    assert "Page 2 sur 2" in response.content.decode()


@pytest.mark.django_db
def test_the_outsider_gets_404_on_another_structures_report(personas):
    client = signed_in(personas.advisor)
    for suffix in ("", "modifier/", "dupliquer/", "supprimer/"):
        assert client.get(f"{BASE}{personas.activity_b.pk}/{suffix}").status_code == 404
    assert client.post(f"{BASE}{personas.activity_b.pk}/supprimer/").status_code == 404
    assert Activity.objects.get(pk=personas.activity_b.pk).deleted_at is None
    outsider = signed_in(personas.outsider)
    assert outsider.get(f"{BASE}{personas.activity_a.pk}/").status_code == 404
    # A person of B cannot be slipped into A's report.
    response = client.post(
        f"{BASE}nouveau/", report(personas, beneficiary=str(personas.beneficiary_b.pk))
    )
    assert response.status_code == 200
    assert Activity.objects.count() == 2


@pytest.mark.django_db
def test_the_detail_read_is_journalled(personas):
    page = signed_in(personas.advisor).get(f"{BASE}{personas.activity_a.pk}/").content.decode()
    assert "Josette Durand" in page and "NOTE-CRA-A" in page
    entry = JournalEntry.objects.get(action="activity.viewed")
    assert entry.subject_id == personas.beneficiary_a.pk


# --- Robustness -----------------------------------------------------------------------------------
FIELD_NAMES = [
    "date",
    "duration",
    "duration_other",
    "place_type",
    "place",
    "commune",
    "commune_insee",
    "themes",
    "procedure_themes",
    "procedure_text",
    "materials",
    "autonomy",
    "level",
    "referred",
    "referral",
    "beneficiary",
    "anon_gender",
    "anon_age_band",
    "anon_commune_insee",
    "tags",
    "n_total",
    "n_genre_feminin",
    "participants",
]
noise = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.sampled_from(
        [
            "",
            "0",
            "721",
            "1999-12-31",
            "2000-01-01",
            "2999-01-01",
            PROCEDURE,
            "lieu_activite",
            *taxonomy.codes("themes")[:4],
        ]
    ),
    st.dates().map(str),
)


@pytest.mark.django_db
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.dictionaries(st.sampled_from(FIELD_NAMES), noise, max_size=12),
    collective=st.booleans(),
)
def test_random_input_never_breaks_the_form(personas, data, collective):
    client = signed_in(personas.advisor)
    suffix = "?kind=collectif" if collective else ""
    response = client.post(f"{BASE}nouveau/{suffix}", data)
    # A NUL byte is refused before the form (French 400 page); anything else gets the form.
    nul = any("\x00" in str(value) for value in data.values())
    assert response.status_code in ((400,) if nul else (200, 302))
    for activity in Activity.objects.exclude(
        pk__in=[personas.activity_a.pk, personas.activity_b.pk]
    ):
        assert activity.date <= timezone.localdate() and 1 <= activity.duration <= 720
        assert activity.themes.startswith("|")


@pytest.mark.django_db
def test_editing_a_workshop_keeps_rows_in_step_with_its_people(personas):
    other = make_beneficiary(personas.a, first_name="Marcel", phone="+33611223344")
    client = signed_in(personas.advisor)
    data = workshop(personas, participants=[personas.beneficiary_a.pk, other.pk], n_total="3")
    assert client.post(f"{BASE}nouveau/?kind=collectif", data).status_code == 302
    activity = Activity.objects.get(kind="collectif")
    kept = activity.accompaniments.get(beneficiary=personas.beneficiary_a).pk
    form = client.get(f"{BASE}{activity.pk}/modifier/").context["form"]
    assert form.initial["n_total"] == 3 and set(form.initial["participants"]) == {
        personas.beneficiary_a.pk,
        other.pk,
    }
    data = workshop(
        personas, participants=[personas.beneficiary_a.pk], n_total="5", n_genre_masculin="2"
    )
    assert client.post(f"{BASE}{activity.pk}/modifier/", data).status_code == 302
    rows = activity.accompaniments.all()
    assert rows.count() == 6
    assert rows.filter(beneficiary=personas.beneficiary_a).get().pk == kept  # snapshot kept
    assert not rows.filter(beneficiary=other).exists()
    assert rows.filter(beneficiary__isnull=True, gender="masculin").count() == 2
    entry = JournalEntry.objects.get(action="activity.updated", object_id=activity.pk)
    assert entry.data["fields"] == ["participants"] and entry.subject_id is None


@pytest.mark.django_db
def test_the_person_picker_searches_without_listing_everybody(personas):
    from lien.journal.models import JournalEntry

    for n in range(30):
        make_beneficiary(personas.a, first_name=f"Paul{n}", last_name="Untel", phone="")
    client = signed_in(personas.advisor)
    form = client.get("/equipe/ville-a/activites/nouveau/").content.decode()
    assert "Paul1" not in form and "Josette" not in form  # nobody listed before a search
    url = "/equipe/ville-a/activites/personnes/"
    found = client.get(url, {"beneficiary_q": "josette"}).content.decode()
    assert f'value="{personas.beneficiary_a.pk}"' in found and "Durand" in found
    assert "Bernard" not in client.get(url, {"beneficiary_q": "bernard"}).content.decode()
    entry = JournalEntry.objects.filter(action="beneficiary.searched").latest("pk")
    assert entry.personal == {} and "bernard" not in str(entry.data)
    assert entry.data == {"results": 0, "role": "advisor", "page": "report"}
    # A workshop: people already ticked stay ticked when the advisor searches again.
    ticked = client.get(
        url,
        {
            "champ": "participants",
            "participants_q": "paul",
            "participants": personas.beneficiary_a.pk,
        },
    ).content.decode()
    pk = personas.beneficiary_a.pk
    assert f'value="{pk}" id="id_participants_{pk}" checked' in ticked
    assert ticked.count('type="checkbox"') == 16  # Josette ticked + 15 results at most
    # B's person is never offered, even by its pk.
    other = client.get(
        url, {"champ": "participants", "participants": personas.beneficiary_b.pk}
    ).content.decode()
    assert "Bernard" not in other


@pytest.mark.django_db
def test_a_report_form_with_errors_keeps_the_chosen_person(personas):
    client = signed_in(personas.advisor)
    response = client.post(
        "/equipe/ville-a/activites/nouveau/",
        {"beneficiary": personas.beneficiary_a.pk, "date": "1999-01-01", "duration": "30"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "antérieure au 1er janvier 2000" in body
    pk = personas.beneficiary_a.pk
    assert f'value="{pk}" id="id_beneficiary_{pk}" checked' in body


@pytest.mark.django_db
def test_from_a_persons_page_the_report_and_the_booking_are_about_them(personas):
    pk = personas.beneficiary_a.pk
    advisor = signed_in(personas.advisor)
    form = advisor.get(f"/equipe/ville-a/activites/nouveau/?personne={pk}").content.decode()
    assert f'value="{pk}" id="id_beneficiary_{pk}" checked' in form
    # Another structure's person is not found.
    other = personas.beneficiary_b.pk
    assert advisor.get(f"/equipe/ville-a/activites/nouveau/?personne={other}").status_code == 404
    assert advisor.get(f"/equipe/ville-a/rendez-vous/nouveau/?personne={other}").status_code == 404
