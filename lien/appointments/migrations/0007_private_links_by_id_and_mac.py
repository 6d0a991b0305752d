"""Private links no longer stored: a random link id plus a MAC under SECRET_KEY.

The old tokens were stored in clear, so a copy of the database opened every appointment and
every advisor's feed. Each row gets a new random `link_id`; its token is the id followed by a MAC
(lien/core/links.py). Links sent before this migration stop working: the resident's next
message (a reminder, a change) carries the new one, and advisors subscribe to their feed again.
"""

import secrets

from django.db import migrations, models

import lien.core.links


def fill_link_ids(apps, schema_editor):
    for name in ("Appointment", "CalendarFeed"):
        model = apps.get_model("appointments", name)
        for pk in model.objects.filter(link_id__isnull=True).values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(link_id=secrets.token_urlsafe(9))


class Migration(migrations.Migration):
    dependencies = [("appointments", "0006_message_uncertain_state")]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="link_id",
            field=models.CharField(editable=False, max_length=40, null=True),
        ),
        migrations.AddField(
            model_name="calendarfeed",
            name="link_id",
            field=models.CharField(editable=False, max_length=40, null=True),
        ),
        migrations.RunPython(fill_link_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="appointment",
            name="link_id",
            field=models.CharField(
                default=lien.core.links.new_id, editable=False, max_length=40, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="calendarfeed",
            name="link_id",
            field=models.CharField(
                default=lien.core.links.new_id, editable=False, max_length=40, unique=True
            ),
        ),
        migrations.RemoveField(model_name="appointment", name="token"),
        migrations.RemoveField(model_name="calendarfeed", name="token"),
    ]
