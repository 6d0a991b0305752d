"""Every change is journalled by the service of the app that owns the model: which action, by
whom, on which object, with the names of the changed fields and never a personal value.

Places, opening hours, closures, presences and their cancelled dates, motifs, absences, the
booking policy, memberships, staff accounts, structure settings, calendar feeds; and the writes
one app asks another for (a report's person found or created, an appointment linked to its
person, a merge, an erasure, an import queued).
"""

import datetime as dt
import json

import pytest
from django.utils import timezone

from lien.accounts import services as accounts
from lien.accounts.models import Membership, Role, User
from lien.activities import services as activities
from lien.appointments import feeds
from lien.appointments import services as appointments
from lien.appointments.models import Appointment, BookingPolicy, Motif
from lien.beneficiaries import gdpr, importer
from lien.beneficiaries import services as beneficiaries
from lien.beneficiaries.models import Beneficiary
from lien.journal.models import JournalEntry
from lien.places import services as places
from lien.places.hours import WeeklyRule
from lien.places.models import Place
from lien.schedule import services as schedule
from lien.schedule.models import Presence
from tests.conftest import signed_in

# Free text and personal values the tests write: none may reach an entry's `data`.
SECRET = "MARQUEUR-PERSONNEL"


def entries(action: str) -> list[JournalEntry]:
    return list(JournalEntry.objects.filter(action=action).order_by("pk"))


def only(action: str) -> JournalEntry:
    found = entries(action)
    assert len(found) == 1, f"{action}: {len(found)} entries"
    return found[0]


def assert_entry(entry: JournalEntry, *, obj, actor, structure, label: str = "") -> None:
    assert entry.structure_id == structure.pk
    assert (entry.object_type, entry.object_id) == (obj._meta.model_name, obj.pk)
    assert entry.actor_id == getattr(actor, "pk", None)
    assert entry.actor_label == label
    assert entry.personal == {}
    assert SECRET not in json.dumps(entry.data, ensure_ascii=False)


def _place(personas) -> Place:
    return Place(
        name="Médiathèque",
        kind="library",
        address="3 place du Marché",
        postcode="77000",
        city="Melun",
    )


# --- Places, hours, closures ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_place_created_changed_and_deleted_is_journalled(personas):
    who = personas.coordinator
    place = places.place_save(structure=personas.a, place=_place(personas), actor=who)
    assert_entry(only("place.created"), obj=place, actor=who, structure=personas.a)

    place.name, place.city = "Médiathèque Jean-Moulin", "Melun-Centre"
    places.place_save(structure=personas.a, place=place, actor=who)
    updated = only("place.updated")
    assert_entry(updated, obj=place, actor=who, structure=personas.a)
    assert sorted(updated.data["fields"]) == ["city", "name"]

    places.place_save(structure=personas.a, place=place, actor=who)  # nothing changed
    assert len(entries("place.updated")) == 1

    pk = place.pk
    places.place_delete(place=place, actor=who)
    deleted = only("place.deleted")
    assert (deleted.object_type, deleted.object_id, deleted.actor_id) == ("place", pk, who.pk)


@pytest.mark.django_db
def test_a_command_import_is_journalled_with_its_label(personas):
    place = places.place_save(
        structure=personas.a, place=_place(personas), actor=None, actor_label="import"
    )
    assert_entry(only("place.created"), obj=place, actor=None, structure=personas.a, label="import")


@pytest.mark.django_db
def test_opening_hours_are_journalled_when_they_change(personas):
    place, who = personas.place_a, personas.coordinator
    rules = [WeeklyRule(1, dt.time(9), dt.time(12), "all")]
    places.opening_rules_replace(
        place=place, rules=rules, closed_on_public_holidays=True, actor=who
    )
    entry = only("opening_hours.updated")
    assert_entry(entry, obj=place, actor=who, structure=personas.a)
    assert entry.data == {"fields": ["rules"], "rules": 1}

    places.opening_rules_replace(
        place=place, rules=rules, closed_on_public_holidays=True, actor=who
    )
    assert len(entries("opening_hours.updated")) == 1  # the same hours: nothing happened
    places.opening_rules_replace(
        place=place, rules=rules, closed_on_public_holidays=False, actor=who
    )
    assert entries("opening_hours.updated")[-1].data["fields"] == ["closed_on_public_holidays"]


