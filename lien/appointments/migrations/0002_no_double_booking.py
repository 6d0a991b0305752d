"""No two active appointments of one advisor may overlap — enforced by PostgreSQL.

An exclusion constraint over (advisor WITH =, tstzrange(blocked_start, blocked_end) WITH &&)
for active statuses. It needs btree_gist. SQLite has no such constraint: there the booking
service serialises writers (IMMEDIATE transactions) and checks inside the lock.
"""

from django.db import migrations

CONSTRAINT = "appointment_no_overlap_per_advisor"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE appointments_appointment ADD CONSTRAINT {CONSTRAINT} "
        "EXCLUDE USING gist (advisor_id WITH =, "
        "tstzrange(blocked_start, blocked_end, '[)') WITH &&) "
        "WHERE (status IN ('unknown', 'seen', 'noshow'))"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS {CONSTRAINT}"
    )


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
