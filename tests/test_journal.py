"""The journal is append-only in the database itself; only a shred may touch a row.

PostgreSQL refuses UPDATE and DELETE (trigger of migration journal/0003) except the shred
path; SQLite refuses every UPDATE but a shred (it cannot refuse DELETE: Django empties SQLite
test databases with DELETE).
"""

import pytest
from django.db import DatabaseError, connection, transaction

from lien import journal
from lien.journal.models import JournalEntry

ONLY_ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: its trigger also refuses DELETE and checks lien.shredding",
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


@ONLY_ON_POSTGRESQL
@pytest.mark.postgres
@pytest.mark.django_db
def test_a_raw_delete_is_refused_on_postgresql(personas):
    entry = _entry(personas)
    with pytest.raises(DatabaseError, match="DELETE refused"):
        _raw(f"DELETE FROM {TABLE} WHERE id = %s", [entry.pk])  # noqa: S608
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_a_shred_that_also_changes_the_action_is_refused(personas):
    entry = _entry(personas)
    forged = JournalEntry.objects.filter(pk=entry.pk)
    with pytest.raises(DatabaseError, match="UPDATE refused"), transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lien.shredding', 'on', true)")
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
    with pytest.raises(DatabaseError, match="UPDATE refused"):
        _raw(
            f"UPDATE {TABLE} SET shredded = true, "  # noqa: S608
            'personal = \'{"search": null, "phone": null}\'::jsonb WHERE id = %s',
            [entry.pk],
        )
    assert _row(entry.pk)["shredded"] is False
