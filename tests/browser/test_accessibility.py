"""axe-core (shipped by axe-playwright-python) on the public pages and the main staff pages.

No page may have a "serious" or "critical" violation of WCAG 2.0 / 2.1 level A or AA.
axe is injected with `page.evaluate`, which the site's strict CSP (`script-src 'self'`) does
not apply to, so the pages are tested exactly as served (no CSP bypass).
"""

import json
from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}


def axe_violations(page) -> list[dict]:
    """Serious and critical violations of the page as loaded."""
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [v for v in results["violations"] if v["impact"] in BLOCKING]


def describe(url: str, violations: list[dict]) -> str:
    lines = [f"{url}: {len(violations)} serious/critical axe violation(s)"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    {json.dumps(node['target'], ensure_ascii=False)}")
            lines.append(f"      {node['html'][:200]}")
            summary = node.get("failureSummary", "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def check(tab, path: str) -> None:
    response = tab.goto(path)
    assert response.status == 200, f"{path}: HTTP {response.status}"
    violations = axe_violations(tab.page)
    assert not violations, describe(tab.page.url, violations)


# --- Public pages ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/", "/villebrie/", "/villebrie/cette-semaine/", "/villebrie/lieux/", "/compte/connexion/"],
)
def test_public_page(demo, tab, path):
    check(tab, path)
    tab.assert_no_third_party_requests()


def test_public_page_of_another_week(demo, tab):
    """A week that is not the current one (other heading, no « Aujourd’hui »)."""
    check(tab, "/villebrie/cette-semaine/?semaine=2027-01-04")


def test_every_place_page(demo, tab):
    from lien.places.models import Place

    places = list(Place.objects.published().of_structure(demo))
    assert len(places) >= 6
    problems = []
    for place in places:
        path = f"/villebrie/lieux/{place.slug}/"
        response = tab.goto(path)
        assert response.status == 200, f"{path}: HTTP {response.status}"
        violations = axe_violations(tab.page)
        if violations:
            problems.append(describe(tab.page.url, violations))
    assert not problems, "\n\n".join(problems)
    tab.assert_no_third_party_requests()


def test_structure_chooser(demo, tab, settings):
    settings.HOME_STRUCTURE = ""
    check(tab, "/")
    expect(tab.page.get_by_text("Choisissez votre commune :")).to_be_visible()


def test_public_pages_on_a_phone(demo, phone_tab):
    for path in ["/villebrie/", "/villebrie/cette-semaine/", "/villebrie/lieux/"]:
        check(phone_tab, path)


def test_login_form_with_errors(demo, tab):
    """The login form after a failed attempt (error list, aria-invalid fields)."""
    page = tab.page
    tab.goto("/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill("coordination@villebrie.example")
    page.get_by_label("Mot de passe").fill("not-the-password")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Adresse e-mail ou mot de passe incorrect")
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)


# --- Staff pages ----------------------------------------------------------------------------
def _club_pk() -> int:
    from lien.places.models import Place

    return Place.objects.get(structure__slug="villebrie", name__startswith="Club des seniors").pk


STAFF_PAGES = {
    "dashboard": lambda: "/equipe/villebrie/",
    "places": lambda: "/equipe/villebrie/lieux/",
    "place-edit": lambda: f"/equipe/villebrie/lieux/{_club_pk()}/modifier/",
    "place-new": lambda: "/equipe/villebrie/lieux/nouveau/",
    "hours": lambda: f"/equipe/villebrie/lieux/{_club_pk()}/horaires/",
    "schedule": lambda: "/equipe/villebrie/planning/",
    "presence-new": lambda: "/equipe/villebrie/planning/nouvelle/",
    "security": lambda: "/compte/securite/",
    "agenda": lambda: "/equipe/villebrie/rendez-vous/",
    "agenda-day": lambda: "/equipe/villebrie/rendez-vous/?vue=jour",
    "motifs": lambda: "/equipe/villebrie/rendez-vous/motifs/",
    "motif-new": lambda: "/equipe/villebrie/rendez-vous/motifs/nouveau/",
    "absences": lambda: "/equipe/villebrie/rendez-vous/absences/",
    "messages": lambda: "/equipe/villebrie/rendez-vous/messages/",
    "ics-feed": lambda: "/equipe/villebrie/rendez-vous/agenda-ics/",
    # The coordinator's views of people and reports: totals, no names.
    "people-figures": lambda: "/equipe/villebrie/personnes/",
    "reports-coordinator": lambda: "/equipe/villebrie/activites/",
    "retention": lambda: "/equipe/villebrie/personnes/conservation/",
    "notice": lambda: "/equipe/villebrie/personnes/notice/",
}


def _person_pk() -> int:
    from lien.beneficiaries.models import Beneficiary

    return Beneficiary.objects.get(structure__slug="villebrie", last_name="Haddad").pk


def _report_pk() -> int:
    from lien.activities.models import Activity

    return Activity.objects.filter(structure__slug="villebrie", kind="collectif").first().pk


# Pages with personal data: the advisor's.
ADVISOR_PAGES = {
    "people": lambda: "/equipe/villebrie/personnes/?q=helene",
    "person": lambda: f"/equipe/villebrie/personnes/{_person_pk()}/",
    "person-new": lambda: "/equipe/villebrie/personnes/nouveau/",
    "person-edit": lambda: f"/equipe/villebrie/personnes/{_person_pk()}/modifier/",
    "person-merge": lambda: f"/equipe/villebrie/personnes/{_person_pk()}/fusionner/",
    "person-export": lambda: f"/equipe/villebrie/personnes/{_person_pk()}/donnees/",
    "person-erase": lambda: f"/equipe/villebrie/personnes/{_person_pk()}/effacer/",
    "people-import": lambda: "/equipe/villebrie/personnes/import/",
    "reports": lambda: "/equipe/villebrie/activites/",
    "report": lambda: f"/equipe/villebrie/activites/{_report_pk()}/",
    "report-new": lambda: "/equipe/villebrie/activites/nouveau/",
    "workshop-new": lambda: "/equipe/villebrie/activites/nouveau/?kind=collectif",
    "report-edit": lambda: f"/equipe/villebrie/activites/{_report_pk()}/modifier/",
    # Booking for someone and walk-ins: coordinators see no identity, so advisors' pages.
    "book-on-behalf": lambda: "/equipe/villebrie/rendez-vous/nouveau/",
    "walk-in": lambda: "/equipe/villebrie/rendez-vous/sans-rendez-vous/",
}


def test_two_factor_page(demo, accounts, tab):
    accounts.enter_password(tab)
    violations = axe_violations(tab.page)
    assert not violations, describe(tab.page.url, violations)
    # With the error message of a wrong code.
    accounts.enter_code(tab, accounts.wrong_totp(accounts.coordinator))
    expect(tab.page.locator(".errorlist")).to_contain_text("Code incorrect")
    violations = axe_violations(tab.page)
    assert not violations, describe(tab.page.url, violations)


@pytest.mark.parametrize("name", list(STAFF_PAGES))
def test_staff_page(demo, accounts, tab, name):
    accounts.sign_in(tab)
    check(tab, STAFF_PAGES[name]())
    tab.assert_no_third_party_requests()


@pytest.mark.parametrize("name", list(ADVISOR_PAGES))
def test_advisor_page(demo, accounts, tab, name):
    accounts.sign_in(tab, "conseiller@villebrie.example")
    check(tab, ADVISOR_PAGES[name]())
    tab.assert_no_third_party_requests()


def test_hours_form_with_errors(demo, accounts, tab):
    """The hours page after an invalid submission (end before start)."""
    accounts.sign_in(tab)
    page = tab.page
    tab.goto(STAFF_PAGES["hours"]())
    page.locator("input[name=rules-0-end]").fill("13:00")
    page.get_by_role("button", name="Enregistrer les horaires").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)


