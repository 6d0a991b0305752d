"""GDPR: access export, erasure by anonymisation, retention (statistics unchanged)."""

import datetime as dt
import json
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from lien import journal
from lien.activities.models import Accompaniment, Activity
from lien.appointments.models import Appointment, Message, MessageState
from lien.beneficiaries import gdpr
from lien.beneficiaries.models import PERSONAL_FIELDS, Beneficiary
from lien.beneficiaries.services import beneficiary_merge
from lien.core import taxonomy
from lien.core.worker import run_due_jobs
from lien.journal.models import JournalEntry
from tests.conftest import make_activity, make_appointment, make_beneficiary, signed_in

OLD_DAYS = 400  # beyond the default 12 months (365 days)


def _days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def _queued_message(appointment: Appointment) -> Message:
    return Message.objects.create(
        structure=appointment.structure,
        appointment=appointment,
        kind="reminder",
        channel="sms",
        recipient=appointment.phone,
        due_at=appointment.start - dt.timedelta(days=1),
        idempotency_key=f"{appointment.pk}:reminder:sms:test",
    )


# --- Access export ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_access_export_holds_everything_about_the_person(personas):
    person = personas.beneficiary_a
    journal.record(
        structure=personas.a,
        action="beneficiary.searched",
        actor=personas.advisor,
        subject=person,
        personal={"search": "Josette"},
    )
    data = gdpr.access_export(person)

    json.dumps(data)  # serialisable as it is
    assert data["personne"]["prenom"] == "Josette"
    assert data["personne"]["telephone"] == "+33612345678"
    assert data["personne"]["notes"] == "NOTE-CONFIDENTIELLE-A"
    assert data["personne"]["annee_de_naissance"] == 1950
    assert data["personne"]["genre"] == "Féminin"
    (appointment,) = data["rendez_vous"]
    assert appointment["motif"] == personas.motif_a.title
    assert appointment["lieu"] == "Club des seniors"
    assert appointment["coordonnees_donnees"]["telephone"] == "+33612345678"
    (accompaniment,) = data["accompagnements"]
    assert accompaniment["date"] == personas.activity_a.date.isoformat()
    assert accompaniment["thematiques"] == [taxonomy.label("themes", "email")]
    assert accompaniment["duree_minutes"] == 45
    assert accompaniment["notes"] == "NOTE-CRA-A"
    searched = [e for e in data["journal"] if e["action"] == "beneficiary.searched"]
    assert searched[0]["valeurs_personnelles"] == {"search": "Josette"}
    assert searched[0]["par"] == str(personas.advisor)


@pytest.mark.django_db
def test_access_export_includes_merged_records_and_hides_workshop_notes(personas):
    keep = personas.beneficiary_a
    other = make_beneficiary(personas.a, first_name="Josete", phone="+33611111111")
    workshop = make_activity(
        personas.a, personas.advisor, other, personas.place_a, kind="collectif", notes="GROUPE"
    )
    beneficiary_merge(keep=keep, other=other, actor=personas.advisor)

    data = gdpr.access_export(keep)

    assert [f["id"] for f in data["fiches_fusionnees"]] == [other.pk]
    by_type = {a["type"]: a for a in data["accompagnements"]}
    assert by_type[workshop.get_kind_display()]["notes"] == ""
    assert any(e["action"] == "beneficiary.merged" for e in data["journal"])


