"""Shared personas for Lien's tests.

Structure A (a town) has a coordinator, an advisor and a reception agent; structure B has
its own advisor, the outsider. Each has a place, a presence and a closure, so every URL
can be tried by every persona against objects of both structures.
"""

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from lien.accounts.models import Membership, Role, Structure, User
from lien.activities.models import Accompaniment, Activity
from lien.appointments.models import Absence, Appointment, CalendarFeed, Motif
from lien.beneficiaries.models import Beneficiary
from lien.places.models import Closure, OpeningRule, Place
from lien.schedule.models import Presence, PresenceException

PASSWORD = "correct-horse-battery-staple"
PARIS = ZoneInfo("Europe/Paris")

# CI runs the fast suite as if it were run at awkward instants (a DST change night, New Year's
# Eve in Paris, 29 February…): LIEN_TEST_NOW=2027-03-28T01:59+01:00 moves the clock there for
# the whole session, and lets it tick, so a test may cross the instant as a real run would.
_TRAVEL_TO = os.environ.get("LIEN_TEST_NOW", "").strip()


def pytest_configure(config):
    if _TRAVEL_TO:
        moment = dt.datetime.fromisoformat(_TRAVEL_TO)
        if moment.tzinfo is None:
            raise pytest.UsageError("LIEN_TEST_NOW needs an offset, e.g. 2027-03-28T01:59+01:00")
        time_machine.travel(moment, tick=True).start()


def pytest_report_header(config):
    if _TRAVEL_TO:
        return f"time travel: the suite runs as if it were {_TRAVEL_TO} (LIEN_TEST_NOW)"
    return None


