"""The journal is append-only in the database itself; only a shred may touch a row.

PostgreSQL and SQLite both refuse DELETE, and every UPDATE except the shred of an entry about
a person being erased in the same transaction (triggers of migration journal/0004).
"""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from lien import journal
from lien.journal.models import JournalEntry
from tests.conftest import signed_in

ONLY_ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: checks the lien.shredding setting itself",
)
TABLE = JournalEntry._meta.db_table


def _entry(personas, **extra) -> JournalEntry:
    return journal.record(
        structure=personas.a,
        action=extra.pop("action", "beneficiary.viewed"),
        obj=personas.beneficiary_a,
        actor=personas.advisor,
        subject=personas.beneficiary_a,
        personal=extra.pop("personal", {"search": "Josette Durand", "phone": "+33612345678"}),
        data=extra.pop("data", {"page": "detail"}),
    )


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _row(pk: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT action, actor_id, object_type, object_id, subject_id, shredded, at "  # noqa: S608
            f"FROM {TABLE} WHERE id = %s",
            [pk],
        )
        action, actor_id, object_type, object_id, subject_id, shredded, at = cursor.fetchone()
    return {
        "action": action,
        "actor_id": actor_id,
        "object_type": object_type,
        "object_id": object_id,
        "subject_id": subject_id,
        "shredded": bool(shredded),
        "at": at,
    }


@pytest.mark.django_db
def test_a_raw_update_is_refused(personas):
    entry = _entry(personas)
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["beneficiary.forged", entry.pk])  # noqa: S608
    assert JournalEntry.objects.get(pk=entry.pk).action == "beneficiary.viewed"


@pytest.mark.django_db
def test_an_orm_update_is_refused(personas):
    entry = _entry(personas)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(data={"page": "forged"})
    assert JournalEntry.objects.get(pk=entry.pk).data == {"page": "detail"}


@pytest.mark.django_db
def test_marking_shredded_while_keeping_personal_values_is_refused(personas):
    entry = _entry(personas)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(shredded=True)
    assert JournalEntry.objects.get(pk=entry.pk).personal["search"] == "Josette Durand"


@pytest.mark.django_db
def test_shred_nulls_personal_values_and_keeps_the_row(personas):
    entry = _entry(personas)
    other = journal.record(
        structure=personas.b,
        action="beneficiary.viewed",
        obj=personas.beneficiary_b,
        subject=personas.beneficiary_b,
        personal={"search": "Bernard"},
    )
    before = _row(entry.pk)

    assert journal.shred(subject_ids=[personas.beneficiary_a.pk]) == 1

    entry.refresh_from_db()
    assert entry.personal == {"search": None, "phone": None}
    assert entry.shredded is True
    assert entry.data == {"page": "detail"}
    after = _row(entry.pk)
    assert after == {**before, "shredded": True}
    other.refresh_from_db()
    assert other.personal == {"search": "Bernard"}
    assert other.shredded is False


@pytest.mark.django_db
def test_a_second_shred_changes_nothing_and_a_raw_one_is_refused(personas):
    entry = _entry(personas)
    journal.shred(subject_ids=[personas.beneficiary_a.pk])
    assert journal.shred(subject_ids=[personas.beneficiary_a.pk]) == 0
    # Shredding again by hand (already shredded) is not the shred path: refused.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(personal={"search": None})
    assert JournalEntry.objects.get(pk=entry.pk).shredded is True


@pytest.mark.django_db
def test_a_raw_delete_is_refused(personas):
    entry = _entry(personas)
    with pytest.raises(DatabaseError, match="DELETE refused"):
        _raw(f"DELETE FROM {TABLE} WHERE id = %s", [entry.pk])  # noqa: S608
    with pytest.raises(DatabaseError, match="DELETE refused"), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).delete()
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_a_shred_is_allowed_only_on_the_entries_of_the_person_being_erased(personas):
    mine = _entry(personas)
    about_b = journal.record(
        structure=personas.b,
        action="beneficiary.viewed",
        obj=personas.beneficiary_b,
        subject=personas.beneficiary_b,
        personal={"phone": "+33698765432"},
    )
    blank = {"search": None, "phone": None}
    # Erasing B: a shred-shaped UPDATE of an entry about A is refused…
    with (
        pytest.raises(DatabaseError, match="UPDATE refused"),
        transaction.atomic(),
        journal._shredding([personas.beneficiary_b.pk]),
    ):
        JournalEntry.objects.filter(pk=mine.pk).update(personal=blank, shredded=True)
    # …and B's own entry may be shredded.
    with transaction.atomic(), journal._shredding([personas.beneficiary_b.pk]):
        JournalEntry.objects.filter(pk=about_b.pk).update(personal={"phone": None}, shredded=True)
    assert JournalEntry.objects.get(pk=mine.pk).shredded is False
    assert JournalEntry.objects.get(pk=about_b.pk).shredded is True


