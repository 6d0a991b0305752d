"""The demo (`manage.py load_demo`, run by `make run`): a week to live in, around whatever
moment it is loaded, built through the services on the presences' free slots; idempotent;
its logins with a QR code per TOTP key, and why reception has none.

The clock is frozen at instants of the first day from today that is not a public holiday in
Villebrie (on a holiday nobody works: today has no appointment, by design), never at a fixed
date: early morning (nothing started today yet), midday, 23:50 and 00:05.
"""

import datetime as dt
import io
import itertools
import re
import time
from zoneinfo import ZoneInfo

import pytest
import segno
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from lien.accounts.models import Structure, User
from lien.activities.models import Activity
from lien.appointments.models import ACTIVE_STATUSES, Appointment, Channel, Status
from lien.beneficiaries.models import Beneficiary
from lien.core.holidays import is_public_holiday
from lien.core.management.commands.load_demo import (
    DEMO_KEYS,
    RECEPTION_EMAIL,
    RECEPTION_WITHOUT_SECOND_FACTOR,
)
from lien.journal import integrity
from lien.journal.models import JournalEntry
from lien.schedule.selectors import occurrences_between

PARIS = ZoneInfo("Europe/Paris")  # Villebrie's (INSEE 77999) time zone
WHY_NO_SECOND_FACTOR = (
    "ne voit que leur nom et leurs coordonnées, jamais les notes, les messages, les comptes "
    "rendus, les exports ni l"
)


def demo_day() -> dt.date:
    day = timezone.now().astimezone(PARIS).date()
    while is_public_holiday(day, "77999"):
        day += dt.timedelta(days=1)
    return day


def at(clock: str) -> dt.datetime:
    return dt.datetime.combine(demo_day(), dt.time.fromisoformat(clock), tzinfo=PARIS)


def load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS)


def assert_on_the_presences(structure: Structure) -> None:
    """Every appointment lies in one of its advisor's presences, at its place (or in a phone
    presence), and no two active ones of an advisor overlap."""
    appointments = list(Appointment.objects.filter(structure=structure).order_by("start"))
    first = min(a.start for a in appointments).astimezone(PARIS).date()
    last = max(a.start for a in appointments).astimezone(PARIS).date()
    occurrences = occurrences_between(structure, first, last)
    for a in appointments:
        assert any(
            o.advisor_id == a.advisor_id
            and o.place_id == a.place_id
            and o.start <= a.start
            and a.end <= o.end
            for o in occurrences
        ), f"{a.start:%c} {a.motif}: outside the presences"
    active = [a for a in appointments if a.status in ACTIVE_STATUSES]
    for one, other in itertools.pairwise(active):
        if one.advisor_id == other.advisor_id:
            assert one.blocked_end <= other.blocked_start, f"{one} overlaps {other}"


@pytest.mark.django_db
@pytest.mark.parametrize("clock", ["07:30", "12:30", "23:50", "00:05"])
def test_the_demo_is_a_week_to_live_in(clock):
    now = at(clock)
    start_of_today, end_of_today = day_bounds(now.date())
    with time_machine.travel(now, tick=False):
        load_demo()
        town = Structure.objects.get(slug="villebrie")
        appointments = Appointment.objects.filter(structure=town)
        today = appointments.filter(start__gte=start_of_today, start__lt=end_of_today)
        to_mark = appointments.filter(status=Status.UNKNOWN, start__lte=now)
        coming = appointments.filter(status=Status.UNKNOWN, start__gt=now)

        # Appointments to mark whatever the hour (the last working day's, today's).
        assert to_mark.count() >= 2
        assert today.exclude(channel=Channel.WALK_IN).count() >= 3
        if clock in ("12:30", "23:50"):
            assert to_mark.filter(start__gte=start_of_today).count() >= 2
        if clock == "23:50":
            assert not today.filter(start__gt=now).exists()
        if clock in ("07:30", "00:05"):
            # Nothing has started yet today: today's are still to come.
            assert not today.filter(start__lte=now).exists()
            assert today.filter(status=Status.UNKNOWN, start__gt=now).count() >= 2
        assert coming.filter(start__gte=end_of_today).count() >= 5

        # Reports written, and reports still to write; missed and excused appointments.
        reported = Activity.objects.filter(structure=town, appointment__isnull=False)
        assert reported.exclude(appointment__channel=Channel.WALK_IN).count() >= 2
        assert appointments.filter(status=Status.SEEN, activity__isnull=True).exists()
        assert appointments.filter(status=Status.NOSHOW).exists()
        assert appointments.filter(status=Status.EXCUSED).exists()
        # Walk-ins, each with its report.
        walk_ins = appointments.filter(channel=Channel.WALK_IN)
        assert walk_ins.count() >= 2
        assert not walk_ins.filter(activity__isnull=True).exists()
        assert not walk_ins.filter(start__gt=now).exists()
        # A workshop's report, on a day it was held.
        workshop = Activity.objects.get(
            structure=town, kind="collectif", place__kind="workshop_room"
        )
        assert workshop.date <= now.date() and workshop.workshop_title
        assert workshop.accompaniments.filter(beneficiary__anonymous=False).exists()
        # People on record and one-offs, booked by the desk and online.
        booked = appointments.exclude(channel=Channel.WALK_IN)
        on_record = booked.filter(beneficiary__isnull=False, beneficiary__anonymous=False)
        assert on_record.exists() and booked.filter(beneficiary__isnull=True).exists()
        assert {Channel.STAFF, Channel.ONLINE} <= set(booked.values_list("channel", flat=True))

        assert_on_the_presences(town)
        assert integrity.verify().ok
        # The second structure has its week too.
        other = Appointment.objects.filter(structure__slug="numerique-solidaire-77")
        assert other.filter(start__lt=now).exists() and other.filter(start__gt=now).exists()


