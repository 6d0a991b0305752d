"""A real `manage.py run_worker` process, stopped or killed in the middle of its messages.

The worker runs as a subprocess against the test database and sends e-mail to the local SMTP
server of tests/smtp_server.py. That server accepts the first messages, then holds the next
one unanswered: the worker is then known to be in the middle of one message, and the test
stops it there (SIGTERM) or kills it (SIGKILL).

- SIGTERM: the message in flight is finished and recorded, nothing more is claimed, the
  process exits with 0; every other message is still queued and the next run sends it once.
- SIGKILL: only the message in flight is left in `sending`; it becomes `uncertain` after
  STUCK_AFTER and is never sent again; the next run sends the others once.

On PostgreSQL the subprocess uses the test database itself (committed data: transactional
test). On SQLite the test database lives in memory, out of another process's reach: it is
copied to a file for the worker and copied back afterwards (sqlite3's backup API).
"""

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from lien.appointments import delivery
from lien.appointments.models import Message, MessageChannel, MessageState
from lien.core.models import ScheduledTask
from tests.smtp_server import local_smtp_server
from tests.test_delivery import queue_confirmations

SITE = "https://rdv.ville-a.example"
MESSAGES = 6
ACCEPTED_BEFORE_THE_STOP = 2  # then the third message is held, the worker waits on it
TIMEOUT = 120  # seconds; generous, for a loaded machine: only a hung worker reaches it
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)  # due for the worker whatever its clock

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        connection.vendor not in ("postgresql", "sqlite"),
        reason="the worker subprocess is given PostgreSQL or SQLite settings only",
    ),
    pytest.mark.django_db(transaction=True),
]


class WorkerDatabase:
    """The database a worker subprocess sees, holding the test's data."""

    def __init__(self, tmp_path: Path) -> None:
        params = connection.settings_dict
        self.file: Path | None = None
        if connection.vendor == "sqlite":
            self.file = tmp_path / "worker.sqlite3"
            self.url = f"sqlite:///{self.file}"
        else:
            user = quote(params["USER"] or "", safe="")
            password = f":{quote(params['PASSWORD'], safe='')}" if params["PASSWORD"] else ""
            host = quote(params["HOST"] or "", safe="")
            port = f":{params['PORT']}" if params["PORT"] else ""
            name = quote(params["NAME"], safe="")  # the test database, test_…
            self.url = f"postgres://{user}{password}@{host}{port}/{name}"

    def push(self) -> None:
        """Before a worker runs: make the test's data visible to it."""
        if self.file is not None:
            connection.ensure_connection()
            with closing(sqlite3.connect(self.file)) as target:
                connection.connection.backup(target)

    def pull(self) -> None:
        """After a worker ran: make what it wrote visible to the test."""
        if self.file is not None:
            connection.ensure_connection()
            with closing(sqlite3.connect(self.file)) as source:
                source.backup(connection.connection)


