"""The journal is tamper-evident: each structure's entries form a hash chain.

A row edited, deleted or re-chained behind the database's triggers is found by
`integrity.verify()` / `manage.py verify_journal` at the exact first broken link, on SQLite and
on PostgreSQL; a shred leaves every chain intact. On PostgreSQL, TRUNCATE is refused by a
trigger, appends from many connections at once still make one chain, and the application's
role (docs/DEPLOYMENT.md, `manage.py grant_app_role`) can neither empty, edit nor unprotect
the journal.
"""

import contextlib
import datetime as dt
import importlib
import io
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from lien import journal
from lien.core import worker
from lien.journal import app_role, chain, integrity, jobs
from lien.journal.management.commands.verify_journal import Command as VerifyCommand
from lien.journal.models import JournalCheck, JournalEntry
from tests.conftest import make_structure

TABLE = JournalEntry._meta.db_table
LATEST = importlib.import_module("lien.journal.migrations.0007_chain_required_and_triggers")
CHAINING = importlib.import_module("lien.journal.migrations.0006_hash_chain")
ONLY_ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL: its triggers, locks and roles"
)


def _write(personas, count: int, structure=None, **extra) -> list[JournalEntry]:
    return [
        journal.record(
            structure=structure or personas.a,
            action="beneficiary.viewed",
            obj=personas.beneficiary_a,
            actor=personas.advisor,
            subject=personas.beneficiary_a,
            personal={"phone": "+33612345678"},
            data={"page": "detail", "n": n},
            **extra,
        )
        for n in range(count)
    ]


