from django.db import models


class ScheduledTask(models.Model):
    """One row per periodic job; workers claim due rows with SELECT … FOR UPDATE SKIP LOCKED.

    Several workers (on several machines) can run against the same database: a job runs
    once per period whoever picks it up.
    """

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name
