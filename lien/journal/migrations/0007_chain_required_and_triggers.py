"""The chain's columns become required, and the triggers come back covering them.

The same rules as migration 0004 (DELETE refused, UPDATE refused unless it is the shred of an
entry about a person being erased in this transaction), where a shred must now also leave
`seq`, `prev_hash` and `hash` as they are. On PostgreSQL a statement trigger also refuses
TRUNCATE, which row triggers do not see, unless the transaction-local setting
`lien.journal_flush` is 'on': only the test suite's flush of a test database sets it
(tests/conftest.py); production code never does, and the application's database role has no
TRUNCATE privilege in the first place (docs/DEPLOYMENT.md).
"""

from django.db import migrations, models

PG_DROP = """
DROP TRIGGER IF EXISTS journal_append_only ON journal_journalentry;
DROP FUNCTION IF EXISTS journal_append_only();
DROP TRIGGER IF EXISTS journal_no_truncate ON journal_journalentry;
DROP FUNCTION IF EXISTS journal_no_truncate();
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
       AND NEW.seq = OLD.seq
       AND NEW.prev_hash = OLD.prev_hash
       AND NEW.hash = OLD.hash
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

CREATE OR REPLACE FUNCTION journal_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('lien.journal_flush', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'journal is append-only: TRUNCATE refused' USING ERRCODE = 'P0001';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER journal_no_truncate
    BEFORE TRUNCATE ON journal_journalentry
    FOR EACH STATEMENT EXECUTE FUNCTION journal_no_truncate();
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
    AND NEW.seq = OLD.seq
    AND NEW.prev_hash = OLD.prev_hash
    AND NEW.hash = OLD.hash
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


class Migration(migrations.Migration):
    dependencies = [("journal", "0006_hash_chain")]

    operations = [
        migrations.AlterField(
            model_name="journalentry",
            name="seq",
            field=models.BigIntegerField(),
        ),
        migrations.AlterField(
            model_name="journalentry",
            name="prev_hash",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="journalentry",
            name="hash",
            field=models.CharField(max_length=64),
        ),
        migrations.AddConstraint(
            model_name="journalentry",
            constraint=models.UniqueConstraint(
                fields=("structure", "seq"), name="journal_chain_seq_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="journalentry",
            constraint=models.CheckConstraint(
                condition=models.Q(seq__gte=1), name="journal_chain_seq_positive"
            ),
        ),
        # Reversed: no trigger while 0006 is undone; reversing 0006 restores those of 0004.
        migrations.RunPython(create_triggers, drop_triggers),
    ]