@pytest.mark.django_db
def test_the_hours_page_journals_its_coordinator(personas):
    from tests.test_places_staff import hours_post

    client = signed_in(personas.coordinator)
    url = f"/equipe/ville-a/lieux/{personas.place_a.pk}/horaires/"
    assert client.post(url, hours_post([("0", "09:00", "12:00", "all")])).status_code == 302
    entry = only("opening_hours.updated")
    assert_entry(entry, obj=personas.place_a, actor=personas.coordinator, structure=personas.a)


@pytest.mark.django_db
def test_closures_added_and_removed_on_the_staff_page_are_journalled(personas):
    client = signed_in(personas.coordinator)
    start = timezone.localdate() + dt.timedelta(days=60)
    url = f"/equipe/ville-a/lieux/{personas.place_a.pk}/fermetures/"
    response = client.post(
        url, {"start_date": start.isoformat(), "end_date": start.isoformat(), "reason": SECRET}
    )
    assert response.status_code == 302
    created = only("closure.created")
    closure = personas.place_a.closures.get(pk=created.object_id)
    assert_entry(created, obj=closure, actor=personas.coordinator, structure=personas.a)
    assert created.data == {
        "place": personas.place_a.pk,
        "start": start.isoformat(),
        "end": start.isoformat(),
    }
    assert client.post(f"{url}{closure.pk}/supprimer/").status_code == 302
    deleted = only("closure.deleted")
    assert (deleted.object_id, deleted.actor_id) == (closure.pk, personas.coordinator.pk)


# --- The schedule ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_presences_and_their_cancelled_dates_are_journalled(personas):
    who = personas.advisor
    presence = personas.presence_a
    presence.start, presence.end = dt.time(13), dt.time(16)
    schedule.presence_save(structure=personas.a, presence=presence, actor=who)
    updated = only("presence.updated")
    assert_entry(updated, obj=presence, actor=who, structure=personas.a)
    assert updated.data == {"advisor": who.pk, "fields": ["start", "end"]}

    new = Presence(
        advisor=who,
        place=personas.place_a,
        weekday=0,
        start=dt.time(9),
        end=dt.time(11),
        valid_from=timezone.localdate(),
    )
    schedule.presence_save(structure=personas.a, presence=new, actor=who)
    assert_entry(only("presence.created"), obj=new, actor=who, structure=personas.a)

    day = timezone.localdate() + dt.timedelta(days=(7 - timezone.localdate().weekday()) % 7 + 7)
    exception = schedule.presence_exception_add(presence=new, date=day, reason=SECRET, actor=who)
    cancelled = only("presence_exception.created")
    assert_entry(cancelled, obj=exception, actor=who, structure=personas.a)
    assert cancelled.data == {"presence": new.pk, "date": day.isoformat()}
    schedule.presence_exception_delete(exception=exception, actor=who)
    assert only("presence_exception.deleted").data == cancelled.data

    pk = new.pk
    schedule.presence_delete(presence=new, actor=who)
    assert only("presence.deleted").object_id == pk


@pytest.mark.django_db
def test_the_schedule_pages_journal_who_changed_it(personas):
    client = signed_in(personas.coordinator)
    url = f"/equipe/ville-a/planning/{personas.presence_a.pk}/supprimer/"
    assert client.post(url).status_code == 302
    entry = only("presence.deleted")
    assert (entry.actor_id, entry.object_id) == (personas.coordinator.pk, personas.presence_a.pk)


# --- Appointments' settings --------------------------------------------------------------------


