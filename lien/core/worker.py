"""The background worker: periodic jobs kept in the database, no broker needed.

Each job is a plain function registered with `@periodic(name, every=...)`. A worker pass
claims every due job with SELECT … FOR UPDATE SKIP LOCKED, so two workers never run the
same job at the same time, and records the outcome in the same transaction.
"""

import datetime as dt
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.core import management
from django.db import transaction
from django.utils import timezone

from lien.core.models import ScheduledTask

log = logging.getLogger("lien.worker")


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    func: Callable[[], None]


JOBS: dict[str, Job] = {}


def periodic(name: str, *, every: dt.timedelta) -> Callable:
    def register(func: Callable[[], None]) -> Callable[[], None]:
        JOBS[name] = Job(name, every, func)
        return func

    return register


@periodic("sessions.clear_expired", every=dt.timedelta(days=1))
def clear_expired_sessions() -> None:
    management.call_command("clearsessions")


@periodic("axes.purge_old_login_logs", every=dt.timedelta(days=1))
def purge_old_login_logs() -> None:
    """Keep login access and failure logs (IP addresses) 30 days only."""
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.reset_logs(age_days=30)
    AxesProxyHandler.reset_failure_logs(age_days=30)


def run_due_jobs(now: dt.datetime | None = None) -> list[str]:
    """Run every due job once; returns the names of the jobs this pass ran.

    A job is claimed by moving its next run forward in a short committed transaction
    (SELECT … FOR UPDATE SKIP LOCKED), so no other worker starts it; it then runs outside
    any transaction (jobs manage their own, e.g. message delivery commits its claims before
    sending), and its outcome is recorded afterwards.
    """
    now = now or timezone.now()
    for job in JOBS.values():
        ScheduledTask.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    ran: list[str] = []
    for name, job in JOBS.items():
        with transaction.atomic():
            task = (
                ScheduledTask.objects.select_for_update(skip_locked=True)
                .filter(name=name, next_run_at__lte=now)
                .first()
            )
            if task is None:
                continue
            task.next_run_at = now + job.every
            task.save(update_fields=["next_run_at"])
        started = time.monotonic()
        error = ""
        try:
            job.func()
        except Exception:  # a failing job must not stop the others
            error = traceback.format_exc()[-4000:]
            log.exception("job %s failed", name)
        ScheduledTask.objects.filter(pk=task.pk).update(
            last_run_at=now,
            last_duration_ms=int((time.monotonic() - started) * 1000),
            last_error=error,
        )
        ran.append(name)
    return ran


def run_forever(poll_seconds: float = 30.0) -> None:
    log.info("worker started with jobs: %s", ", ".join(JOBS))
    while True:
        ran = run_due_jobs()
        if ran:
            log.info("ran: %s", ", ".join(ran))
        time.sleep(poll_seconds)
