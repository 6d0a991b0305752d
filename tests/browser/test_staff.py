"""The coordinator signs in (e-mail, password, TOTP) and changes a place's opening hours.

The seniors' club opens Monday to Friday 14:00-18:00 in the demo. The coordinator closes later
on Thursdays (18:30) and adds a Saturday morning (10:00-12:00); the staff page and the public
page then both word the new hours in French.
"""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CLUB = "Club des seniors « Les Tilleuls d'or »"
NEW_SUMMARY = (
    "du lundi au mercredi et le vendredi de 14 h à 18 h ; le jeudi de 14 h à 18 h 30 ; "
    "le samedi de 10 h à 12 h, fermé les jours fériés"
)
NEW_PUBLIC_LINES = [
    "Du lundi au mercredi et vendredi : 14 h – 18 h",
    "Jeudi : 14 h – 18 h 30",
    "Samedi : 10 h – 12 h",
    "Fermé les jours fériés",
]


def text(value: str) -> str:
    return re.sub(r"[\u00a0\u202f]", " ", value)


def staff_menu(page):
    return page.get_by_role("navigation", name="Menu de l’équipe")


def hours_rows(page) -> list[int]:
    """Indexes N of the formset rows (fields rules-N-…), from the management form."""
    total = int(page.locator("input[name=rules-TOTAL_FORMS]").input_value())
    return list(range(total))


def test_coordinator_changes_opening_hours(demo, accounts, tab):
    page = tab.page
    accounts.sign_in(tab)
    page.wait_for_url("**/equipe/villebrie/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Aujourd’hui")  # the staff home

    # Places list, then the club's hours.
    staff_menu(page).get_by_role("link", name="Lieux").click()
    page.wait_for_url("**/equipe/villebrie/lieux/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lieux")
    page.get_by_role("link", name=f"Horaires et fermetures — {CLUB}").click()
    page.wait_for_url(re.compile(r"/equipe/villebrie/lieux/\d+/horaires/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Horaires de « {CLUB} »")
    expect(page.locator("#hours-summary")).to_have_text(
        "du lundi au vendredi de 14 h à 18 h, fermé les jours fériés"
    )

    rows = hours_rows(page)
    weekdays = {n: page.locator(f"select[name=rules-{n}-weekday]").input_value() for n in rows}
    starts = {n: page.locator(f"input[name=rules-{n}-start]").input_value() for n in rows}
    thursday = next(n for n in rows if weekdays[n] == "3" and starts[n])
    empty = next(n for n in rows if not starts[n])
    assert page.locator(f"input[name=rules-{thursday}-end]").input_value() == "18:00"

    # Thursday now closes at 18:30; a new range on Saturday morning.
    page.locator(f"input[name=rules-{thursday}-end]").fill("18:30")
    page.locator(f"select[name=rules-{empty}-weekday]").select_option("5")
    page.locator(f"input[name=rules-{empty}-start]").fill("10:00")
    page.locator(f"input[name=rules-{empty}-end]").fill("12:00")
    expect(page.get_by_label("Fermé les jours fériés")).to_be_checked()
    page.get_by_role("button", name="Enregistrer les horaires").click()

    page.wait_for_url(re.compile(r"/equipe/villebrie/lieux/\d+/horaires/$"))
    expect(page.locator(".message-success")).to_have_text(f"Horaires enregistrés : {NEW_SUMMARY}.")
    expect(page.locator("#hours-summary")).to_have_text(NEW_SUMMARY)

    # The public page of the club shows the new hours.
    staff_menu(page).get_by_role("link", name="Lieux").click()
    page.get_by_role("link", name=f"voir {CLUB}").click()
    page.wait_for_url(re.compile(r"/villebrie/lieux/[\w-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(CLUB)
    lines = page.locator("h2:has-text('Horaires d’ouverture du lieu') + ul > li")
    assert [text(line) for line in lines.all_inner_texts()] == NEW_PUBLIC_LINES
    tab.assert_no_third_party_requests()


def test_wrong_totp_code_is_refused(demo, accounts, tab):
    page = tab.page
    accounts.enter_password(tab)
    accounts.enter_code(tab, accounts.wrong_totp(accounts.coordinator))

    assert "/compte/double-authentification/" in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Code de vérification")
    expect(page.locator(".errorlist")).to_contain_text("Code incorrect ou expiré")
    expect(page.get_by_label("Code à 6 chiffres")).to_have_attribute("aria-invalid", "true")

    # The staff area stays closed: back to the code page.
    response = tab.goto("/equipe/villebrie/")
    assert response.status == 200
    assert page.url.endswith("/compte/double-authentification/?next=/equipe/villebrie/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Code de vérification")
    expect(page.get_by_text("Ville de Villebrie")).to_have_count(0)
    tab.assert_no_third_party_requests()


def test_places_list_needs_sign_in(demo, tab):
    """Anonymous visitors are sent to the login form."""
    tab.goto("/equipe/villebrie/lieux/")
    assert "/compte/connexion/?next=/equipe/villebrie/lieux/" in tab.page.url
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Connexion à l’espace équipe")


def _club_hours(tab) -> None:
    from lien.places.models import Place

    pk = Place.objects.get(structure__slug="villebrie", name=CLUB).pk
    tab.goto(f"/equipe/villebrie/lieux/{pk}/horaires/")


def test_hours_ending_before_start_refused_once(demo, accounts, tab):
    """A range ending before it starts is refused with one French message (not two)."""
    accounts.sign_in(tab)
    _club_hours(tab)
    page = tab.page
    page.locator("input[name=rules-0-end]").fill("13:00")
    page.get_by_role("button", name="Enregistrer les horaires").click()
    errors = page.locator("fieldset.hours-row").first.locator(".errorlist > li")
    expect(errors.first).to_have_text("L'heure de fin doit être après l'heure de début.")
    assert errors.all_inner_texts() == ["L'heure de fin doit être après l'heure de début."]
    expect(page.locator("#hours-summary")).to_have_text(
        "du lundi au vendredi de 14 h à 18 h, fermé les jours fériés"
    )


def test_closure_ending_before_start_refused_once(demo, accounts, tab):
    """A closure ending before it starts is refused with one French message (not two)."""
    accounts.sign_in(tab)
    _club_hours(tab)
    page = tab.page
    closures = page.locator("#closures")
    closures.get_by_label("Du").fill("2027-02-10")
    closures.get_by_label("Au").fill("2027-02-05")
    closures.get_by_role("button", name="Ajouter la fermeture").click()
    errors = page.locator("#closures .errorlist li")
    expect(errors.first).to_have_text(
        "La date de fin doit être le même jour ou après la date de début."
    )
    assert errors.all_inner_texts() == [
        "La date de fin doit être le même jour ou après la date de début."
    ]
