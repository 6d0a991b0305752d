"""A real SMTP server on 127.0.0.1 for tests: Django sends through its SMTP backend to it.

from tests.smtp_server import local_smtp_server

@pytest.fixture
def smtp(settings):
    with local_smtp_server() as server:
        server.use_in(settings)
        yield server

def test_it_sends(smtp):
    ...
    [mail] = smtp.messages  # email.message.EmailMessage objects
"""

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (connections are refused)."""
    return free_port()


class SmtpServer:
    """Collects every message it accepts, with its envelope."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = 0
        self.delay = 0.0  # seconds before answering DATA: a slow server, to interleave workers
        self.arrivals = 0  # messages whose DATA arrived, accepted or not (yet)
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._hold_after: int | None = None
        self._released = threading.Event()

    def hold(self, *, after: int) -> None:
        """Accept `after` messages, then keep every later one waiting for `release()`.

        A sender is then known to be in the middle of one message: to stop or kill it there.
        """
        self._released.clear()
        self._hold_after = after

    def release(self) -> None:
        """Answer the held messages (and the next ones) without waiting."""
        self._released.set()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self.arrivals += 1
            number = self.arrivals
        if self._hold_after is not None and number > self._hold_after:
            while not self._released.is_set():
                await asyncio.sleep(0.01)
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        with self._lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def use_in(self, settings) -> None:
        """Point Django at this server (pytest-django `settings` fixture)."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = self.host
        settings.EMAIL_PORT = self.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5

    def by_message_id(self) -> dict[str, list[EmailMessage]]:
        found: dict[str, list[EmailMessage]] = {}
        with self._lock:
            for message in self.messages:
                found.setdefault(str(message["Message-ID"]), []).append(message)
        return found

    def clear(self) -> None:
        with self._lock:
            self.arrivals = 0
            self.messages.clear()
            self.envelopes.clear()


@contextmanager
def local_smtp_server() -> Iterator[SmtpServer]:
    """Start an SMTP server on a free local port; stop it on exit."""
    server = SmtpServer()
    server.port = free_port()
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        server.release()
        controller.stop()