@pytest.mark.django_db
def test_the_demo_holds_no_real_contact():
    with time_machine.travel(at("12:30"), tick=False):
        load_demo()
    phones = [
        *Appointment.objects.exclude(phone="").values_list("phone", flat=True),
        *Beneficiary.objects.exclude(phone="").values_list("phone", flat=True),
        *Structure.objects.values_list("contact_phone", flat=True),
    ]
    # 01 99 00 xx xx: kept by ARCEP for fiction.
    assert phones and all(p.startswith("+33199") for p in phones), phones
    emails = [
        *Appointment.objects.exclude(email="").values_list("email", flat=True),
        *Beneficiary.objects.exclude(email="").values_list("email", flat=True),
        *User.objects.values_list("email", flat=True),
    ]
    assert emails and all(e.endswith((".example", "@example.org")) for e in emails), emails


@pytest.mark.django_db
def test_the_demo_loads_once_quickly():
    with time_machine.travel(at("12:30"), tick=False):
        started = time.perf_counter()
        load_demo()
        took = time.perf_counter() - started

        def counts() -> list[int]:
            return [
                model.objects.count()
                for model in (Structure, User, Appointment, Activity, Beneficiary, JournalEntry)
            ]

        before = counts()
        again = load_demo()
    assert "Données de démonstration déjà présentes." in again
    assert counts() == before
    assert took < 15, f"load_demo took {took:.1f} s"


def modules(block: list[str]) -> list[list[int]]:
    """The rows of modules (1: dark) drawn by a QR code printed two rows a line, light
    modules as ink (for a dark terminal): █ both light, ▀ top light, ▄ bottom light."""
    rows = []
    for line in block:
        rows.append([0 if c in "█▀" else 1 for c in line])
        rows.append([0 if c in "█▄" else 1 for c in line])
    return rows


def qr_code(text: str) -> list[list[int]]:
    return [list(row) for row in segno.make_qr(text, error="m").matrix_iter(border=2)]


@pytest.mark.django_db
def test_the_logins_show_a_qr_code_per_key_and_why_reception_has_none():
    with time_machine.travel(at("12:30"), tick=False):
        out = load_demo()
    for email in DEMO_KEYS:
        link = re.search(rf"otpauth://totp/Lien%3A{re.escape(email.replace('@', '%40'))}\S+", out)
        assert link, email
        assert "issuer=Lien" in link.group(0) and "secret=" in link.group(0)
        # The QR code follows its link: lines of block characters, as wide as it is tall.
        after = out[link.end() :].splitlines()[1:]
        block = list(itertools.takewhile(lambda line: line and set(line) <= set("█▀▄ "), after))
        # Read back (light modules drawn, two rows a line), it is the link's QR code.
        assert modules(block)[: len(block) * 2 - 1] == qr_code(link.group(0))[: len(block) * 2 - 1]
    assert RECEPTION_WITHOUT_SECOND_FACTOR in out
    assert WHY_NO_SECOND_FACTOR in out
    assert "Rendez-vous passés à marquer" in out


@pytest.mark.django_db
def test_the_reception_security_page_says_why_there_is_no_second_factor():
    with time_machine.travel(at("12:30"), tick=False):
        load_demo()
        client = Client()
        client.force_login(User.objects.get(email=RECEPTION_EMAIL))
        body = client.get("/compte/securite/").content.decode()
    assert WHY_NO_SECOND_FACTOR in body.replace("’", "'")
