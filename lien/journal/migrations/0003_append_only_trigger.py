"""The database itself keeps the journal append-only.

PostgreSQL: DELETE is always refused; UPDATE is refused unless it is a shred, that is the
transaction-local setting `lien.shredding` is on, only `personal` and `shredded` change,
`shredded` goes from false to true and every personal value becomes null.
SQLite has no session settings: its trigger refuses every UPDATE that is not such a shred.
It cannot refuse DELETE, because Django empties SQLite test databases with DELETE.
TRUNCATE (test database flushes, operators) is a table-level operation and stays allowed.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION journal_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'journal is append-only: DELETE refused' USING ERRCODE = 'P0001';
    END IF;
    IF current_setting('lien.shredding', true) = 'on'
       AND NOT OLD.shredded AND NEW.shredded
       AND NEW.id = OLD.id
       AND NEW.structure_id = OLD.structure_id
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.actor_label = OLD.actor_label
       AND NEW.action = OLD.action
       AND NEW.object_type = OLD.object_type
       AND NEW.object_id IS NOT DISTINCT FROM OLD.object_id
       AND NEW.subject_id IS NOT DISTINCT FROM OLD.subject_id
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
DROP TRIGGER IF EXISTS journal_append_only ON journal_journalentry;
CREATE TRIGGER journal_append_only
    BEFORE UPDATE OR DELETE ON journal_journalentry
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS journal_append_only ON journal_journalentry;
DROP FUNCTION IF EXISTS journal_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER IF NOT EXISTS journal_append_only
BEFORE UPDATE ON journal_journalentry
FOR EACH ROW WHEN NOT (
    OLD.shredded = 0 AND NEW.shredded = 1
    AND NEW.id = OLD.id
    AND NEW.structure_id = OLD.structure_id
    AND NEW.actor_id IS OLD.actor_id
    AND NEW.actor_label = OLD.actor_label
    AND NEW.action = OLD.action
    AND NEW.object_type = OLD.object_type
    AND NEW.object_id IS OLD.object_id
    AND NEW.subject_id IS OLD.subject_id
    AND NEW.data = OLD.data
    AND NEW.at = OLD.at
    AND NOT EXISTS (
        SELECT 1 FROM json_each(NEW.personal) WHERE json_each.type <> 'null'
    )
)
BEGIN
    SELECT RAISE(ABORT, 'journal is append-only: UPDATE refused');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS journal_append_only;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("journal", "0002_subject_and_personal_values")]
    operations = [migrations.RunPython(forward, backward)]
