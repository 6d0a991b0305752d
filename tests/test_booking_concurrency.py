"""Many residents press « Réserver ce rendez-vous » for the same time at the same moment.

Real HTTP to pytest-django's live server (a ThreadedWSGIServer: one thread per request), each
request with its own cookies and CSRF token, all released together by a barrier. Exactly one
books; every other one gets the page « Ce créneau vient d'être réservé » with other times;
none fails. On PostgreSQL the exclusion constraint decides; on SQLite the IMMEDIATE write
lock does, when each request has its own connection (see `sqlite_reason`).
"""

import datetime as dt
import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.db import connection
from django.utils import timezone

from lien.appointments.models import Appointment, Motif
from lien.appointments.selectors import distinct_times, slots_for

REQUESTS = 24
TIMEOUT = 60


def sqlite_reason() -> str:
    """Why this test cannot run on this database, or "" when it can.

    With an in-memory SQLite test database, Django's live server gives every request thread
    the *same* connection (there is no other way to see the test's data): concurrent requests
    would then interleave their transactions on one connection, which says nothing about
    production, where each thread has its own connection and IMMEDIATE transactions
    serialise writers. A file-based SQLite test database has no such sharing."""
    if connection.vendor != "sqlite":
        return ""
    if connection.is_in_memory_db():
        return (
            "in-memory SQLite: the live server shares one connection between request threads, "
            "so concurrent requests cannot be tested on it (CI runs this on PostgreSQL; a "
            "file-based SQLite test database, DATABASES TEST NAME, runs it too)"
        )
    return ""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 comes back as an HTTPError, with its Location


@dataclass
class Outcome:
    status: int
    location: str
    body: str


def fetch(opener, url: str, data: dict | None = None) -> Outcome:
    encoded = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, data=encoded, timeout=TIMEOUT) as response:
            return Outcome(response.status, "", response.read().decode())
    except urllib.error.HTTPError as error:
        return Outcome(error.code, error.headers.get("Location", ""), error.read().decode())


def plain(html: str) -> str:
    return html.replace("&#x27;", "'").replace("’", "'")


@pytest.fixture
def motif(personas) -> Motif:
    motif = Motif.objects.create(
        structure=personas.a, title="Apprendre à envoyer des photos", duration=30
    )
    motif.places.add(personas.place_a)
    return motif


@pytest.mark.django_db(transaction=True)
def test_only_one_of_many_simultaneous_bookings_wins(personas, motif, live_server, settings):
    reason = sqlite_reason()
    if reason:
        pytest.skip(reason)
    settings.RATELIMIT_ENABLE = False  # every request comes from 127.0.0.1
    # Django's test server listens with a backlog of 10 connections: more simultaneous
    # clients get reset by the kernel before Django sees them. Widen it (Linux allows calling
    # listen() again); a production server (gunicorn) has a backlog of 2048.
    live_server.thread.httpd.socket.listen(REQUESTS * 4)
    limit = timezone.now() + dt.timedelta(days=3)
    slot = next(
        s for s in distinct_times(slots_for(motif, place=personas.place_a)) if s.start >= limit
    )
    debut = timezone.localtime(slot.start).isoformat(timespec="minutes")
    url = (
        f"{live_server.url}/ville-a/rendez-vous/{motif.pk}/{personas.place_a.pk}/reserver/"
        f"?{urllib.parse.urlencode({'debut': debut})}"
    )
    barrier = threading.Barrier(REQUESTS, timeout=TIMEOUT)

    def resident(i: int) -> Outcome:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
        form = fetch(opener, url)
        assert form.status == 200, form.body[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1)
        barrier.wait()
        return fetch(
            opener,
            url,
            {
                "csrfmiddlewaretoken": token,
                "debut": debut,
                "first_name": f"Personne {i}",
                "phone": f"06980{i:05d}",  # one contact each: the per-contact cap stays out
                "email": "",
                "note": "",
                "site_web": "",
            },
        )

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        outcomes = list(pool.map(resident, range(REQUESTS)))

    statuses = sorted(o.status for o in outcomes)
    assert not [s for s in statuses if s >= 500], statuses
    won = [o for o in outcomes if o.status == 302]
    assert len(won) == 1, statuses
    assert re.fullmatch(r"/rdv/[\w-]+/", won[0].location), won[0].location
    lost = [o for o in outcomes if o.status != 302]
    assert len(lost) == REQUESTS - 1
    for outcome in lost:
        assert outcome.status == 409, (outcome.status, outcome.body[:1000])
        body = plain(outcome.body)
        assert "Ce créneau vient d'être réservé" in body
        assert 'type="radio" name="debut"' in body  # other times to pick
        assert f'value="{debut}"' not in body
    booked = Appointment.objects.active().filter(motif=motif, start=slot.start)
    assert booked.count() == 1
    assert won[0].location == f"/rdv/{booked.get().token}/"


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: concurrent transactions on separate connections (CI runs it "
    "on PostgreSQL; SQLite's IMMEDIATE transactions serialise these bookings by construction)",
)
@pytest.mark.django_db(transaction=True)
def test_one_contact_cannot_pass_the_open_booking_cap_by_booking_at_once(personas):
    """Six bookings with the same phone, at six different times, released together: cap 1."""
    from django.core.exceptions import ValidationError
    from django.db import connections

    from lien.appointments.services import appointment_book, policy_for
    from lien.core.scopes import structure_scope

    policy = policy_for(personas.a)
    policy.max_open_per_contact = 1
    policy.save()
    motif = Motif.objects.create(structure=personas.a, title="Démarches", duration=30)
    motif.places.add(personas.place_a)
    limit = timezone.now() + dt.timedelta(days=3)
    found = distinct_times(slots_for(motif, place=personas.place_a))
    times = [slot.start for slot in found if slot.start >= limit]
    assert len(times) >= 6
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def attempt(start) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            # A new thread starts with no scope: book as the public page does, in A's.
            with structure_scope(personas.a):
                appointment_book(
                    motif=motif,
                    start=start,
                    place=personas.place_a,
                    first_name="Odile",
                    phone="06 11 22 33 44",
                )
            outcomes.append("booked")
        except ValidationError:
            outcomes.append("capped")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(attempt, times[:6]))
    assert sorted(outcomes) == ["booked"] + ["capped"] * 5
    assert Appointment.objects.filter(phone="+33611223344").count() == 1
