"""A no-show no longer holds the advisor's time (models.HOLDING_STATUSES).

Nobody came: the advisor may record a walk-in during that time. PostgreSQL's exclusion
constraint of migration 0002 is rebuilt for the statuses that hold time ('unknown', 'seen');
SQLite has no such constraint (the services check inside the lock).
"""

from django.db import migrations

CONSTRAINT = "appointment_no_overlap_per_advisor"


def _rebuild(schema_editor, statuses: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS {CONSTRAINT}"
    )
    schema_editor.execute(
        f"ALTER TABLE appointments_appointment ADD CONSTRAINT {CONSTRAINT} "
        "EXCLUDE USING gist (advisor_id WITH =, "
        "tstzrange(blocked_start, blocked_end, '[)') WITH &&) "
        f"WHERE (status IN ({statuses}))"
    )


def forwards(apps, schema_editor):
    _rebuild(schema_editor, "'unknown', 'seen'")


def backwards(apps, schema_editor):
    _rebuild(schema_editor, "'unknown', 'seen', 'noshow'")


class Migration(migrations.Migration):
    dependencies = [("appointments", "0008_status_labels_as_buttons")]
    operations = [migrations.RunPython(forwards, backwards)]