def test_presence_form_with_errors(demo, accounts, tab):
    """The new-presence form submitted empty: every error shown."""
    accounts.sign_in(tab)
    page = tab.page
    tab.goto(STAFF_PAGES["presence-new"]())
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)


# --- Form-level errors (non-field errors) -------------------------------------------------
def test_hours_form_with_overlapping_ranges(demo, accounts, tab):
    """Two overlapping ranges on Thursday: the formset's non-form errors are shown."""
    accounts.sign_in(tab)
    page = tab.page
    tab.goto(STAFF_PAGES["hours"]())
    total = int(page.locator("input[name=rules-TOTAL_FORMS]").input_value())
    empty = next(
        n for n in range(total) if not page.locator(f"input[name=rules-{n}-start]").input_value()
    )
    page.locator(f"select[name=rules-{empty}-weekday]").select_option("3")
    page.locator(f"input[name=rules-{empty}-start]").fill("15:00")
    page.locator(f"input[name=rules-{empty}-end]").fill("16:00")
    page.get_by_role("button", name="Enregistrer les horaires").click()
    expect(page.locator(".errorlist.nonfield")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)


def test_closure_form_with_error(demo, accounts, tab):
    """A closure ending before it starts (form sent by htmx, fragment swapped in)."""
    accounts.sign_in(tab)
    page = tab.page
    tab.goto(STAFF_PAGES["hours"]())
    closures = page.locator("#closures")
    closures.get_by_label("Du").fill("2027-02-10")
    closures.get_by_label("Au").fill("2027-02-05")
    closures.get_by_role("button", name="Ajouter la fermeture").click()
    expect(page.locator("#closures .errorlist")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)


def test_presence_form_with_overlap(demo, accounts, tab):
    """A presence overlapping Camille's Thursday at the seniors' club: non-field error."""
    accounts.sign_in(tab)
    page = tab.page
    tab.goto(STAFF_PAGES["presence-new"]())
    page.locator("select[name=advisor]").select_option(label="Camille Martin")
    page.locator("select[name=mode]").select_option("public_office")
    page.locator("select[name=place]").select_option(str(_club_pk()))
    page.locator("select[name=weekday]").select_option("3")
    page.locator("input[name=start]").fill("15:00")
    page.locator("input[name=end]").fill("16:00")
    page.locator("input[name=every_n_weeks]").fill("1")
    page.locator("input[name=valid_from]").fill("2026-09-03")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".errorlist.nonfield")).to_contain_text("Chevauchement")
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)
