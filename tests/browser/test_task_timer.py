"""Task timer: how many interactions the daily tasks take, in Chromium on the demo.

Every click or tap counts, and so does every field typed in or chosen (a search typed letter by
letter counts once). Optional fields the report pre-fills or leaves blank (the person's autonomy,
say) are left as they are: the count is what the task needs. Signing in is not counted for the
staff tasks: the aims start on the page Lien shows after sign-in. Each test prints its count
and fails above the aim; the latest counts are in docs/PERFORMANCE.md ("Task timer"). Task (a),
the resident's, is in test_booking.py (`test_a_week_ahead_in_six_taps_without_javascript`).

The clock stands at 12:15 on the next working day (Monday to Friday, not a public holiday): the
demo is loaded then, so the day has appointments that have started, whatever the time the suite
runs, and the advisor's morning presence is over (a walk-in recorded now overlaps none of their
appointments, which the walk-in service refuses). It ticks, so the pages see time pass.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

import pytest
import time_machine
from django.core.management import call_command
from playwright.sync_api import expect

from lien.activities.models import Activity
from lien.appointments.models import Appointment, Status
from lien.beneficiaries.models import Beneficiary
from lien.core.holidays import is_public_holiday
from tests.browser.conftest import DemoAccounts
from tests.browser.test_accessibility import axe_violations, describe

pytestmark = pytest.mark.browser

ADVISOR = "conseiller@villebrie.example"
RECEPTION = "accueil@villebrie.example"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
AIMS = {"b": 4, "c": 6, "d": 6}


def next_working_day_after_the_morning() -> dt.datetime:
    """12:15 in Paris on the next Monday-to-Friday that is not a public holiday (metropolitan
    France: the demo town's), from tomorrow on."""
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=1)
    while day.weekday() >= 5 or is_public_holiday(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(12, 15), tzinfo=PARIS)


@pytest.fixture
def working_morning(transactional_db, settings):
    """The demo, loaded at 12:15 on the next working day, the clock ticking from there."""
    settings.HOME_STRUCTURE = "villebrie"
    with time_machine.travel(next_working_day_after_the_morning(), tick=True):
        call_command("load_demo", quiet=True)
        from lien.accounts.models import Structure

        yield Structure.objects.get(slug="villebrie")


@pytest.fixture
def logins(working_morning) -> DemoAccounts:
    """The demo's logins (the demo is already loaded, at the working morning)."""
    return DemoAccounts()


@dataclass
class Timer:
    """Counts the interactions of one task and names each one (shown when over the aim)."""

    task: str
    steps: list[str] = field(default_factory=list)

    def tap(self, locator, what: str) -> None:
        self.steps.append(f"tap {what}")
        locator.click()

    def choose(self, locator, option: str) -> None:
        self.steps.append(f"choose « {option} »")
        locator.select_option(label=option)

    def type(self, locator, text: str, *, letter_by_letter: bool = False) -> None:
        self.steps.append(f"type « {text} »")
        if letter_by_letter:
            locator.press_sequentially(text)
            # Search as you type: the last answer in place before the next tap.
            locator.page.wait_for_timeout(400)
            locator.page.wait_for_load_state("networkidle")
        else:
            locator.fill(text)

    @property
    def count(self) -> int:
        return len(self.steps)

    def report(self, aim: int) -> None:
        print(f"\nTask ({self.task}): {self.count} interactions (aim ≤ {aim}): {self.steps}")
        assert self.count <= aim, f"task ({self.task}) took {self.count} > {aim}: {self.steps}"


def sign_in_reception(tab, password: str) -> None:
    page = tab.page
    tab.goto("/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill(RECEPTION)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/equipe/villebrie/")


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)


def test_b_sign_in_to_the_report_of_todays_first_appointment(working_morning, logins, phone_tab):
    """(b) An advisor on a phone: from the page after sign-in to the saved report of the day's
    first appointment still to mark. Aim: 4."""
    from django.utils import timezone

    page = phone_tab.page
    logins.sign_in(phone_tab, ADVISOR)
    page.wait_for_url("**/equipe/villebrie/")
    day_start = dt.datetime.combine(timezone.localdate(), dt.time(0), tzinfo=PARIS)
    first = (
        Appointment.objects.filter(
            structure=working_morning,
            status=Status.UNKNOWN,
            start__gte=day_start,
            start__lte=timezone.now(),
        )
        .order_by("start")
        .first()
    )
    assert first is not None, "the demo has no appointment of today to mark at 12:15"
    assert_accessible(page)
    timer = Timer("b")
    honour = page.get_by_role("button", name=f"Honoré : {first.first_name}").first
    timer.tap(honour, "« Honoré »")
    page.wait_for_url(f"**/activites/nouveau/?rdv={first.pk}")
    assert_accessible(page)
    timer.tap(page.get_by_role("button", name="Enregistrer"), "« Enregistrer »")
    expect(page.locator(".messages")).to_contain_text("Compte rendu enregistré")
    first.refresh_from_db()
    assert first.status == Status.SEEN
    assert Activity.objects.filter(appointment=first).exists()
    timer.report(AIMS["b"])
    phone_tab.assert_no_third_party_requests()


