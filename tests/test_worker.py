import datetime as dt
import threading
import time

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from lien.core import worker
from lien.core.models import ScheduledTask
from lien.core.worker import JOBS, run_due_jobs


@pytest.mark.django_db
def test_due_jobs_run_once_per_period():
    now = timezone.now()
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=now - dt.timedelta(1))
    assert set(run_due_jobs(now)) == set(JOBS)
    assert not Session.objects.filter(session_key="x" * 32).exists()
    # Only the jobs due every few seconds (pending imports) run again half a minute later.
    frequent = {name for name, job in JOBS.items() if job.every <= dt.timedelta(seconds=30)}
    assert frequent == {"beneficiaries.imports"}
    assert set(run_due_jobs(now + dt.timedelta(seconds=30))) == frequent
    assert "sessions.clear_expired" not in run_due_jobs(now + dt.timedelta(hours=2))
    task = ScheduledTask.objects.get(name="sessions.clear_expired")
    assert task.last_error == "" and task.next_run_at == now + dt.timedelta(days=1)


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_does_not_stop_others(monkeypatch):
    def boom():
        raise RuntimeError("disk full")

    monkeypatch.setitem(JOBS, "test.boom", worker.Job("test.boom", dt.timedelta(hours=1), boom))
    ran = run_due_jobs()
    assert "test.boom" in ran and "sessions.clear_expired" in ran
    assert "disk full" in ScheduledTask.objects.get(name="test.boom").last_error


@pytest.fixture
def stop_flag():
    """The worker's stop flag is process-wide: lower it again after the test."""
    worker.clear_stop()
    yield
    worker.clear_stop()


@pytest.mark.django_db
def test_a_stop_request_leaves_the_next_jobs_due(monkeypatch, stop_flag):
    calls = []

    def first():
        calls.append("first")
        worker.request_stop()  # SIGTERM while this job runs

    def second():
        calls.append("second")

    hour = dt.timedelta(hours=1)
    monkeypatch.setattr(
        worker,
        "JOBS",
        {
            "test.first": worker.Job("test.first", hour, first),
            "test.second": worker.Job("test.second", hour, second),
        },
    )
    now = timezone.now()
    assert run_due_jobs(now) == ["test.first"]
    assert calls == ["first"]
    assert ScheduledTask.objects.get(name="test.first").last_run_at == now  # recorded
    assert ScheduledTask.objects.get(name="test.second").next_run_at <= now  # still due
    worker.clear_stop()
    assert run_due_jobs(now) == ["test.second"]


@pytest.mark.django_db
def test_a_stopped_worker_exits_its_loop_without_another_pass(monkeypatch, stop_flag):
    passes = []

    def one_pass(now=None):
        passes.append(now)
        worker.request_stop()
        return []

    monkeypatch.setattr(worker, "run_due_jobs", one_pass)
    worker.run_forever(poll_seconds=3600)  # would sleep an hour if the stop were not seen
    assert len(passes) == 1


def test_the_sleep_between_passes_wakes_up_on_a_stop_request(stop_flag):
    timer = threading.Timer(0.1, worker.request_stop)
    timer.start()
    started = time.monotonic()
    worker.sleep_unless_stopped(600)
    timer.join()
    assert time.monotonic() - started < 60  # generous: the point is not to sleep 600 s
