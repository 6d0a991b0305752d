"""The staff home « Aujourd’hui » in Chromium: one-handed on a 390-px phone, axe-clean.

The demo advisor gets two appointments of their own today, one that has started and one that
has not, with a long name and the longest motif, so the cards are as wide as they get.
"""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lien.appointments.models import Appointment, LocationType, Motif, Status
from tests.browser.test_accessibility import axe_violations, describe

pytestmark = pytest.mark.browser

ADVISOR = "conseiller@villebrie.example"
MIN_TAP = 44  # px, WCAG 2.5.5 (AAA) and the platforms' guidelines


def book_today(structure, minutes_from_now: int, first_name: str) -> Appointment:
    from lien.accounts.models import User

    motifs = Motif.objects.of_structure(structure).filter(location_type=LocationType.PUBLIC_OFFICE)
    motif = max(motifs, key=lambda m: len(m.title))
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=minutes_from_now)
    end = start + dt.timedelta(minutes=motif.duration)
    advisor = User.objects.get(email=ADVISOR)
    # The demo's day may hold an appointment of theirs then (it depends on the time the suite
    # runs): it gives way, so the two never overlap (PostgreSQL refuses that).
    Appointment.objects.holding().filter(
        advisor=advisor, blocked_start__lt=end, blocked_end__gt=start
    ).update(status=Status.REVOKED)
    return Appointment.objects.create(
        structure=structure,
        motif=motif,
        advisor=advisor,
        place=motif.places.first(),
        location_type=motif.location_type,
        start=start,
        end=end,
        blocked_start=start,
        blocked_end=end,
        channel="staff",
        first_name=first_name,
        last_name="de La Tour-d’Auvergne-Lauraguais",
        phone="+33655443322",
    )


def small_targets(page) -> list[str]:
    """The today page's tap targets smaller than MIN_TAP in either direction."""
    return page.evaluate(
        """min => [...document.querySelectorAll(
            '.today-go a, .today-buttons button, .today-buttons a, a.today-who')]
          .map(e => [e.textContent.trim(), e.getBoundingClientRect()])
          .filter(([, r]) => r.width < min || r.height < min)
          .map(([t, r]) => `${t}: ${Math.round(r.width)}×${Math.round(r.height)}`)""",
        MIN_TAP,
    )


def test_today_on_a_phone(demo, accounts, phone_tab):
    started = book_today(demo, -5, "Marie-Bernadette")
    coming = book_today(demo, 90, "Jean-Christophe")
    page = phone_tab.page
    accounts.sign_in(phone_tab, ADVISOR)
    page.wait_for_url("**/equipe/villebrie/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Aujourd’hui")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px of horizontal scrolling at 390 px"
    assert not small_targets(page)
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)

    # « Honoré » and « Absent·e » only on the appointment that has started.
    same_day = timezone.localdate(coming.start) == timezone.localdate()
    if same_day:
        expect(page.get_by_role("button", name="Honoré : Jean-Christophe")).to_have_count(0)
        page.get_by_role("button", name="Excusé·e : Jean-Christophe").click()
        page.wait_for_url("**/equipe/villebrie/")
        coming.refresh_from_db()
        assert coming.status == Status.EXCUSED
    if timezone.localdate(started.start) == timezone.localdate():
        page.get_by_role("button", name="Honoré : Marie-Bernadette").click()
        page.wait_for_url(f"**/activites/nouveau/?rdv={started.pk}")
        started.refresh_from_db()
        assert started.status == Status.SEEN
    phone_tab.assert_no_third_party_requests()


def test_today_for_the_coordinator_has_no_name(demo, accounts, phone_tab):
    book_today(demo, -5, "Marie-Bernadette")
    page = phone_tab.page
    accounts.sign_in(phone_tab)
    page.wait_for_url("**/equipe/villebrie/")
    expect(page.locator("main")).not_to_contain_text("Marie-Bernadette")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px of horizontal scrolling at 390 px"
    assert not small_targets(page)
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)
