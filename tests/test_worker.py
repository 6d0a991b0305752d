import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

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
    from lien.core import worker

    def boom():
        raise RuntimeError("disk full")

    monkeypatch.setitem(JOBS, "test.boom", worker.Job("test.boom", dt.timedelta(hours=1), boom))
    ran = run_due_jobs()
    assert "test.boom" in ran and "sessions.clear_expired" in ran
    assert "disk full" in ScheduledTask.objects.get(name="test.boom").last_error
