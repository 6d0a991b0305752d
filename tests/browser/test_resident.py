"""A resident, without an account, looks for the advisor at the seniors' club.

The demo advisor comes to « Les Tilleuls d'or » every Thursday from 14 h to 17 h (except the
cancelled date of 17 December 2026). The resident starts on the town's home page and gets there
either through « Où trouver le conseiller cette semaine ? » or through the list of places, on a
desktop, on a phone, and with JavaScript disabled: the public site needs no script at all.
"""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

HOME_TITLE = "Besoin d’aide avec le numérique ?"
WEEK_LINK = "Où trouver le conseiller cette semaine ?"
PLACES_LINK = "Tous les lieux et leurs horaires"
# Anchored: « Prendre rendez-vous ici : Club des seniors… » links to the same place.
SENIORS_CLUB = re.compile(r"^Club des seniors")
THURSDAY = re.compile(r"jeudi", re.IGNORECASE)
# A visit on the place page: "Jeudi 3 décembre de 14 h à 17 h (avec Camille)".
THURSDAY_VISIT = re.compile(r"jeudi\b.*\bde 14 h à 17 h\b", re.IGNORECASE)


def text(value: str) -> str:
    """Inner text with no-break spaces turned into plain spaces."""
    return re.sub(r"[\u00a0\u202f]", " ", value)


def open_home(tab) -> None:
    page = tab.page
    response = tab.goto("/villebrie/")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(HOME_TITLE)


def via_week_page(tab) -> str:
    """Home → « Où trouver le conseiller cette semaine ? » → Thursday → the club's link.

    Returns what the Thursday section says. Should this week's Thursday be cancelled, the
    resident moves on with « Semaine suivante »."""
    page = tab.page
    page.get_by_role("link", name=WEEK_LINK).click()
    page.wait_for_url("**/villebrie/cette-semaine/")
    expect(page.get_by_role("heading", level=1)).to_have_text(WEEK_LINK)
    for _ in range(4):
        thursday = page.locator("section.day").filter(
            has=page.get_by_role("heading", level=2, name=THURSDAY)
        )
        expect(thursday).to_have_count(1)
        club = thursday.get_by_role("link", name=SENIORS_CLUB)
        if club.count():
            break
        page.get_by_role("link", name=re.compile("Semaine suivante")).click()
        page.wait_for_url(re.compile(r"/villebrie/cette-semaine/\?semaine=\d{4}-\d\d-\d\d$"))
    else:
        pytest.fail("no Thursday visit to the seniors' club in the next four weeks")
    said = text(thursday.inner_text())
    assert "14 h – 17 h" in said, said
    club.click()
    return said


def via_places_list(tab) -> None:
    """Home → « Tous les lieux et leurs horaires » → the club's card."""
    page = tab.page
    page.get_by_role("link", name=PLACES_LINK).click()
    page.wait_for_url("**/villebrie/lieux/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Les lieux où trouver de l’aide")
    page.get_by_role("link", name=SENIORS_CLUB).click()


def check_club_page(tab) -> list[str]:
    """The club's page says when the advisor is there: on Thursdays from 14 h to 17 h."""
    page = tab.page
    page.wait_for_url(re.compile(r"/villebrie/lieux/[\w-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Club des seniors")
    expect(page.get_by_role("heading", level=2, name="Quand le conseiller est là")).to_be_visible()
    visits = page.locator("h2:has-text('Quand le conseiller est là') + ul > li")
    lines = [text(line) for line in visits.all_inner_texts()]
    assert any(THURSDAY_VISIT.search(line) for line in lines), (
        f"no Thursday 14 h – 17 h visit listed on the club's page: {lines}"
    )
    # The place's own opening hours are shown too.
    hours = text(page.locator("h2:has-text('Horaires d’ouverture du lieu') + ul").inner_text())
    assert "Du lundi au vendredi : 14 h – 18 h" in hours, hours
    return lines


@pytest.mark.parametrize("route", [via_week_page, via_places_list], ids=["week", "places"])
def test_resident_finds_advisor_at_seniors_club(demo, tab, route):
    open_home(tab)
    route(tab)
    check_club_page(tab)
    tab.assert_no_third_party_requests()


def assert_fits_width(tab, width: int) -> None:
    overflow = tab.page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{tab.page.url}: content {overflow}px wide on a {width}px screen"


@pytest.mark.parametrize("route", [via_week_page, via_places_list], ids=["week", "places"])
def test_resident_on_a_phone(demo, phone_tab, route):
    page = phone_tab.page
    open_home(phone_tab)
    assert_fits_width(phone_tab, 390)
    # The call button and the main menu are reachable on a small screen.
    expect(page.locator("a.call")).to_be_visible()
    expect(page.get_by_role("navigation", name="Menu principal")).to_be_visible()
    route(phone_tab)
    check_club_page(phone_tab)
    assert_fits_width(phone_tab, 390)
    phone_tab.assert_no_third_party_requests()


@pytest.mark.parametrize("route", [via_week_page, via_places_list], ids=["week", "places"])
def test_resident_without_javascript(demo, open_tab, route):
    tab = open_tab(java_script_enabled=False)
    open_home(tab)
    route(tab)
    check_club_page(tab)
    # Back to the list and to the front page through plain links.
    tab.page.get_by_role("link", name=re.compile(r"Tous les lieux$")).click()
    tab.page.wait_for_url("**/villebrie/lieux/")
    tab.page.get_by_role("link", name="Accueil").click()
    tab.page.wait_for_url("**/villebrie/")
    tab.assert_no_third_party_requests()


def test_front_page_is_the_town_home(demo, tab):
    """`/` shows the home of settings.HOME_STRUCTURE (set to villebrie by the fixture)."""
    assert tab.goto("/").status == 200
    expect(tab.page.get_by_role("heading", level=1)).to_have_text(HOME_TITLE)
    expect(tab.page.get_by_role("link", name=WEEK_LINK)).to_be_visible()


def test_front_page_chooser_leads_to_the_town(demo, tab, settings):
    """Without HOME_STRUCTURE and with two structures, `/` lists the towns to choose from."""
    settings.HOME_STRUCTURE = ""
    assert tab.goto("/").status == 200
    page = tab.page
    expect(page.get_by_text("Choisissez votre commune :")).to_be_visible()
    expect(page.get_by_role("link", name="Numérique solidaire 77")).to_be_visible()
    page.get_by_role("link", name="Ville de Villebrie").click()
    page.wait_for_url("**/villebrie/")
    expect(page.get_by_role("link", name=WEEK_LINK)).to_be_visible()
    tab.assert_no_third_party_requests()