@pytest.mark.django_db
def test_motifs_created_and_changed_are_journalled_with_their_fields(personas):
    who = personas.coordinator
    motif = personas.motif_a
    motif.title = "Faire ses démarches en ligne"
    appointments.motif_save(motif=motif, places=[], actor=who)
    updated = only("motif.updated")
    assert_entry(updated, obj=motif, actor=who, structure=personas.a)
    assert sorted(updated.data["fields"]) == ["places", "title"]

    new = Motif(structure=personas.a, title="Ordinateur", duration=45)
    appointments.motif_save(motif=new, places=[personas.place_a], actor=who)
    assert_entry(only("motif.created"), obj=new, actor=who, structure=personas.a)


@pytest.mark.django_db
def test_absences_are_journalled_without_their_reason(personas):
    who = personas.advisor
    start = timezone.now() + dt.timedelta(days=40)
    absence = appointments.absence_create(
        structure=personas.a,
        advisor=who,
        start=start,
        end=start + dt.timedelta(hours=4),
        reason=SECRET,
        actor=who,
    )
    created = only("absence.created")
    assert_entry(created, obj=absence, actor=who, structure=personas.a)
    assert set(created.data) == {"advisor", "start", "end"}
    appointments.absence_delete(absence=absence, actor=who)
    assert only("absence.deleted").data == created.data


@pytest.mark.django_db
def test_the_booking_policy_is_journalled_when_created_and_changed(personas):
    assert not BookingPolicy.objects.filter(structure=personas.a).exists()
    policy = appointments.policy_for(personas.a)
    assert_entry(
        only("booking_policy.created"), obj=policy, actor=None, structure=personas.a, label="system"
    )
    assert appointments.policy_for(personas.a) == policy
    assert len(entries("booking_policy.created")) == 1

    policy.max_open_per_contact = 5
    appointments.booking_policy_save(policy=policy, actor=personas.coordinator)
    updated = only("booking_policy.updated")
    assert_entry(updated, obj=policy, actor=personas.coordinator, structure=personas.a)
    assert updated.data == {"fields": ["max_open_per_contact"]}


@pytest.mark.django_db
def test_calendar_feeds_created_and_revoked_are_journalled(personas):
    who = personas.advisor
    feed = feeds.feed_create(structure=personas.a, advisor=who, actor=who)
    created = only("calendar_feed.created")
    assert_entry(created, obj=feed, actor=who, structure=personas.a)
    assert created.data == {"advisor": who.pk, "revoked_earlier": 1}  # the fixture's feed
    feeds.feed_revoke(feed=feed, actor=personas.coordinator)
    revoked = only("calendar_feed.revoked")
    assert_entry(revoked, obj=feed, actor=personas.coordinator, structure=personas.a)


# --- The team and the structure ----------------------------------------------------------------


@pytest.mark.django_db
def test_memberships_given_changed_and_withdrawn_are_journalled(personas):
    who = personas.coordinator
    newcomer = User.objects.create_user("nouvelle@a.example", "x" * 16)
    membership = accounts.membership_save(
        membership=Membership(user=newcomer, structure=personas.a, role=Role.RECEPTION),
        actor=who,
    )
    created = only("membership.created")
    assert_entry(created, obj=membership, actor=who, structure=personas.a)
    assert created.data == {"user": newcomer.pk, "role": "reception"}

    membership.role = Role.ADVISOR
    accounts.membership_save(membership=membership, actor=who)
    assert only("membership.updated").data == {
        "user": newcomer.pk,
        "role": "advisor",
        "fields": ["role"],
    }

    # Moved to another structure: withdrawn from A's team, given in B's (each journal says it).
    membership.structure = personas.b
    accounts.membership_save(membership=membership, actor=who)
    assert [e.structure_id for e in entries("membership.created")] == [personas.a.pk, personas.b.pk]
    assert [e.structure_id for e in entries("membership.deleted")] == [personas.a.pk]

    pk = membership.pk
    accounts.membership_delete(membership=membership, actor=who)
    last = entries("membership.deleted")[-1]
    assert (last.structure_id, last.object_id) == (personas.b.pk, pk)