@pytest.mark.django_db
def test_outside_a_shred_the_same_update_is_refused(personas):
    entry = _entry(personas)
    with pytest.raises(DatabaseError, match="UPDATE refused"), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(
            personal={"search": None, "phone": None}, shredded=True
        )
    assert JournalEntry.objects.get(pk=entry.pk).shredded is False


def test_a_sqlite_connection_without_lien_cannot_touch_the_journal():
    """The sqlite3 shell has no lien_shred_allowed(): its UPDATE and DELETE fail too."""
    import importlib
    import sqlite3

    migration = importlib.import_module("lien.journal.migrations.0004_client_ip_and_scoped_shred")
    db = sqlite3.connect(":memory:")
    db.execute(
        f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, structure_id, actor_id, actor_label, "
        "action, object_type, object_id, subject_id, client_ip, data, at, personal, shredded)"
    )
    for statement in migration.SQLITE_CREATE:
        db.execute(statement)
    row = "1, 1, NULL, '', 'a.b', '', NULL, 5, NULL, '{}', '2026-01-01', '{\"q\": \"x\"}', 0"
    db.execute(f"INSERT INTO {TABLE} VALUES ({row})")  # noqa: S608
    for sql in (
        f"UPDATE {TABLE} SET personal = '{{\"q\": null}}', shredded = 1",  # noqa: S608
        f"DELETE FROM {TABLE}",  # noqa: S608
    ):
        with pytest.raises(sqlite3.OperationalError, match="no such function"):
            db.execute(sql)
    assert db.execute(f"SELECT count(*) FROM {TABLE}").fetchone() == (1,)  # noqa: S608


@pytest.mark.django_db
def test_a_shred_that_also_changes_the_action_is_refused(personas):
    entry = _entry(personas)
    forged = JournalEntry.objects.filter(pk=entry.pk)
    with (
        pytest.raises(DatabaseError, match="UPDATE refused"),
        transaction.atomic(),
        journal._shredding([personas.beneficiary_a.pk]),
    ):
        forged.update(
            action="beneficiary.forged", shredded=True, personal={"search": None, "phone": None}
        )
    assert _row(entry.pk)["action"] == "beneficiary.viewed"
    assert _row(entry.pk)["shredded"] is False


@ONLY_ON_POSTGRESQL
@pytest.mark.postgres
@pytest.mark.django_db
def test_a_shred_without_the_setting_is_refused_on_postgresql(personas):
    entry = _entry(personas)
    shred_sql = (
        f"UPDATE {TABLE} SET shredded = true, "  # noqa: S608
        'personal = \'{"search": null, "phone": null}\'::jsonb WHERE id = %s'
    )
    with pytest.raises(DatabaseError, match="UPDATE refused"):
        _raw(shred_sql, [entry.pk])
    # The old switch ("on") or another person's id does not open the shred path either.
    for setting in ("on", str(personas.beneficiary_b.pk), f"{personas.beneficiary_a.pk};1"):
        with (
            pytest.raises(DatabaseError, match="UPDATE refused"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT set_config('lien.shredding', %s, true)", [setting])
            cursor.execute(shred_sql, [entry.pk])
    assert _row(entry.pk)["shredded"] is False


@pytest.mark.django_db
def test_entries_by_staff_record_their_client_address_and_residents_none(personas, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = signed_in(personas.advisor)
    client.get(
        f"/equipe/ville-a/personnes/{personas.beneficiary_a.pk}/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7",
    )
    viewed = JournalEntry.objects.get(action="beneficiary.viewed")
    assert viewed.client_ip == "203.0.113.7"  # the proxy's view, not the spoofed prefix
    Client().post(
        f"/rdv/{personas.appointment_a.token}/annuler/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.4",
    )
    cancelled = JournalEntry.objects.get(action="appointment.cancelled")
    assert cancelled.actor_label == "resident-link" and cancelled.client_ip is None