@pytest.fixture(scope="session", autouse=True)
def _test_flush_may_empty_the_journal():
    """Django empties a test database after a transactional test: SQLite with DELETE, which
    the journal's trigger refuses to anyone else, PostgreSQL with TRUNCATE, which its
    statement trigger refuses unless the flush's own transaction sets `lien.journal_flush`
    (migration journal/0007). Production code does neither."""
    from django.db import connection

    from lien import journal

    if connection.vendor == "sqlite":
        from django.db.backends.sqlite3.operations import DatabaseOperations

        original = DatabaseOperations.execute_sql_flush

        def execute_sql_flush(self, sql_list):
            with journal.allow_flush():
                return original(self, sql_list)

    elif connection.vendor == "postgresql":
        from django.db.backends.postgresql.operations import DatabaseOperations

        original = DatabaseOperations.execute_sql_flush

        def execute_sql_flush(self, sql_list):
            # Run inside the transaction Django opens for the flush: the setting ends with it.
            allow = f"SELECT set_config('{journal.FLUSH_SETTING}', 'on', true)"
            return original(self, [allow, *sql_list])

    else:
        yield
        return
    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen_clock():
    """The clock stands still during the test. django-ratelimit counts in fixed windows (an
    hour, offset by the key): a test sending N requests must not see the window roll over
    between two of them, which happens at some instants (the CI date matrix hit one)."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


@pytest.fixture(autouse=True)
def _tests_see_every_structure():
    """Test code sets up and checks rows of several structures, so it runs with tenant scopes
    disabled. The code under test does not inherit that: every request starts from an empty
    scope (ScopeMiddleware), and tests/test_scopes.py checks unscoped queries raise."""
    with scopes_disabled():
        yield


def make_structure(slug: str, siret: str, **extra) -> Structure:
    return Structure.objects.create(
        name=extra.pop("name", slug.title()),
        slug=slug,
        kind="commune",
        siret=siret,
        insee_code=extra.pop("insee_code", "77284"),
        contact_phone="+33164000000",
        **extra,
    )


def make_member(email: str, structure: Structure, role: str, first_name: str = "") -> User:
    user = User.objects.create_user(email, PASSWORD, first_name=first_name or email.split("@")[0])
    Membership.objects.create(user=user, structure=structure, role=role)
    return user


def make_place(structure: Structure, slug: str, **extra) -> Place:
    place = Place.objects.create(
        structure=structure,
        slug=slug,
        name=extra.pop("name", slug.replace("-", " ").title()),
        kind=extra.pop("kind", "office"),
        address="1 rue de la Mairie",
        postcode="77000",
        city="Ville",
        **extra,
    )
    OpeningRule.objects.create(place=place, weekday=3, start=dt.time(14), end=dt.time(17))
    return place


def make_motif(structure: Structure, place: Place, **extra) -> Motif:
    motif = Motif.objects.create(
        structure=structure,
        title=extra.pop("title", "Apprendre à utiliser mon téléphone"),
        duration=extra.pop("duration", 30),
        **extra,
    )
    motif.places.add(place)
    return motif


def make_appointment(
    motif: Motif, advisor: User, place: Place, day: dt.date, start: dt.time, **extra
) -> Appointment:
    begin = dt.datetime.combine(day, start, tzinfo=PARIS)
    end = begin + dt.timedelta(minutes=motif.duration)
    return Appointment.objects.create(
        structure=motif.structure,
        motif=motif,
        advisor=advisor,
        place=place,
        location_type=motif.location_type,
        start=begin,
        end=end,
        blocked_start=begin,
        blocked_end=end,
        channel=extra.pop("channel", "staff"),
        first_name=extra.pop("first_name", "Josette"),
        last_name="Durand",
        phone=extra.pop("phone", "+33612345678"),
        **extra,
    )


def make_absence(structure: Structure, advisor: User, day: dt.date) -> Absence:
    return Absence.objects.create(
        structure=structure,
        advisor=advisor,
        start=dt.datetime.combine(day, dt.time(8), tzinfo=PARIS),
        end=dt.datetime.combine(day, dt.time(18), tzinfo=PARIS),
    )


def make_beneficiary(structure: Structure, **extra) -> Beneficiary:
    values = {
        "first_name": "Josette",
        "last_name": "Durand",
        "phone": "+33612345678",
        "birth_year": 1950,
        "gender": "feminin",
        "social_status": "retraite",
        "commune": "Villebrie",
        "commune_insee": "77284",
        **extra,
    }
    return Beneficiary.objects.create(structure=structure, **values)


def make_activity(
    structure: Structure, advisor: User, beneficiary: Beneficiary | None, place: Place, **extra
) -> Activity:
    """An individual accompaniment with its one accompaniment row (ORM only, no service)."""
    activity = Activity.objects.create(
        structure=structure,
        advisor=advisor,
        kind=extra.pop("kind", "individuel"),
        date=extra.pop("date", None) or report_day(),
        duration=extra.pop("duration", 45),
        place_type="lieu_activite",
        place=place,
        themes=extra.pop("themes", "|email|"),
        created_by=advisor,
        **extra,
    )
    Accompaniment.objects.create(
        activity=activity,
        structure=structure,
        date=activity.date,
        beneficiary=beneficiary,
        age_band=beneficiary.age_band if beneficiary else "non_communique",
        gender=beneficiary.gender if beneficiary else "non_communique",
        social_status=beneficiary.social_status if beneficiary else "non_communique",
        commune_insee=beneficiary.commune_insee if beneficiary else "",
    )
    return activity


def report_day() -> dt.date:
    """The default date of a fixture report: four weeks ago, whatever day the suite runs."""
    return timezone.localdate() - dt.timedelta(weeks=4)


def appointment_day(weeks_ahead: int = 7) -> dt.date:
    """The Thursday (presence_a's day) at least `weeks_ahead` weeks from today.

    Relative, so appointment_a stays in the future whatever day the suite runs: its private
    link answers 410 a day after it. Run on 2026-11-26, it is 2027-01-14.
    """
    day = timezone.localdate() + dt.timedelta(weeks=weeks_ahead)
    return day + dt.timedelta(days=(3 - day.weekday()) % 7)


def open_thursday(personas, weeks_ahead: int = 1) -> dt.date:
    """The first Thursday at least `weeks_ahead` weeks from today on which presence_a takes
    place: not a public holiday (11 November, Ascension…), not its cancelled date, not in its
    place's closure. "Next Thursday" alone breaks the week it is a holiday."""
    from lien.core.holidays import is_public_holiday

    today = timezone.localdate()
    day = today + dt.timedelta(days=(3 - today.weekday()) % 7 + 7 * weeks_ahead)
    closure = personas.closure_a
    while (
        is_public_holiday(day, personas.a.insee_code)
        or day == personas.exception_a.date
        or closure.start_date <= day <= closure.end_date
    ):
        day += dt.timedelta(weeks=1)
    return day


def pin_calendar(personas, since: dt.date) -> None:
    """For a test about fixed calendar dates (a week of January 2027, 11 November 2027): A's
    presence runs from `since` and the fixture's relative cancelled date and closure are
    removed, so those dates read the same whatever day the suite runs."""
    personas.presence_a.valid_from = since
    personas.presence_a.save(update_fields=["valid_from"])
    personas.exception_a.delete()
    personas.closure_a.delete()


class Personas:
    """Named people and their objects, built once per test."""

    def __init__(self):
        self.a = make_structure("ville-a", "21779990700019", name="Ville A")
        self.b = make_structure("asso-b", "77890123100010", name="Association B")
        self.coordinator = make_member("coordination@a.example", self.a, Role.COORDINATOR, "Nadia")
        self.advisor = make_member("conseiller@a.example", self.a, Role.ADVISOR, "Camille")
        self.reception = make_member("accueil@a.example", self.a, Role.RECEPTION, "Sylvie")
        self.outsider = make_member("conseiller@b.example", self.b, Role.ADVISOR, "Hugo")
        self.place_a = make_place(
            self.a, "club-seniors", name="Club des seniors", kind="seniors_club"
        )
        self.place_b = make_place(self.b, "local-b", name="Local B")
        # Every date is relative to today (the suite runs on any date, and CI runs it at
        # fixed instants too): presences began twelve weeks ago; A's presence is cancelled on
        # the Thursday after the appointments, and both places close for the fortnight after.
        day = appointment_day()
        self.presence_a = Presence.objects.create(
            structure=self.a,
            advisor=self.advisor,
            place=self.place_a,
            weekday=3,
            start=dt.time(14),
            end=dt.time(17),
            valid_from=timezone.localdate() - dt.timedelta(weeks=12),
        )
        self.presence_b = Presence.objects.create(
            structure=self.b,
            advisor=self.outsider,
            place=self.place_b,
            weekday=2,
            start=dt.time(10),
            end=dt.time(12),
            valid_from=timezone.localdate() - dt.timedelta(weeks=12),
        )
        self.exception_a = PresenceException.objects.create(
            presence=self.presence_a, date=day + dt.timedelta(weeks=1)
        )
        self.exception_b = PresenceException.objects.create(
            presence=self.presence_b, date=day + dt.timedelta(weeks=1, days=-1)
        )
        closed = (day + dt.timedelta(weeks=2) - dt.timedelta(days=1), day + dt.timedelta(weeks=3))
        self.closure_a = Closure.objects.create(
            place=self.place_a, start_date=closed[0], end_date=closed[1]
        )
        self.closure_b = Closure.objects.create(
            place=self.place_b, start_date=closed[0], end_date=closed[1]
        )
        self.motif_a = make_motif(self.a, self.place_a)
        self.motif_b = make_motif(self.b, self.place_b)
        self.appointment_a = make_appointment(
            self.motif_a, self.advisor, self.place_a, day, dt.time(14)
        )
        self.appointment_b = make_appointment(
            self.motif_b, self.outsider, self.place_b, day - dt.timedelta(days=1), dt.time(10)
        )
        # The Monday two and a half weeks after the appointments.
        self.absence_a = make_absence(self.a, self.advisor, day + dt.timedelta(days=18))
        self.absence_b = make_absence(self.b, self.outsider, day + dt.timedelta(days=18))
        self.feed_a = CalendarFeed.objects.create(structure=self.a, advisor=self.advisor)
        # People helped: notes only advisors may read; B's person is the outsider's.
        self.beneficiary_a = make_beneficiary(self.a, notes="NOTE-CONFIDENTIELLE-A")
        self.beneficiary_b = make_beneficiary(
            self.b, first_name="Bernard", last_name="Martin", phone="+33698765432"
        )
        self.appointment_a.beneficiary = self.beneficiary_a
        self.appointment_a.save(update_fields=["beneficiary"])
        self.activity_a = make_activity(
            self.a, self.advisor, self.beneficiary_a, self.place_a, notes="NOTE-CRA-A"
        )
        self.activity_b = make_activity(self.b, self.outsider, self.beneficiary_b, self.place_b)


@pytest.fixture
def personas(db) -> Personas:
    return Personas()


def signed_in(user: User | None, *, verified: bool = True) -> Client:
    """A client logged in as `user`, past the second factor when `verified`."""
    client = Client()
    if user is None:
        return client
    client.force_login(user)
    if verified:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