@pytest.mark.django_db
def test_structure_settings_are_journalled_with_the_fields_changed(personas):
    structure = personas.a
    structure.colour = "#aa3300"
    structure.time_zone = "America/Cayenne"
    accounts.structure_save(structure=structure, actor=personas.coordinator)
    entry = only("structure.settings_updated")
    assert_entry(entry, obj=structure, actor=personas.coordinator, structure=structure)
    assert sorted(entry.data["fields"]) == ["colour", "time_zone"]

    gdpr.retention_set(structure=structure, months=24, actor=personas.coordinator)
    assert entries("structure.settings_updated")[-1].data == {"fields": ["retention_months"]}
    gdpr.retention_set(structure=structure, months=24, actor=personas.coordinator)
    assert len(entries("structure.settings_updated")) == 2  # unchanged: nothing journalled

    created = accounts.structure_save(
        structure=type(structure)(
            name="Ville C",
            slug="ville-c",
            kind="commune",
            siret="21773000100005",
            insee_code="97302",
        ),
        actor=None,
        actor_label="admin",
    )
    assert created.time_zone == "America/Cayenne"  # from the INSEE code, before the journal
    assert_entry(
        only("structure.created"), obj=created, actor=None, structure=created, label="admin"
    )


@pytest.mark.django_db
def test_a_staff_account_changed_is_journalled_in_each_of_its_structures(personas):
    operator = User.objects.create_superuser("ops@example.org", "x" * 16)
    Membership.objects.create(user=personas.advisor, structure=personas.b, role=Role.ADVISOR)
    personas.advisor.last_name = SECRET
    personas.advisor.is_active = False
    accounts.user_save(user=personas.advisor, actor=operator, actor_label="admin")
    found = entries("user.updated")
    assert {e.structure_id for e in found} == {personas.a.pk, personas.b.pk}
    for entry in found:
        assert entry.actor_id == operator.pk and entry.actor_label == "admin"
        assert sorted(entry.data["fields"]) == ["is_active", "last_name"]
        assert SECRET not in json.dumps(entry.data)


# --- Writes one app asks another for -----------------------------------------------------------


def _report_values(day: dt.date) -> dict:
    return {
        "date": day,
        "duration": 30,
        "place_type": "lieu_activite",
        "place": None,
        "themes": ["email"],
    }


@pytest.mark.django_db
def test_a_report_from_an_appointment_asks_the_people_and_appointment_services(personas):
    """The person is found or created by the beneficiaries' services, the appointment linked
    by the appointments' ones: each journals it, as the advisor."""
    seen = personas.appointment_a
    seen.beneficiary = None
    seen.phone, seen.email = "+33600000042", ""
    seen.save(update_fields=["beneficiary", "phone", "email"])
    values = {**_report_values(timezone.localdate()), "place": personas.place_a}
    activities.activity_create(
        structure=personas.a,
        advisor=personas.advisor,
        kind="individuel",
        values=values,
        appointment=seen,
        from_contact=True,
    )
    person = Beneficiary.objects.get(phone="+33600000042")
    created = only("beneficiary.created")
    assert created.data == {"anonymous": False, "source": "appointment", "appointment": seen.pk}
    assert (created.actor_id, created.subject_id) == (personas.advisor.pk, person.pk)
    linked = only("appointment.beneficiary_linked")
    assert_entry(linked, obj=seen, actor=personas.advisor, structure=personas.a)
    assert linked.subject_id == person.pk and linked.data == {}
    seen.refresh_from_db()
    assert seen.beneficiary_id == person.pk


