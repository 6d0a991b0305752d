"""The background worker: periodic jobs kept in the database, no broker needed.

Each job is a plain function registered with `@periodic(name, every=...)`. A worker pass
claims each due job with SELECT … FOR UPDATE SKIP LOCKED in a short committed transaction, so
two workers never run the same job at the same time, runs it outside any transaction, then
records its outcome.

Stopping (`manage.py run_worker` under systemd, a deploy, Ctrl-C): SIGTERM and SIGINT only set
a flag. The worker looks at it between jobs and while it sleeps between passes (at least every
STOP_CHECK seconds), and a job that works through a queue looks at it between two units of
work (`stop_requested()`; message delivery does, between two messages). So the unit in
progress is finished and recorded, nothing more is started, and the process exits with status
0. A job not yet started stays due for the next worker. A second SIGINT raises
KeyboardInterrupt at once: a message being sent is then left in doubt, as with SIGKILL.
"""

import datetime as dt
import logging
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from django.core import management
from django.db import transaction
from django.utils import timezone

from lien.core.models import ScheduledTask
from lien.core.scopes import scopes_disabled

log = logging.getLogger("lien.worker")

STOP_CHECK = 0.2  # seconds: how often a sleeping worker looks whether it was asked to stop

# Set by a signal handler, hence a plain value: nothing that takes a lock (no Event, no
# logging) may run inside the handler, it would interrupt the main thread anywhere.
_stop_signal: int | None = None


def request_stop(signum: int = signal.SIGTERM) -> None:
    """Ask the worker to stop after the unit of work in progress."""
    global _stop_signal
    _stop_signal = signum


def stop_requested() -> bool:
    """True once the worker was asked to stop: start nothing new, finish what is in progress."""
    return _stop_signal is not None


def clear_stop() -> None:
    global _stop_signal
    _stop_signal = None


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGINT and stop_requested():
        raise KeyboardInterrupt  # Ctrl-C twice: the person at the terminal will not wait
    request_stop(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT ask for a graceful stop while in this block (main thread only)."""
    clear_stop()
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
    any transaction (jobs manage their own, e.g. message delivery commits each claim before
    sending), and its outcome is recorded afterwards. Once a stop is requested, no further job
    is claimed: the rest stay due.
    """
    now = now or timezone.now()
    for job in JOBS.values():
        ScheduledTask.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    ran: list[str] = []
    for name, job in JOBS.items():
        if stop_requested():
            break
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
            # Jobs work across structures (every due message, every structure's retention):
            # they say so explicitly (core/scopes.py).
            with scopes_disabled():
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
    """Pass after pass until a stop is requested (see `stop_on_signals`), then return."""
    log.info("worker started with jobs: %s", ", ".join(JOBS))
    while not stop_requested():
        ran = run_due_jobs()
        if ran:
            log.info("ran: %s", ", ".join(ran))
        sleep_unless_stopped(poll_seconds)
    log.info("worker stopped (%s)", _stop_name())


def sleep_unless_stopped(seconds: float) -> None:
    """Sleep `seconds`, waking up within STOP_CHECK seconds of a stop request.

    time.sleep() alone would not do: Python resumes it after a signal handler that returns.
    """
    deadline = time.monotonic() + seconds
    while not stop_requested():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, STOP_CHECK))


def _stop_name() -> str:
    if _stop_signal is None:
        return "not requested"
    try:
        return signal.Signals(_stop_signal).name
    except ValueError:
        return str(_stop_signal)
