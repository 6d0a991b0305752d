"""Each structure's journal becomes a hash chain (lien/journal/chain.py).

The entries already there are numbered per structure in the order they were written (their
id) and chained as they stand; `at` is now set by `record()` instead of `auto_now_add`, so it
is known before the entry is hashed. The append-only triggers are dropped for the time of
this migration and the next (which makes the new columns required and creates the triggers
again, now covering them, with a TRUNCATE trigger on PostgreSQL).
"""

import importlib

from django.db import migrations, models

from lien.journal import chain

BATCH = 1000


def _previous():
    return importlib.import_module("lien.journal.migrations.0004_client_ip_and_scoped_shred")


def drop_triggers(apps, schema_editor):
    _previous().drop_triggers(apps, schema_editor)


def restore_triggers(apps, schema_editor):
    _previous().create_triggers(apps, schema_editor)


def build_chains(apps, schema_editor):
    JournalEntry = apps.get_model("journal", "JournalEntry")
    entries = JournalEntry.objects.using(schema_editor.connection.alias)
    structure_ids = entries.order_by().values_list("structure_id", flat=True).distinct()
    for structure_id in sorted(set(structure_ids)):
        seq, prev_hash, last_pk = 0, chain.GENESIS, 0
        while True:
            # A batch at a time, read in full before it is written back.
            batch = list(
                entries.filter(structure_id=structure_id, pk__gt=last_pk).order_by("pk")[:BATCH]
            )
            if not batch:
                break
            for entry in batch:
                seq += 1
                entry.seq, entry.prev_hash = seq, prev_hash
                entry.hash = chain.entry_hash(
                    structure_id=entry.structure_id,
                    seq=seq,
                    at=entry.at,
                    actor_id=entry.actor_id,
                    actor_label=entry.actor_label,
                    action=entry.action,
                    object_type=entry.object_type,
                    object_id=entry.object_id,
                    data=entry.data,
                    subject_id=entry.subject_id,
                    client_ip=entry.client_ip,
                    prev_hash=prev_hash,
                )
                prev_hash = entry.hash
            entries.bulk_update(batch, ["seq", "prev_hash", "hash"])
            last_pk = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("journal", "0005_journal_check")]

    operations = [
        migrations.RunPython(drop_triggers, restore_triggers),
        migrations.AlterField(
            model_name="journalentry",
            name="at",
            field=models.DateTimeField(db_index=True),
        ),
        migrations.AddField(
            model_name="journalentry",
            name="seq",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="journalentry",
            name="prev_hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="journalentry",
            name="hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(build_chains, migrations.RunPython.noop),
    ]
