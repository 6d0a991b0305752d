"""HTTP benchmarks against gunicorn: booking contention and public page throughput.

- Contention (PostgreSQL only): 50 concurrent clients POST bookings on 10 slots at once;
  every slot must be won exactly once, with no server error.
- Throughput: the public "choose a time" page under concurrent load, beside a static file of
  the same size served by the same gunicorn (WhiteNoise) as the baseline.
"""

import datetime as dt
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from django.db import connection
from django.utils import timezone

from bench import fixtures
from lien.accounts.models import Membership, Role, User
from lien.appointments.models import Appointment, Motif
from lien.appointments.selectors import distinct_times, slots_for
from lien.schedule.models import Presence

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 50
SLOTS = 10
LOAD_SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "8"))
LOAD_CONCURRENCY = 8
WORKERS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _setup():
    structure = fixtures.town("bench-rdv", "21779991500012")
    place = fixtures.places(structure, 1)[0]
    User.objects.filter(email="conseiller@bench-rdv.example").delete()
    advisor = User.objects.create_user("conseiller@bench-rdv.example", None, first_name="C")
    Membership.objects.create(user=advisor, structure=structure, role=Role.ADVISOR)
    today = timezone.localdate()
    for day in range(5):
        Presence.objects.create(
            structure=structure,
            advisor=advisor,
            place=place,
            weekday=day,
            start=dt.time(9),
            end=dt.time(17),
            valid_from=today,
        )
    motif = Motif.objects.create(
        structure=structure,
        title="Carte d'identité",
        duration=30,
        min_delay_hours=0,
        max_delay_days=28,
    )
    motif.places.add(place)
    return structure, place, motif


class Server:
    """gunicorn serving Lien against the benchmark database, production-like settings."""

    def __init__(self, static_root: Path):
        self.port = _free_port()
        env = {
            **os.environ,
            "DEBUG": "false",
            "SECURE": "false",
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": str(static_root),
            "RATELIMIT_ENABLE": "false",
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "SMS_BACKEND": "none",
        }
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "collectstatic", "--no-input", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        self.env = env
        self.static_root = static_root
        self.process = None

    def start(self) -> None:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [
                gunicorn,
                "lien.wsgi:application",
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(WORKERS),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=20)

    def get(self, path: str, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read(), response.getheader("Set-Cookie", "")
        finally:
            conn.close()

    def post(self, path: str, fields: dict, cookie: str):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(
                "POST",
                path,
                body=urllib.parse.urlencode(fields),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": cookie,
                    "Referer": f"http://127.0.0.1:{self.port}/",
                },
            )
            response = conn.getresponse()
            return response.status, response.read(), response.getheader("Location", "")
        finally:
            conn.close()


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def contention(server: Server, structure, place, motif) -> list[str]:
    # Ten non-overlapping times (candidates step every 15 min, appointments last 30).
    times = []
    for slot in distinct_times(slots_for(motif, place=place)):
        if not times or slot.start >= times[-1].end:
            times.append(slot)
        if len(times) == SLOTS:
            break
    base = f"/{structure.slug}/rendez-vous/{motif.pk}/{place.pk}/reserver/"
    prepared = []
    for i in range(CLIENTS):
        start = times[i % SLOTS].start.isoformat()
        status, body, cookie = server.get(f"{base}?{urllib.parse.urlencode({'debut': start})}")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        prepared.append((start, token.decode(), cookie.split(";")[0]))
    barrier = threading.Barrier(CLIENTS)
    results: list[tuple[str, int, float, bool]] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        start, token, cookie = prepared[i]
        fields = {
            "csrfmiddlewaretoken": token,
            "debut": start,
            "first_name": f"Client{i}",
            "phone": f"+3361234{i:04d}",
        }
        barrier.wait()
        began = time.perf_counter()
        try:
            status, body, _location = server.post(base, fields, cookie)
            taken = "Ce créneau vient d".encode() in body
        except OSError:
            status, taken = 599, False
        with lock:
            results.append((start, status, (time.perf_counter() - began) * 1000, taken))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = {start: 0 for start, *_ in prepared}
    for start, status, _ms, _taken in results:
        if status == 302:
            wins[start] += 1
    errors = sum(
        1 for _s, status, _ms, taken in results if status >= 500 or (status != 302 and not taken)
    )
    latencies = [ms for *_x, ms, _t in results]
    in_db = Appointment.objects.filter(motif=motif, status="unknown").count()
    return [
        f"{CLIENTS} clients on {SLOTS} slots, {WORKERS} gunicorn workers",
        f"successes per slot: {sorted(set(wins.values()))} (must be [1])",
        f"'créneau vient d'être réservé' answers: "
        f"{sum(1 for *_x, t in results if t)}; errors: {errors} (must be 0)",
        f"appointments in the database: {in_db} (must be {SLOTS})",
        f"latency p50 {statistics.median(latencies):.0f} ms, "
        f"p95 {_percentile(latencies, 0.95):.0f} ms",
    ]


def _load(server: Server, path: str) -> tuple[float, float, int]:
    stop = time.monotonic() + LOAD_SECONDS
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal failures
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        while time.monotonic() < stop:
            began = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)
                failures += response.status != 200
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(LOAD_CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / LOAD_SECONDS, _percentile(latencies, 0.95), failures


def throughput(server: Server, structure, place, motif) -> list[str]:
    page = f"/{structure.slug}/rendez-vous/{motif.pk}/{place.pk}/creneaux/"
    status, body, _cookie = server.get(page)
    assert status == 200, status
    rps, p95, failed = _load(server, page)
    base_rps, base_p95, base_failed = _load(server, "/static/bench-baseline.html")
    return [
        f"{LOAD_CONCURRENCY} keep-alive clients for {LOAD_SECONDS:.0f} s each, "
        f"{WORKERS} gunicorn workers, page {len(body)} bytes",
        f"slots page   {rps:8.0f} req/s   p95 {p95:6.1f} ms   non-200: {failed}",
        f"static file  {base_rps:8.0f} req/s   p95 {base_p95:6.1f} ms   non-200: {base_failed}"
        " (same size, WhiteNoise, baseline)",
        f"ratio static / page  {base_rps / rps:.1f}x",
    ], body


def run(timed, fmt) -> tuple[str, list[str]]:
    structure, place, motif = _setup()
    connection.close()
    static_root = Path(tempfile.mkdtemp(prefix="lien-bench-static-"))
    server = Server(static_root)
    lines: list[str] = []
    try:
        server.start()
        page = f"/{structure.slug}/rendez-vous/{motif.pk}/{place.pk}/creneaux/"
        body = server.get(page)[1]
        server.stop()
        (static_root / "bench-baseline.html").write_bytes(body)
        server.start()  # WhiteNoise indexes STATIC_ROOT at start-up
        load_lines, _ = throughput(server, structure, place, motif)
        lines += load_lines
        if connection.vendor == "postgresql":
            lines += contention(server, structure, place, motif)
        else:
            lines.append("booking contention: PostgreSQL only (run with DATABASE_URL=postgres://…)")
    finally:
        server.stop()
        shutil.rmtree(static_root, ignore_errors=True)
    return "HTTP with gunicorn: booking pages", lines
