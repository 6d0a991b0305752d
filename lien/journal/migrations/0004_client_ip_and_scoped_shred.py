"""The database keeps the journal append-only, on PostgreSQL and on SQLite alike.

- DELETE is refused. (PostgreSQL flushes test databases with TRUNCATE, which row triggers do
  not see; SQLite flushes with DELETE, allowed only while `lien_journal_delete_allowed()` is
  1, which only the test suite's flush sets: see lien/journal/sqlite.py.)
- UPDATE is refused unless it is a shred of an entry about a person being erased in this
  transaction: PostgreSQL reads their ids from the transaction-local setting
  `lien.shredding` ("12,15"), SQLite asks the connection's `lien_shred_allowed()`. A shred
  changes only `personal` (every value null) and `shredded` (false to true).

Before the new triggers, the search words older versions stored in `personal` without a
subject (so no erasure could ever find them) are shredded: searches are now journalled
without their words.
"""

import importlib

from django.db import migrations, models

PG_DROP = """
DROP TRIGGER IF EXISTS journal_append_only ON journal_journalentry;
DROP FUNCTION IF EXISTS journal_append_only();
"""
PG_CREATE = r"""
CREATE OR REPLACE FUNCTION journal_append_only() RETURNS trigger AS $$
DECLARE
    setting text := coalesce(current_setting('lien.shredding', true), '');
    scope bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'journal is append-only: DELETE refused' USING ERRCODE = 'P0001';
    END IF;
    IF setting ~ '^[0-9]+(,[0-9]+)*$' THEN
        scope := string_to_array(setting, ',')::bigint[];
    END IF;
    IF scope IS NOT NULL
       AND (OLD.subject_id = ANY(scope)
            OR (OLD.object_type = 'beneficiary' AND OLD.object_id = ANY(scope)))
       AND NOT OLD.shredded AND NEW.shredded
       AND NEW.id = OLD.id
       AND NEW.structure_id = OLD.structure_id
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.actor_label = OLD.actor_label
       AND NEW.action = OLD.action
       AND NEW.object_type = OLD.object_type
       AND NEW.object_id IS NOT DISTINCT FROM OLD.object_id
       AND NEW.subject_id IS NOT DISTINCT FROM OLD.subject_id
       AND NEW.client_ip IS NOT DISTINCT FROM OLD.client_ip
       AND NEW.data = OLD.data
       AND NEW.at = OLD.at
       AND NOT EXISTS (
           SELECT 1 FROM jsonb_each(NEW.personal) AS kv WHERE kv.value <> 'null'::jsonb
       )
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'journal is append-only: UPDATE refused' USING ERRCODE = 'P0001';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER journal_append_only
    BEFORE UPDATE OR DELETE ON journal_journalentry
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
"""
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS journal_append_only;",
    "DROP TRIGGER IF EXISTS journal_no_delete;",
]
SQLITE_CREATE = [
    """
CREATE TRIGGER journal_append_only
BEFORE UPDATE ON journal_journalentry
FOR EACH ROW WHEN NOT (
    lien_shred_allowed(OLD.subject_id, OLD.object_type, OLD.object_id) = 1
    AND OLD.shredded = 0 AND NEW.shredded = 1
    AND NEW.id = OLD.id
    AND NEW.structure_id = OLD.structure_id
    AND NEW.actor_id IS OLD.actor_id
    AND NEW.actor_label = OLD.actor_label
    AND NEW.action = OLD.action
    AND NEW.object_type = OLD.object_type
    AND NEW.object_id IS OLD.object_id
    AND NEW.subject_id IS OLD.subject_id
    AND NEW.client_ip IS OLD.client_ip
    AND NEW.data = OLD.data
    AND NEW.at = OLD.at
    AND NOT EXISTS (
        SELECT 1 FROM json_each(NEW.personal) WHERE json_each.type <> 'null'
    )
)
BEGIN
    SELECT RAISE(ABORT, 'journal is append-only: UPDATE refused');
END;
""",
    """
CREATE TRIGGER journal_no_delete
BEFORE DELETE ON journal_journalentry
FOR EACH ROW WHEN NOT lien_journal_delete_allowed()
BEGIN
    SELECT RAISE(ABORT, 'journal is append-only: DELETE refused');
END;
""",
]


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def restore_previous_triggers(apps, schema_editor):
    """Going back to 0003: its triggers, as it wrote them."""
    previous = importlib.import_module("lien.journal.migrations.0003_append_only_trigger")
    previous.forward(apps, schema_editor)


def shred_stored_search_words(apps, schema_editor):
    JournalEntry = apps.get_model("journal", "JournalEntry")
    entries = JournalEntry.objects.filter(action__endswith=".searched", shredded=False)
    for entry in entries.exclude(personal={}).only("pk", "personal").iterator():
        blank = dict.fromkeys(entry.personal or {}, None)
        JournalEntry.objects.filter(pk=entry.pk).update(personal=blank, shredded=True)


class Migration(migrations.Migration):
    dependencies = [("journal", "0003_append_only_trigger")]

    operations = [
        migrations.RunPython(drop_triggers, restore_previous_triggers),
        migrations.AddField(
            model_name="journalentry",
            name="client_ip",
            field=models.GenericIPAddressField(blank=True, null=True),
        ),
        migrations.RunPython(shred_stored_search_words, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
