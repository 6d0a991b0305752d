"""The SMS adapters; the HTTP one against a fake provider on 127.0.0.1."""

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lien.appointments.sms import SmsError, send_sms
from tests.smtp_server import closed_port


class FakeProvider:
    """Answers every POST with `status` and `body` after `delay` seconds; keeps the requests."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b'{"id": "msg-42"}'
        self.content_type = "application/json"
        self.delay = 0.0
        self.headers: dict[str, str] = {}
        self.requests: list[dict] = []
        self.url = ""


@contextmanager
def fake_provider() -> Iterator[FakeProvider]:
    provider = FakeProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            provider.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
            )
            time.sleep(provider.delay)
            self.send_response(provider.status)
            self.send_header("Content-Type", provider.content_type)
            for name, value in provider.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(provider.body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up (timeout test)
                self.wfile.write(provider.body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval: shutdown() waits up to one interval (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/v1/sms"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def provider(settings) -> Iterator[FakeProvider]:
    with fake_provider() as fake:
        settings.SMS_BACKEND = "http"
        settings.SMS_HTTP_URL = fake.url
        settings.SMS_HTTP_TOKEN = "secret-token"
        settings.SMS_SENDER = "VILLEA"
        settings.SMS_HTTP_TIMEOUT = 2
        yield fake


def test_it_posts_json_with_the_bearer_token(provider):
    assert send_sms("+33612345678", "Rendez-vous jeudi à 14 h") == "msg-42"
    [request] = provider.requests
    assert request["path"] == "/v1/sms"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["authorization"] == "Bearer secret-token"
    assert headers["content-type"].startswith("application/json")
    assert json.loads(request["body"]) == {
        "to": "+33612345678",
        "text": "Rendez-vous jeudi à 14 h",
        "sender": "VILLEA",
    }


def test_it_accepts_a_numeric_id(provider):
    provider.body = b'{"id": 1234, "status": "queued"}'
    assert send_sms("+33612345678", "x") == "1234"


@pytest.mark.parametrize("status", [400, 401, 422])
def test_it_raises_on_a_refusal(provider, status):
    provider.status = status
    provider.body = b'{"error": "invalid number"}'
    with pytest.raises(SmsError, match=f"HTTP {status}.*invalid number"):
        send_sms("+33612345678", "x")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_it_raises_on_a_server_error(provider, status):
    provider.status = status
    provider.body = b"upstream down"
    with pytest.raises(SmsError, match=f"HTTP {status}"):
        send_sms("+33612345678", "x")


def test_it_does_not_follow_a_redirect(provider):
    provider.status = 302
    provider.headers = {"Location": "http://127.0.0.1:9/elsewhere"}
    provider.body = b""
    with pytest.raises(SmsError, match="HTTP 302"):
        send_sms("+33612345678", "x")
    assert len(provider.requests) == 1  # the token was not carried anywhere else


def test_it_raises_on_a_timeout(provider, settings):
    settings.SMS_HTTP_TIMEOUT = 0.2
    provider.delay = 1.0
    started = time.monotonic()
    with pytest.raises(SmsError, match=r"n'a pas répondu en 0\.2 s"):
        send_sms("+33612345678", "x")
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    "body",
    [b"<html>Service Unavailable</html>", b"", b'["msg-42"]', b'{"status": "ok"}', b'{"id": ""}'],
)
def test_it_raises_on_a_malformed_answer(provider, body):
    provider.body = body
    with pytest.raises(SmsError, match="Réponse du fournisseur SMS"):
        send_sms("+33612345678", "x")


def test_it_raises_when_the_provider_is_unreachable(settings):
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{closed_port()}/sms"
    with pytest.raises(SmsError, match="injoignable"):
        send_sms("+33612345678", "x")


def test_it_refuses_a_missing_or_odd_url(settings):
    settings.SMS_BACKEND = "http"
    for url in ("", "file:///etc/passwd", "ftp://example.org/"):
        settings.SMS_HTTP_URL = url
        with pytest.raises(SmsError, match="SMS_HTTP_URL"):
            send_sms("+33612345678", "x")


def test_the_file_backend_appends_json_lines(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    first = send_sms("+33612345678", "Premier : à jeudi")
    second = send_sms("+33698765432", "Second")
    lines = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert [(x["id"], x["to"], x["text"]) for x in lines] == [
        (first, "+33612345678", "Premier : à jeudi"),
        (second, "+33698765432", "Second"),
    ]
    assert first != second


def test_the_console_backend_logs(settings, caplog):
    settings.SMS_BACKEND = "console"
    with caplog.at_level(logging.INFO, logger="lien.sms"):
        message_id = send_sms("+33612345678", "Bonjour")
    assert message_id.startswith("console-")
    assert "Bonjour" in caplog.text


def test_an_unknown_backend_is_an_error(settings):
    settings.SMS_BACKEND = "carrier-pigeon"
    with pytest.raises(SmsError, match="carrier-pigeon"):
        send_sms("+33612345678", "x")