@pytest.mark.django_db
def test_an_anonymous_person_of_a_report_is_created_and_changed_by_their_services(personas):
    values = {**_report_values(timezone.localdate()), "place": personas.place_a}
    activity = activities.activity_create(
        structure=personas.a,
        advisor=personas.advisor,
        kind="individuel",
        values=values,
        profile={"gender": "feminin"},
    )
    created = only("beneficiary.created")
    assert created.data == {"anonymous": True, "source": "activity"}
    activities.activity_update(
        activity=activity, actor=personas.advisor, values=values, profile={"gender": "masculin"}
    )
    updated = only("beneficiary.updated")
    assert updated.data == {"fields": ["gender"]} and updated.subject_id == created.subject_id


@pytest.mark.django_db
def test_a_merge_has_each_app_move_its_rows_and_journal_it(personas):
    keep = personas.beneficiary_a
    other = beneficiaries.beneficiary_create(
        structure=personas.a, actor=personas.advisor, first_name="Josette", last_name="Durant"
    )
    appointment = personas.appointment_a
    appointment.beneficiary = other
    appointment.save(update_fields=["beneficiary"])
    row = personas.activity_a.accompaniments.get()
    row.beneficiary = other
    row.save(update_fields=["beneficiary"])

    beneficiaries.beneficiary_merge(keep=keep, other=other, actor=personas.advisor)
    linked = only("appointment.beneficiary_linked")
    assert_entry(linked, obj=appointment, actor=personas.advisor, structure=personas.a)
    assert (linked.subject_id, linked.data) == (keep.pk, {"previous": other.pk})
    merged = only("activity.participant_merged")
    assert_entry(merged, obj=personas.activity_a, actor=personas.advisor, structure=personas.a)
    assert merged.data == {"from": other.pk, "to": keep.pk}
    assert Appointment.objects.get(pk=appointment.pk).beneficiary_id == keep.pk


@pytest.mark.django_db
def test_an_erasure_has_appointments_and_reports_anonymised_by_their_services(personas):
    person = personas.beneficiary_a
    gdpr.erase(person, actor=personas.advisor, reason="request")
    anonymised = only("appointment.anonymised")
    assert_entry(
        anonymised, obj=personas.appointment_a, actor=personas.advisor, structure=personas.a
    )
    assert anonymised.subject_id == person.pk and anonymised.data == {"reason": "request"}
    emptied = only("activity.notes_erased")
    assert_entry(emptied, obj=personas.activity_a, actor=personas.advisor, structure=personas.a)
    assert emptied.data == {"fields": ["notes"], "reason": "request"}
    for entry in (anonymised, emptied):
        assert "Josette" not in json.dumps(entry.data) and "NOTE-CRA-A" not in json.dumps(
            entry.data
        )


@pytest.mark.django_db
def test_the_retention_job_erases_as_the_worker(personas):
    person = personas.beneficiary_a
    gdpr.erase(person, actor_label="worker", reason="retention")
    entry = only("appointment.anonymised")
    assert (entry.actor_id, entry.actor_label) == (None, "worker")


@pytest.mark.django_db
def test_an_import_queued_is_journalled_without_the_file(personas):
    job = importer.import_queue(
        structure=personas.a,
        actor=personas.advisor,
        filename=f"{SECRET}.csv",
        content=SECRET.encode(),
        total=3,
    )
    entry = only("beneficiary.import_queued")
    assert_entry(entry, obj=job, actor=personas.advisor, structure=personas.a)
    assert entry.data == {"rows": 3}


@pytest.mark.django_db
def test_an_import_that_fails_is_journalled(personas):
    job = importer.import_queue(
        structure=personas.a,
        actor=personas.advisor,
        filename="personnes.csv",
        content=b"not, a, valid, file\n",
        total=1,
    )
    importer.run_pending(job.pk)
    job.refresh_from_db()
    assert job.state == "failed"
    entry = only("beneficiary.import_failed")
    assert_entry(entry, obj=job, actor=personas.advisor, structure=personas.a)
    assert entry.data == {"reason": "invalid"}
