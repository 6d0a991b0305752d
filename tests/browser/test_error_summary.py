"""After a form error the page opens on its error summary, focused, in a real browser: a
resident's booking form without JavaScript at 390 px (autofocus alone), and a staff form with
it, where a link of the summary puts the keyboard in its field; axe finds nothing serious."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import axe_violations, describe
from tests.browser.test_booking import fresh_limits  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

FOCUSED_SUMMARY = (
    "document.activeElement && document.activeElement.hasAttribute('data-error-summary')"
)


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)


def test_a_resident_without_javascript_lands_on_the_summary(fresh_limits, open_tab):  # noqa: F811
    tab = open_tab(
        viewport={"width": 390, "height": 844}, is_mobile=True, java_script_enabled=False
    )
    page = tab.page
    tab.goto(f"/villebrie/rendez-vous/{fresh_limits.pk}/")
    page.get_by_role("link", name="Club des seniors").first.click()
    page.locator("section.day").first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre nom et votre numéro")
    assert not page.evaluate(FOCUSED_SUMMARY)
    page.get_by_role("button", name="Réserver ce rendez-vous").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Votre prénom")
    assert page.evaluate(FOCUSED_SUMMARY), "the summary has the focus (autofocus, no script)"
    assert page.locator("script").count() == 0
    # Keyboard: Tab from the summary reaches its first link.
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link").first).to_be_focused()
    # (axe cannot be injected without JavaScript: tests/browser/test_booking.py runs it on
    # this same page with JavaScript on.)


def test_a_staff_form_opens_on_the_summary_and_its_links_focus_the_fields(accounts, tab):
    accounts.sign_in(tab)
    page = tab.page
    tab.goto("/equipe/villebrie/lieux/nouveau/")
    page.get_by_role("button", name="Enregistrer").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Le formulaire contient des erreurs")
    page.wait_for_load_state("load")
    assert page.evaluate(FOCUSED_SUMMARY)
    link = summary.get_by_role("link").first
    target = link.get_attribute("href")
    link.click()
    expect(page.locator(target)).to_be_focused()
    assert_accessible(page)