class Worker:
    """`manage.py run_worker …` in a subprocess, its output in a file."""

    def __init__(self, database: WorkerDatabase, smtp, log: Path, *args: str) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_URL", "EMAIL_", "LIEN_TEST_NOW"))
        }
        env.update(
            DEBUG="true",
            DATABASE_URL=database.url,
            EMAIL_HOST=smtp.host,
            EMAIL_PORT=str(smtp.port),
            EMAIL_TIMEOUT="60",
            DEFAULT_FROM_EMAIL="rendez-vous@ville-a.example",
            SITE_URL=SITE,
            SMS_BACKEND="none",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        self.log = log
        with open(log, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", *args],
                cwd=django_settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C on pytest does not reach it
            )

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace")

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited before {what}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} after {TIMEOUT} s:\n{self.output()}")
            time.sleep(0.02)

    def wait(self) -> int:
        try:
            return self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker did not exit within {TIMEOUT} s:\n{self.output()}")

    def stop(self) -> None:
        """Whatever happened in the test, leave no process behind (it holds the database)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)


@pytest.fixture
def smtp(settings):
    settings.SITE_URL = SITE  # as the worker has it: the Message-ID is made from it
    with local_smtp_server() as server:
        yield server


@pytest.fixture
def worker_db(tmp_path) -> WorkerDatabase:
    return WorkerDatabase(tmp_path)


@pytest.fixture
def start_worker(worker_db, smtp, tmp_path):
    started: list[Worker] = []

    def start(*args: str) -> Worker:
        worker_db.push()
        worker = Worker(worker_db, smtp, tmp_path / f"worker-{len(started)}.log", *args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def queue_emails(personas) -> list[Message]:
    """MESSAGES confirmation e-mails, to be sent in this order."""
    return queue_confirmations(personas, MESSAGES, MessageChannel.EMAIL, due_from=LONG_AGO)


def refreshed(messages: list[Message]) -> list[Message]:
    found = Message.objects.in_bulk([m.pk for m in messages])
    return [found[m.pk] for m in messages]


def copies(smtp, message: Message) -> int:
    """How many times the SMTP server accepted this message."""
    return len(smtp.by_message_id().get(delivery.message_id(message), []))


def run_the_next_worker(start_worker, worker_db) -> None:
    """A minute later, another worker: its delivery pass is due again."""
    ScheduledTask.objects.update(next_run_at=LONG_AGO)
    worker = start_worker("--once")
    assert worker.wait() == 0, worker.output()
    worker_db.pull()


def test_sigterm_finishes_the_message_in_flight_and_claims_nothing_more(
    personas, smtp, worker_db, start_worker
):
    messages = queue_emails(personas)
    smtp.hold(after=ACCEPTED_BEFORE_THE_STOP)
    worker = start_worker("--poll", "3600")
    worker.wait_until(
        lambda: smtp.arrivals > ACCEPTED_BEFORE_THE_STOP, "message held by the SMTP server"
    )
    worker.process.send_signal(signal.SIGTERM)  # systemctl stop, a deploy
    smtp.release()  # the held message now goes through
    assert worker.wait() == 0, worker.output()
    assert "worker stopped (SIGTERM)" in worker.output()
    worker_db.pull()

    in_flight = ACCEPTED_BEFORE_THE_STOP + 1
    states = [m.state for m in refreshed(messages)]
    assert states == ["sent"] * in_flight + ["queued"] * (MESSAGES - in_flight), worker.output()
    for message in refreshed(messages):
        assert copies(smtp, message) == (1 if message.state == MessageState.SENT else 0)
        assert message.attempts == (1 if message.state == MessageState.SENT else 0)

    run_the_next_worker(start_worker, worker_db)
    for message in refreshed(messages):
        assert message.state == MessageState.SENT and message.attempts == 1
        assert copies(smtp, message) == 1
    assert len(smtp.messages) == MESSAGES


def test_sigkill_leaves_only_the_message_in_flight_to_check(
    personas, smtp, worker_db, start_worker
):
    messages = queue_emails(personas)
    smtp.hold(after=ACCEPTED_BEFORE_THE_STOP)
    worker = start_worker("--poll", "3600")
    worker.wait_until(
        lambda: smtp.arrivals > ACCEPTED_BEFORE_THE_STOP, "message held by the SMTP server"
    )
    worker.process.kill()  # SIGKILL: out of memory, power cut, a stop that timed out
    assert worker.wait() == -signal.SIGKILL
    smtp.release()
    worker_db.pull()

    in_flight = messages[ACCEPTED_BEFORE_THE_STOP]
    states = [m.state for m in refreshed(messages)]
    expected = ["sent"] * ACCEPTED_BEFORE_THE_STOP + ["sending"]
    assert states == expected + ["queued"] * (MESSAGES - len(expected)), worker.output()

    # A minute later the claim may belong to a live worker: left alone. After STUCK_AFTER it
    # is to be checked by staff, never resent.
    claimed_at = Message.objects.get(pk=in_flight.pk).claimed_at
    assert delivery.mark_uncertain(now=claimed_at + dt.timedelta(minutes=1)) == 0
    later = claimed_at + delivery.STUCK_AFTER + dt.timedelta(seconds=1)
    assert delivery.mark_uncertain(now=later) == 1
    in_flight.refresh_from_db()
    assert in_flight.state == MessageState.UNCERTAIN and in_flight.attempts == 1
    assert in_flight.get_state_display() == "À vérifier"
    assert in_flight.error == delivery.UNCERTAIN

    run_the_next_worker(start_worker, worker_db)
    for message in refreshed(messages):
        if message.pk == in_flight.pk:
            assert message.state == MessageState.UNCERTAIN and message.attempts == 1
            assert copies(smtp, message) <= 1  # whatever the server did, never resent
        else:
            assert message.state == MessageState.SENT and message.attempts == 1
            assert copies(smtp, message) == 1


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_sleeping_worker_stops_at_once(stop, smtp, start_worker):
    worker = start_worker("--poll", "3600")
    worker.wait_until(lambda: "ran: " in worker.output(), "first pass")  # now sleeping an hour
    worker.process.send_signal(stop)
    assert worker.wait() == 0, worker.output()
    assert f"worker stopped ({stop.name})" in worker.output()