@contextlib.contextmanager
def _triggers_bypassed():
    """What someone with the owner's (or the file's) rights can do: edit behind the triggers.
    Everything is undone with the test's transaction; the triggers are restored explicitly."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's own inserts leave deferred foreign-key checks pending, and ALTER
            # TABLE waits for none: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
            try:
                yield cursor
            finally:
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER journal_append_only")
            try:
                with journal.allow_flush():
                    yield cursor
            finally:
                cursor.execute(LATEST.SQLITE_CREATE[0])


def _tamper(sql: str, params: list) -> None:
    with _triggers_bypassed() as cursor:
        cursor.execute(sql, params)


def _rehash_from(structure_id: int, seq: int) -> None:
    """A forger who knows the algorithm: recompute every hash from `seq` on."""
    links = [
        chain.Link(*row)
        for row in JournalEntry.objects.filter(structure_id=structure_id, seq__gte=seq - 1)
        .order_by("seq")
        .values_list(*chain.COLUMNS)
    ]
    prev = links[0].hash if links[0].seq < seq else chain.GENESIS
    with _triggers_bypassed() as cursor:
        for link in links:
            if link.seq < seq:
                continue
            fields = {**link.__dict__, "prev_hash": prev}
            for name in ("pk", "hash"):
                fields.pop(name)
            new = chain.entry_hash(**fields)
            cursor.execute(
                f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE id = %s",  # noqa: S608
                [prev, new, link.pk],
            )
            prev = new


def _chain_of(structure) -> integrity.ChainResult:
    [result] = integrity.verify(structure).chains
    return result


# --- How entries are chained -------------------------------------------------------------


@pytest.mark.django_db
def test_entries_are_numbered_and_chained_per_structure(personas):
    in_a = _write(personas, 3)
    in_b = _write(personas, 2, structure=personas.b)
    assert [e.seq for e in in_a] == [1, 2, 3] and [e.seq for e in in_b] == [1, 2]
    assert in_a[0].prev_hash == chain.GENESIS == in_b[0].prev_hash
    assert in_a[1].prev_hash == in_a[0].hash and in_a[2].prev_hash == in_a[1].hash
    stored = JournalEntry.objects.get(pk=in_a[2].pk)
    assert (stored.seq, stored.prev_hash, stored.hash) == (3, in_a[1].hash, in_a[2].hash)
    result = integrity.verify()
    assert result.ok
    by_structure = {c.structure_id: c.walk for c in result.chains}
    assert by_structure[personas.a.pk] == chain.Walk(3, 3, in_a[2].hash, None)
    assert by_structure[personas.b.pk] == chain.Walk(2, 2, in_b[1].hash, None)


@pytest.mark.django_db
def test_data_is_hashed_as_the_database_gives_it_back(personas):
    """Integer keys become strings, tuples lists, integral floats integers (PostgreSQL's
    jsonb keeps numbers as decimals): the hash is over what is read back."""
    entry = journal.record(
        structure=personas.a,
        action="beneficiary.viewed",
        data={1: ("a", 2.0), "big": 1e20, "small": 0.1, "text": "Élodie « ok »", "none": None},
    )
    assert entry.data == {
        "1": ["a", 2.0],
        "big": 1e20,
        "small": 0.1,
        "text": "Élodie « ok »",
        "none": None,
    }
    assert _chain_of(personas.a).ok


@pytest.mark.django_db
def test_an_address_is_hashed_whatever_its_spelling(personas):
    with journal.client_address("2001:DB8:0:0:0:0:0:1"):
        journal.record(structure=personas.a, action="beneficiary.viewed", actor=personas.advisor)
    assert JournalEntry.objects.get().client_ip == "2001:db8::1"
    assert _chain_of(personas.a).ok


# --- What a verification finds -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "beneficiary.erased"),
        ("data", '{"page": "forged", "n": 2}'),
        ("actor_label", "worker"),
        ("object_id", 999),
        ("subject_id", None),
        ("client_ip", "198.51.100.9"),
        ("actor_id", None),
    ],
)
def test_an_edited_row_is_caught_at_that_row(personas, column, value):
    entries = _write(personas, 5)
    _write(personas, 2, structure=personas.b)
    _tamper(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, entries[2].pk])  # noqa: S608

    result = integrity.verify()
    assert not result.ok
    [broken] = result.broken
    assert broken.structure_id == personas.a.pk
    assert broken.broken == chain.Break(seq=3, entry_id=entries[2].pk, reason=chain.HASH)
    assert broken.walk.entries == 2  # the two before it are intact
    assert _chain_of(personas.b).ok


@pytest.mark.django_db
def test_an_edited_date_is_caught(personas):
    entries = _write(personas, 4)
    moved = entries[1].at - dt.timedelta(days=3)
    _tamper(f"UPDATE {TABLE} SET at = %s WHERE id = %s", [moved, entries[1].pk])  # noqa: S608
    assert _chain_of(personas.a).broken == chain.Break(2, entries[1].pk, chain.HASH)


@pytest.mark.django_db
def test_an_edit_with_its_hash_recomputed_is_caught_at_the_next_row(personas):
    entries = _write(personas, 5)
    _tamper(
        f"UPDATE {TABLE} SET action = %s WHERE id = %s",  # noqa: S608
        ["beneficiary.erased", entries[1].pk],
    )
    row = JournalEntry.objects.filter(pk=entries[1].pk).values_list(*chain.COLUMNS).get()
    forged = chain.Link(*row)
    fields = {k: v for k, v in forged.__dict__.items() if k not in ("pk", "hash")}
    rehashed = chain.entry_hash(**fields)
    _tamper(f"UPDATE {TABLE} SET hash = %s WHERE id = %s", [rehashed, entries[1].pk])  # noqa: S608

    assert _chain_of(personas.a).broken == chain.Break(3, entries[2].pk, chain.PREV)


@pytest.mark.django_db
def test_a_deleted_row_in_the_middle_is_caught(personas):
    entries = _write(personas, 5)
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [entries[2].pk])  # noqa: S608
    assert _chain_of(personas.a).broken == chain.Break(4, entries[3].pk, chain.GAP)


@pytest.mark.django_db
def test_a_deleted_first_row_is_caught(personas):
    entries = _write(personas, 3)
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [entries[0].pk])  # noqa: S608
    assert _chain_of(personas.a).broken == chain.Break(2, entries[1].pk, chain.GAP)


@pytest.mark.django_db
def test_a_deleted_tail_is_caught_only_after_a_check_saw_it(personas):
    entries = _write(personas, 5)
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [entries[4].pk])  # noqa: S608
    # Never checked: the chain simply ends at 4. This is the documented limit.
    assert _chain_of(personas.a).ok

    integrity.run_check()  # anchors A's chain at entry 4
    _tamper(
        f"DELETE FROM {TABLE} WHERE id IN (%s, %s)",  # noqa: S608
        [entries[2].pk, entries[3].pk],
    )
    assert _chain_of(personas.a).broken == chain.Break(3, None, chain.TAIL)


@pytest.mark.django_db
def test_a_journal_emptied_after_a_check_is_caught(personas):
    _write(personas, 2)
    integrity.run_check()
    _tamper(f"DELETE FROM {TABLE}", [])  # noqa: S608
    assert _chain_of(personas.a).broken == chain.Break(1, None, chain.TAIL)


@pytest.mark.django_db
def test_a_chain_rewritten_up_to_the_checked_head_is_caught_there(personas):
    entries = _write(personas, 5)
    integrity.run_check()
    _tamper(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["beneficiary.erased", entries[1].pk])  # noqa: S608
    _rehash_from(personas.a.pk, 2)
    # Every link now agrees with the next; only the anchor of the last check disagrees.
    assert _chain_of(personas.a).broken == chain.Break(5, entries[4].pk, chain.ANCHOR)


@pytest.mark.django_db
def test_a_shred_keeps_every_chain_intact(personas):
    entries = _write(personas, 3)
    hashes = [e.hash for e in entries]
    integrity.run_check()
    assert journal.shred(subject_ids=[personas.beneficiary_a.pk]) == 3
    shredded = list(JournalEntry.objects.filter(structure=personas.a).order_by("seq"))
    assert [e.personal for e in shredded] == [{"phone": None}] * 3
    assert [e.hash for e in shredded] == hashes
    assert integrity.verify().ok


@pytest.mark.django_db
def test_a_shred_cannot_touch_the_chain_columns(personas):
    entry = _write(personas, 1)[0]
    for column, value in (("seq", 7), ("hash", "f" * 64), ("prev_hash", "e" * 64)):
        with (
            pytest.raises(DatabaseError, match="UPDATE refused"),
            transaction.atomic(),
            journal._shredding([personas.beneficiary_a.pk]),
        ):
            JournalEntry.objects.filter(pk=entry.pk).update(
                personal={"phone": None}, shredded=True, **{column: value}
            )
    assert JournalEntry.objects.get(pk=entry.pk).hash == entry.hash


# --- Where the result goes: the command, the daily job, the page's summary ----------------


@pytest.mark.django_db
def test_verify_journal_reports_the_first_broken_link_and_exits_1(personas):
    entries = _write(personas, 4)
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_journal", stdout=out, stderr=err)
    assert "Ville A (ville-a) : intact, 4 entrée(s) ; dernière n° 4" in out.getvalue()
    assert "Journal intact : 2 structure(s), 4 entrée(s)" in out.getvalue()

    _tamper(f"UPDATE {TABLE} SET data = %s WHERE id = %s", ['{"page": "x"}', entries[1].pk])  # noqa: S608
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="Journal rompu dans 1 structure"):
        call_command("verify_journal", stdout=out, stderr=err)
    assert (
        f"Ville A (ville-a) : chaîne ROMPUE à l'entrée n° 2 (id {entries[1].pk}) : son contenu "
        "ne correspond plus à son empreinte (entrée modifiée). 1 entrée(s) intacte(s)"
    ) in err.getvalue()
    # Run as `manage.py verify_journal`, that is exit status 1.
    command = VerifyCommand(stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(SystemExit) as exited:
        command.run_from_argv(["manage.py", "verify_journal", "--no-record", "--skip-checks"])
    assert exited.value.code == 1


@pytest.mark.django_db
def test_verify_journal_of_one_structure_and_without_recording(personas):
    _write(personas, 2)
    out = io.StringIO()
    call_command("verify_journal", "--structure", "ville-a", "--no-record", stdout=out)
    assert "Ville A (ville-a) : intact, 2 entrée(s)" in out.getvalue()
    assert "Association B" not in out.getvalue()
    assert not JournalCheck.objects.exists()
    with pytest.raises(CommandError, match="Aucune structure"):
        call_command("verify_journal", "--structure", "nulle-part")


@pytest.mark.django_db
def test_the_daily_job_stores_each_structure_s_result(personas):
    assert worker.JOBS["journal.verify"].every == dt.timedelta(days=1)
    entries = _write(personas, 3)
    assert integrity.latest_check(personas.a) is None

    worker.JOBS["journal.verify"].func()
    check = integrity.latest_check(personas.a)
    assert (check.ok, check.entries, check.head_seq, check.head_hash) == (
        True,
        3,
        3,
        entries[2].hash,
    )
    assert check.summary.startswith("Journal vérifié le ")
    assert check.summary.endswith(": intact (3 entrées).")
    assert integrity.latest_check(personas.b).entries == 0

    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [entries[1].pk])  # noqa: S608
    with pytest.raises(integrity.JournalBroken, match=f"structure {personas.a.pk} at seq 3"):
        jobs.verify()
    broken = integrity.latest_check(personas.a)
    assert (broken.ok, broken.broken_seq, broken.broken_entry_id, broken.reason) == (
        False,
        3,
        entries[2].pk,
        "gap",
    )
    assert "chaîne rompue à l'entrée n° 3 : des entrées manquent juste avant elle" in (
        broken.summary
    )
    assert integrity.latest_check(personas.b).ok


@pytest.mark.django_db
def test_the_summary_groups_thousands():
    check = JournalCheck(at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), ok=True, entries=12345)
    assert "intact (12\u202f345 entrées)" in check.summary


@pytest.mark.django_db
def test_the_migration_chains_existing_rows_in_the_order_of_their_ids(personas):
    entries = _write(personas, 4) + _write(personas, 2, structure=personas.b)
    # As before the chain existed: numbers and hashes unrelated to the rows.
    with _triggers_bypassed() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET seq = seq + 1000, prev_hash = 'x', hash = 'y'"  # noqa: S608
        )
        CHAINING.build_chains(django_apps, SimpleNamespace(connection=connection))
    rows = JournalEntry.objects.order_by("pk").values_list("pk", "structure_id", "seq", "hash")
    assert [(pk, s, seq) for pk, s, seq, _ in rows] == [
        (e.pk, e.structure_id, seq) for e, seq in zip(entries, [1, 2, 3, 4, 1, 2], strict=True)
    ]
    assert [h for *_, h in rows] == [e.hash for e in entries]  # the same as record() made
    assert integrity.verify().ok


def test_a_sqlite_connection_without_lien_cannot_touch_the_chain():
    """The triggers of migration 0007, on a bare sqlite3 connection: no UPDATE, no DELETE."""
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute(
        f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, structure_id, actor_id, actor_label, "
        "action, object_type, object_id, subject_id, client_ip, data, at, personal, shredded, "
        "seq, prev_hash, hash)"
    )
    for statement in LATEST.SQLITE_CREATE:
        db.execute(statement)
    row = "1, 1, NULL, '', 'a.b', '', NULL, 5, NULL, '{}', '2026-01-01', '{}', 0, 1, 'p', 'h'"
    db.execute(f"INSERT INTO {TABLE} VALUES ({row})")  # noqa: S608
    for sql in (f"UPDATE {TABLE} SET hash = 'forged'", f"DELETE FROM {TABLE}"):  # noqa: S608
        with pytest.raises(sqlite3.OperationalError, match="no such function"):
            db.execute(sql)
    assert db.execute(f"SELECT hash FROM {TABLE}").fetchone() == ("h",)  # noqa: S608


# --- The pure walk, against every single-field forgery ------------------------------------

_FIELDS = ("actor_label", "action", "object_type", "data", "client_ip", "subject_id", "at")


def _links(count: int) -> list[chain.Link]:
    links, prev = [], chain.GENESIS
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for seq in range(1, count + 1):
        fields = {
            "structure_id": 7,
            "seq": seq,
            "at": start + dt.timedelta(minutes=seq),
            "actor_id": 3,
            "actor_label": "",
            "action": "beneficiary.viewed",
            "object_type": "beneficiary",
            "object_id": seq,
            "data": {"page": seq},
            "subject_id": 11,
            "client_ip": "203.0.113.7",
            "prev_hash": prev,
        }
        links.append(chain.Link(pk=100 + seq, hash=chain.entry_hash(**fields), **fields))
        prev = links[-1].hash
    return links


_FORGED = {
    "actor_label": "worker",
    "action": "beneficiary.erased",
    "object_type": "appointment",
    "data": {"page": -1},
    "client_ip": "198.51.100.1",
    "subject_id": 12,
    "at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
}


@given(
    count=st.integers(min_value=1, max_value=12),
    where=st.integers(min_value=0, max_value=11),
    field=st.sampled_from(_FIELDS),
)
@hypothesis_settings(max_examples=60, deadline=None)
def test_walk_finds_any_single_forgery_exactly_where_it_is(count, where, field):
    links = _links(count)
    index = where % count
    forged = list(links)
    forged[index] = chain.Link(**{**links[index].__dict__, field: _FORGED[field]})
    assert chain.walk(links).ok
    assert chain.walk(forged).broken == chain.Break(index + 1, 100 + index + 1, chain.HASH)
    without = links[:index] + links[index + 1 :]
    expected = None if index == count - 1 else chain.Break(index + 2, 100 + index + 2, chain.GAP)
    assert chain.walk(without).broken == expected
    anchored = chain.walk(without, anchor=chain.Anchor(count, links[-1].hash))
    if index == count - 1:
        assert anchored.broken == chain.Break(count, None, chain.TAIL)
    else:
        assert anchored.broken == expected


def test_walk_refuses_a_number_that_goes_backwards():
    links = _links(3)
    assert chain.walk([links[0], links[1], links[1]]).broken == chain.Break(2, 102, chain.SEQ)


# --- PostgreSQL: concurrent appends, TRUNCATE, the application's role ---------------------


@ONLY_ON_POSTGRESQL
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_make_one_valid_chain():
    """Threads (each its own connection) appending at once to two structures' chains."""
    a = make_structure("ville-a", "21779990700019")
    b = make_structure("asso-b", "77890123100010")
    threads, per_thread = 6, 15
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    structure = a if (n + i) % 3 else b
                    journal.record(structure=structure, action="beneficiary.viewed", data={"i": i})
                    if i % 5 == 0:  # two appends in one transaction, to the other chain too
                        journal.record(structure=a, action="beneficiary.viewed", data={"n": n})
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    running = [threading.Thread(target=append, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=120)
    assert not errors, errors
    total = threads * per_thread + threads * 3
    assert JournalEntry.objects.count() == total
    result = integrity.verify()
    assert result.ok, result.broken
    assert result.entries == total
    for structure in (a, b):
        numbers = JournalEntry.objects.filter(structure=structure).values_list("seq", flat=True)
        assert sorted(numbers) == list(range(1, len(numbers) + 1))


@ONLY_ON_POSTGRESQL
@pytest.mark.postgres
@pytest.mark.django_db
def test_truncate_is_refused_even_to_the_owner(personas):
    _write(personas, 2)
    with connection.cursor() as cursor:
        # TRUNCATE does not wait for the test's pending deferred foreign-key checks: run them.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for sql in (f"TRUNCATE {TABLE}", "TRUNCATE accounts_structure CASCADE"):
        with (
            pytest.raises(DatabaseError, match="TRUNCATE refused"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert JournalEntry.objects.count() == 2
    # The setting the test suite's flush uses does open it, for that transaction only.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [journal.FLUSH_SETTING])
        cursor.execute(f"TRUNCATE {TABLE}")
        assert JournalEntry.objects.count() == 0
        transaction.set_rollback(True)
    assert JournalEntry.objects.count() == 2


def test_the_deployment_guide_shows_the_statements_grant_app_role_runs():
    guide = (Path(settings.BASE_DIR) / "docs" / "DEPLOYMENT.md").read_text()
    for statement in app_role.grant_statements(
        role="lien_app", owner="lien_owner", database="lien"
    ):
        assert statement in guide, statement


@pytest.fixture
def app_role_login():
    """A LOGIN role made the application's role as docs/DEPLOYMENT.md says; dropped after."""
    import psycopg

    role = f"lien_test_app_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" LOGIN')
    out = io.StringIO()
    call_command("grant_app_role", role, stdout=out)
    assert f"Droits donnés à « {role} »" in out.getvalue()
    params = connection.settings_dict
    login = psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        dbname=params["NAME"],
        user=role,
        autocommit=True,
    )
    try:
        yield SimpleNamespace(name=role, connection=login)
    finally:
        login.close()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


@ONLY_ON_POSTGRESQL
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_application_role_cannot_empty_edit_or_unprotect_the_journal(personas, app_role_login):
    import psycopg

    entry = _write(personas, 1)[0]
    login = app_role_login.connection
    refused = {
        "TRUNCATE": f"TRUNCATE {TABLE}",
        "TRUNCATE CASCADE": "TRUNCATE accounts_structure CASCADE",
        "DELETE": f"DELETE FROM {TABLE} WHERE id = {entry.pk}",  # noqa: S608
        "UPDATE": f"UPDATE {TABLE} SET action = 'beneficiary.erased' WHERE id = {entry.pk}",  # noqa: S608
        "UPDATE hash": f"UPDATE {TABLE} SET hash = 'f' WHERE id = {entry.pk}",  # noqa: S608
        "DISABLE TRIGGER": f"ALTER TABLE {TABLE} DISABLE TRIGGER journal_append_only",
        "DISABLE TRIGGER ALL": f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL",
        "DROP TRIGGER": f"DROP TRIGGER journal_append_only ON {TABLE}",
        "DROP TRUNCATE TRIGGER": f"DROP TRIGGER journal_no_truncate ON {TABLE}",
        "DROP TABLE": f"DROP TABLE {TABLE}",
        "DELETE a check": "DELETE FROM journal_journalcheck",
    }
    for what, sql in refused.items():
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            login.execute(sql)
        assert what  # named for the failure message above
    # The columns a shred changes: the privilege is there, the trigger still decides.
    with pytest.raises(psycopg.errors.RaiseException, match="UPDATE refused"):
        login.execute(
            f"""UPDATE {TABLE} SET personal = '{{"phone": null}}', shredded = true """  # noqa: S608
            f"WHERE id = {entry.pk}"
        )
    # Ordinary tables: ordinary reads and writes.
    login.execute("UPDATE accounts_structure SET name = name WHERE id = %s", [personas.a.pk])
    assert login.execute(f"SELECT count(*) FROM {TABLE}").fetchone() == (1,)  # noqa: S608

    # Lien's own paths, as that role: append, shred, verify and store the result.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{app_role_login.name}"')
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (app_role_login.name,)
        _write(personas, 2)
        assert journal.shred(subject_ids=[personas.beneficiary_a.pk]) == 3
        integrity.run_check()
    assert JournalEntry.objects.filter(structure=personas.a).count() == 3
    assert integrity.latest_check(personas.a).ok
    assert integrity.latest_check(personas.a).entries == 3


@ONLY_ON_POSTGRESQL
@pytest.mark.postgres
@pytest.mark.django_db
def test_grant_app_role_refuses_the_owner_a_superuser_and_a_missing_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (me,) = cursor.fetchone()
    with pytest.raises(CommandError, match=r"superutilisateur|possède les tables"):
        call_command("grant_app_role", me, stdout=io.StringIO())
    with pytest.raises(CommandError, match="n'existe pas"):
        call_command("grant_app_role", "lien_no_such_role", stdout=io.StringIO())
    with pytest.raises(CommandError, match="nom de rôle simple"):
        call_command("grant_app_role", 'x"; DROP TABLE y; --', stdout=io.StringIO())


@pytest.mark.django_db
def test_grant_app_role_is_for_postgresql_only():
    if connection.vendor == "postgresql":
        pytest.skip("checks the refusal on other databases")
    with pytest.raises(CommandError, match="que PostgreSQL"):
        call_command("grant_app_role", "lien_app")