@pytest.mark.django_db
def test_advisor_reads_the_printable_page_and_it_is_journalled(personas):
    person = personas.beneficiary_a
    response = signed_in(personas.advisor).get(f"/equipe/ville-a/personnes/{person.pk}/donnees/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Josette" in page and "NOTE-CONFIDENTIELLE-A" in page and "NOTE-CRA-A" in page
    entry = JournalEntry.objects.get(action="beneficiary.exported")
    assert entry.subject_id == person.pk
    assert entry.actor == personas.advisor
    assert entry.personal == {}


@pytest.mark.django_db
def test_json_download(personas):
    person = personas.beneficiary_a
    response = signed_in(personas.advisor).get(
        f"/equipe/ville-a/personnes/{person.pk}/donnees.json"
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert json.loads(response.content)["personne"]["nom"] == "Durand"
    assert JournalEntry.objects.filter(action="beneficiary.exported", data__format="json").exists()


@pytest.mark.django_db
def test_coordinator_never_gets_a_persons_data(personas):
    client = signed_in(personas.coordinator)
    pk = personas.beneficiary_a.pk
    for url in (
        f"/equipe/ville-a/personnes/{pk}/donnees/",
        f"/equipe/ville-a/personnes/{pk}/donnees.json",
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert b"Josette" not in response.content
    assert client.post(f"/equipe/ville-a/personnes/{pk}/effacer/").status_code == 403
    assert Beneficiary.objects.get(pk=pk).first_name == "Josette"


# --- Erasure ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_erase_empties_identity_and_keeps_statistics(personas):
    person = personas.beneficiary_a
    message = _queued_message(personas.appointment_a)
    walk_in = make_appointment(
        personas.motif_a,
        personas.advisor,
        personas.place_a,
        dt.date(2026, 10, 1),
        dt.time(10),
        channel="walk_in",
        beneficiary=person,
        note="PAPIERS CAF",
    )
    workshop = make_activity(
        personas.a, personas.advisor, person, personas.place_a, kind="collectif", notes="GROUPE"
    )
    entry = journal.record(
        structure=personas.a,
        action="beneficiary.updated",
        obj=person,
        actor=personas.advisor,
        subject=person,
        personal={"old_phone": "+33612345678"},
    )
    profile = (person.age_band, person.gender, person.social_status, person.commune_insee)

    assert gdpr.erase(person, actor=personas.advisor) is True

    person.refresh_from_db()
    for name in PERSONAL_FIELDS:
        assert getattr(person, name) in ("", None), name
    assert person.anonymised_at is not None
    assert (person.age_band, person.gender, person.social_status, person.commune_insee) == profile
    assert person.commune == "Villebrie"
    booked = Appointment.objects.get(pk=personas.appointment_a.pk)
    assert booked.first_name == gdpr.ANONYMISED_NAME
    assert (booked.last_name, booked.phone, booked.note, booked.address) == ("", "", "", "")
    assert booked.email.endswith(".invalid")
    walk_in.refresh_from_db()
    assert (walk_in.phone, walk_in.email, walk_in.note) == ("", "", "")
    message.refresh_from_db()
    assert message.state == MessageState.CANCELLED
    assert message.recipient == ""
    assert Activity.objects.get(pk=personas.activity_a.pk).notes == ""
    assert Activity.objects.get(pk=workshop.pk).notes == "GROUPE"  # about a group
    assert Accompaniment.objects.filter(beneficiary=person).count() == 2
    entry.refresh_from_db()
    assert entry.personal == {"old_phone": None}
    assert entry.shredded is True
    erased = JournalEntry.objects.get(action="beneficiary.erased")
    assert erased.subject_id == person.pk
    assert erased.data["reason"] == "request"
    # Bernard of structure B is untouched.
    assert Beneficiary.objects.get(pk=personas.beneficiary_b.pk).first_name == "Bernard"


@pytest.mark.django_db
def test_erase_covers_merged_records_and_is_idempotent(personas):
    keep = personas.beneficiary_a
    other = make_beneficiary(personas.a, first_name="Josete", phone="+33611111111")
    journal.record(
        structure=personas.a,
        action="beneficiary.viewed",
        obj=other,
        subject=other,
        personal={"search": "Josete"},
    )
    beneficiary_merge(keep=keep, other=other, actor=personas.advisor)

    assert gdpr.erase(keep, actor=personas.advisor) is True
    assert gdpr.erase(keep, actor=personas.advisor) is False

    assert JournalEntry.objects.filter(action="beneficiary.erased").count() == 1
    assert not JournalEntry.objects.filter(subject_id=other.pk, shredded=False).exists()
    other.refresh_from_db()
    assert other.first_name == "" and other.anonymised_at is not None


@pytest.mark.django_db
def test_erase_page_asks_then_erases(personas):
    person = personas.beneficiary_a
    client = signed_in(personas.advisor)
    url = f"/equipe/ville-a/personnes/{person.pk}/effacer/"

    page = client.get(url)
    assert page.status_code == 200
    assert "définitivement" in page.content.decode()
    assert Beneficiary.objects.get(pk=person.pk).first_name == "Josette"

    response = client.post(url)
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert Beneficiary.objects.get(pk=person.pk).anonymised_at is not None
    assert client.post(url).status_code == 302  # again: nothing to do, no error
    assert JournalEntry.objects.filter(action="beneficiary.erased").count() == 1


@pytest.mark.django_db
def test_outsider_cannot_erase_another_structures_person(personas):
    person = personas.beneficiary_a
    response = signed_in(personas.outsider).post(f"/equipe/asso-b/personnes/{person.pk}/effacer/")
    assert response.status_code == 404
    assert Beneficiary.objects.get(pk=person.pk).anonymised_at is None


# --- Retention --------------------------------------------------------------------------------


def _old_person(personas, first_name: str, **extra) -> Beneficiary:
    return make_beneficiary(
        personas.a,
        first_name=first_name,
        phone=extra.pop("phone", ""),
        last_activity_at=_days_ago(OLD_DAYS),
        **extra,
    )


@pytest.mark.django_db
def test_retention_candidates(personas):
    old = _old_person(personas, "Ancien")
    with_recent_activity = _old_person(personas, "Revenu")
    make_activity(
        personas.a,
        personas.advisor,
        with_recent_activity,
        personas.place_a,
        date=timezone.localdate() - dt.timedelta(days=20),
    )
    with_future_appointment = _old_person(personas, "Attendu")
    make_appointment(
        personas.motif_a,
        personas.advisor,
        personas.place_a,
        timezone.localdate() + dt.timedelta(days=40),
        dt.time(10),
        beneficiary=with_future_appointment,
    )
    anonymous = Beneficiary.objects.create(
        structure=personas.a, anonymous=True, last_activity_at=_days_ago(OLD_DAYS)
    )
    soon = make_beneficiary(personas.a, first_name="Bientot", last_activity_at=_days_ago(350))
    old_b = make_beneficiary(personas.b, first_name="Autre", last_activity_at=_days_ago(OLD_DAYS))

    due = set(gdpr.retention_candidates(personas.a).values_list("pk", flat=True))
    assert due == {old.pk}
    later = set(gdpr.retention_candidates(personas.a, horizon=30).values_list("pk", flat=True))
    assert later == {old.pk, soon.pk}
    assert anonymous.pk not in later
    assert set(gdpr.retention_candidates(personas.b).values_list("pk", flat=True)) == {old_b.pk}

    personas.a.retention_months = 24
    personas.a.save(update_fields=["retention_months"])
    assert not gdpr.retention_candidates(personas.a).exists()


def _statistics() -> dict:
    """What the national statistics aggregate: accompaniments and people profiles."""
    rows = Accompaniment.objects.values(
        "structure_id", "age_band", "gender", "social_status", "commune_insee", "activity__kind"
    ).annotate(month=TruncMonth("date"), n=Count("pk"))
    by_profile = sorted((tuple(r.values()) for r in rows), key=repr)
    themes: Counter = Counter()
    for activity_themes in Accompaniment.objects.values_list("activity__themes", flat=True):
        themes.update(taxonomy.unpack(activity_themes))
    people = Beneficiary.objects.values(
        "structure_id", "age_band", "gender", "social_status", "commune_insee"
    ).annotate(n=Count("pk"))
    return {
        "accompaniments": by_profile,
        "themes": dict(themes),
        "people_served": Accompaniment.objects.filter(beneficiary__isnull=False)
        .values("beneficiary")
        .distinct()
        .count(),
        "profiles": sorted((tuple(p.values()) for p in people), key=repr),
    }


def _realistic_set(personas) -> tuple[list[Beneficiary], list[Beneficiary]]:
    today = timezone.localdate()
    old_day = today - dt.timedelta(days=OLD_DAYS + 30)
    old = [
        _old_person(personas, "Ancienne", birth_year=1940, phone="+33600000001", notes="SECRET-1"),
        _old_person(personas, "Ancien", birth_year=1990, gender="masculin", email="a@example.org"),
        _old_person(personas, "Lointaine", birth_year=2005, social_status="scolarise"),
    ]
    recent = [
        make_beneficiary(personas.a, first_name="Recente", birth_year=1975, notes="GARDE"),
        make_beneficiary(personas.a, first_name="Recent", birth_year=1960, gender="masculin"),
    ]
    for i, person in enumerate(old):
        make_activity(
            personas.a,
            personas.advisor,
            person,
            personas.place_a,
            date=old_day + dt.timedelta(days=i),
            themes="|email|sante|",
            notes=f"CRA-{i}",
        )
    for person in recent:
        make_activity(
            personas.a,
            personas.advisor,
            person,
            personas.place_a,
            date=today - dt.timedelta(days=5),
            themes="|smartphone|",
        )
    # A workshop long ago with two old people, one recent, and three anonymous participants.
    workshop = make_activity(
        personas.a,
        personas.advisor,
        old[0],
        personas.place_a,
        kind="collectif",
        date=old_day,
        themes="|email|",
        level="",
        notes="atelier",
    )
    for person in (old[1], recent[0], None, None, None):
        Accompaniment.objects.create(
            activity=workshop,
            structure=personas.a,
            date=workshop.date,
            beneficiary=person,
            age_band=person.age_band if person else "non_communique",
            gender=person.gender if person else "non_communique",
            social_status=person.social_status if person else "non_communique",
            commune_insee=person.commune_insee if person else "",
        )
    for person in old:
        make_appointment(
            personas.motif_a,
            personas.advisor,
            personas.place_a,
            old_day - dt.timedelta(days=3 + old.index(person)),
            dt.time(10),
            beneficiary=person,
            phone=person.phone or "+33600000009",
        )
        journal.record(
            structure=personas.a,
            action="beneficiary.viewed",
            obj=person,
            actor=personas.advisor,
            subject=person,
            personal={"search": person.first_name},
        )
    return old, recent


@pytest.mark.django_db
def test_retention_keeps_statistics_identical(personas):
    old, recent = _realistic_set(personas)
    before = _statistics()
    assert before["people_served"] == 7  # Josette, Bernard, 3 old, 2 recent

    dry = gdpr.apply_retention(dry_run=True)
    assert {line.slug: sorted(line.pks) for line in dry} == {
        "asso-b": [],
        "ville-a": sorted(p.pk for p in old),
    }
    assert Beneficiary.objects.filter(anonymised_at__isnull=False).count() == 0

    report = gdpr.apply_retention()

    assert {line.slug: sorted(line.pks) for line in report}["ville-a"] == sorted(p.pk for p in old)
    assert _statistics() == before
    for person in old:
        person.refresh_from_db()
        assert person.anonymised_at is not None
        assert all(getattr(person, name) in ("", None) for name in PERSONAL_FIELDS)
        entries = JournalEntry.objects.filter(subject_id=person.pk, action="beneficiary.viewed")
        assert [e.personal for e in entries] == [{"search": None}]
        erased = JournalEntry.objects.get(subject_id=person.pk, action="beneficiary.erased")
        assert erased.actor_label == "worker" and erased.data["reason"] == "retention"
    assert not Activity.objects.filter(notes__startswith="CRA-").exists()
    for person in recent:
        fresh = Beneficiary.objects.get(pk=person.pk)
        assert fresh.first_name == person.first_name and fresh.anonymised_at is None
    assert Beneficiary.objects.get(pk=recent[0].pk).notes == "GARDE"
    assert Beneficiary.objects.get(pk=personas.beneficiary_a.pk).first_name == "Josette"
    assert gdpr.apply_retention()[1].pks == []  # nothing left to do


@pytest.mark.django_db
def test_the_worker_runs_retention(personas):
    old = _old_person(personas, "Ancien")
    ran = run_due_jobs()
    assert "beneficiaries.retention" in ran
    old.refresh_from_db()
    assert old.anonymised_at is not None and old.first_name == ""


@pytest.mark.django_db
def test_retention_command_dry_run_then_real(personas, capsys):
    old = _old_person(personas, "Ancien")
    call_command("retention", "--dry-run", "--structure", "ville-a")
    out = capsys.readouterr().out
    assert "Simulation" in out and f"n° {old.pk}" in out and "1 personne(s) à anonymiser" in out
    assert Beneficiary.objects.get(pk=old.pk).anonymised_at is None

    call_command("retention")
    out = capsys.readouterr().out
    assert "anonymisée(s)" in out and "Total : 1 personne(s)" in out
    assert Beneficiary.objects.get(pk=old.pk).anonymised_at is not None


@pytest.mark.django_db
def test_retention_page_counts_for_coordinator_names_for_advisor(personas):
    _old_person(personas, "Ancien", last_name="Oublie")
    make_beneficiary(
        personas.a, first_name="Bientot", last_name="Parti", last_activity_at=_days_ago(350)
    )

    page = signed_in(personas.coordinator).get("/equipe/ville-a/personnes/conservation/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Oublie" not in text and "Parti" not in text
    assert "12 mois" in text

    page = signed_in(personas.advisor).get("/equipe/ville-a/personnes/conservation/")
    text = page.content.decode()
    assert "Ancien Oublie" in text and "Bientot Parti" in text
    assert page.context["due_count"] == 1 and page.context["soon_count"] == 1
    assert JournalEntry.objects.filter(action="beneficiary.listed", actor=personas.advisor).exists()
    assert (
        signed_in(personas.reception).get("/equipe/ville-a/personnes/conservation/").status_code
        == 403
    )


@pytest.mark.django_db
def test_the_coordinator_sets_the_retention_period(personas):
    from lien.journal.models import JournalEntry

    url = "/equipe/ville-a/personnes/conservation/"
    coordinator = signed_in(personas.coordinator)
    page = coordinator.post(url, {"months": "0"}).content.decode()
    assert "Assurez-vous que cette valeur est supérieure ou égale à 1" in page
    personas.a.refresh_from_db()
    assert personas.a.retention_months == 12
    assert coordinator.post(url, {"months": "6"}).status_code == 302
    personas.a.refresh_from_db()
    assert personas.a.retention_months == 6
    entry = JournalEntry.objects.get(action="structure.settings_updated")
    assert entry.data == {"fields": ["retention_months"]} and entry.actor == personas.coordinator
    # Advisors read the report but cannot change the period.
    assert signed_in(personas.advisor).post(url, {"months": "1"}).status_code == 403
    personas.a.refresh_from_db()
    assert personas.a.retention_months == 6