def test_c_walk_in_with_a_known_person_to_a_saved_report(working_morning, logins, phone_tab):
    """(c) An advisor on a phone records a walk-in for someone on record and saves its report,
    from the page after sign-in. Aim: 6."""
    person = Beneficiary.objects.get(
        structure=working_morning, first_name="Josette", last_name="Lefèvre"
    )
    page = phone_tab.page
    logins.sign_in(phone_tab, ADVISOR)
    page.wait_for_url("**/equipe/villebrie/")
    timer = Timer("c")
    timer.tap(page.get_by_role("link", name="Accueillir quelqu’un sans rendez-vous"), "walk-in")
    page.wait_for_url("**/rendez-vous/sans-rendez-vous/")
    page.wait_for_load_state("load")  # htmx listens from then on
    timer.type(
        page.get_by_label("Chercher la personne dans les fiches"), "lefè", letter_by_letter=True
    )
    timer.tap(page.get_by_role("button", name="Josette Lefèvre"), "the person")
    expect(page.locator("main")).to_contain_text("Pour Josette Lefèvre")
    assert_accessible(page)
    timer.choose(page.get_by_label("Motif"), "Apprendre à utiliser mon téléphone")
    timer.tap(
        page.get_by_role("button", name="Enregistrer et écrire le compte rendu"), "save walk-in"
    )
    page.wait_for_url("**/activites/nouveau/?rdv=*")
    assert_accessible(page)
    timer.tap(page.get_by_role("button", name="Enregistrer"), "« Enregistrer »")
    expect(page.locator(".messages")).to_contain_text("Compte rendu enregistré")
    walk_in = Appointment.objects.filter(beneficiary=person, channel="walk_in").latest("pk")
    report = Activity.objects.get(appointment=walk_in)
    assert report.accompaniments.get().beneficiary == person
    timer.report(AIMS["c"])
    phone_tab.assert_no_third_party_requests()


def test_d_reception_books_for_a_known_caller(working_morning, logins, tab):
    """(d) Reception takes a call from someone on record and books them, from the page after
    sign-in (no second factor for reception). Aim: 6."""
    person = Beneficiary.objects.get(
        structure=working_morning, first_name="Josette", last_name="Lefèvre"
    )
    page = tab.page
    sign_in_reception(tab, logins.password)
    timer = Timer("d")
    timer.tap(page.get_by_role("link", name="Prendre un rendez-vous pour quelqu’un"), "book")
    page.wait_for_url("**/rendez-vous/nouveau/")
    page.wait_for_load_state("load")  # htmx listens from then on
    timer.type(
        page.get_by_label("Chercher la personne dans les fiches"), "lefè", letter_by_letter=True
    )
    timer.tap(page.get_by_role("button", name="Josette Lefèvre"), "the person")
    expect(page.locator("main")).to_contain_text("Pour Josette Lefèvre")
    # A motif offered at several places lists them: one tap chooses both.
    motif = page.locator("ul.motifs li").filter(has_text="Apprendre à utiliser mon téléphone")
    timer.tap(
        motif.get_by_role("link", name="Club des seniors « Les Tilleuls d'or »"), "motif and place"
    )
    timer.tap(page.locator("main ul.times").first.get_by_role("link").first, "a time")
    expect(page.get_by_label("Prénom")).to_have_value("Josette")
    assert_accessible(page)
    timer.tap(page.get_by_role("button", name="Enregistrer le rendez-vous"), "save")
    expect(page.locator(".messages")).to_contain_text("Rendez-vous enregistré pour Josette")
    booked = Appointment.objects.filter(beneficiary=person, channel="staff").latest("pk")
    assert booked.phone == person.phone and booked.created_by.email == RECEPTION
    timer.report(AIMS["d"])
    tab.assert_no_third_party_requests()
