"""The person picker in Chromium: people found as one types (htmx), one tap to choose.

Reception books for a demo person without retyping her contact; an advisor records a walk-in
for her and lands on its report.
"""

import pytest
from playwright.sync_api import expect

from lien.appointments.models import Appointment
from lien.beneficiaries.models import Beneficiary
from tests.browser.test_accessibility import axe_violations, describe

pytestmark = pytest.mark.browser

RECEPTION = "accueil@villebrie.example"
ADVISOR = "conseiller@villebrie.example"


def test_reception_books_for_a_person_found_as_she_types(demo, accounts, tab):
    page = tab.page
    person = Beneficiary.objects.get(structure=demo, first_name="Josette", last_name="Lefèvre")
    # Reception signs in without a second factor.
    tab.goto("/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill(RECEPTION)
    page.get_by_label("Mot de passe").fill(accounts.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/equipe/villebrie/")
    tab.goto("/equipe/villebrie/rendez-vous/nouveau/")
    page.get_by_label("Chercher la personne dans les fiches").press_sequentially("lefè")
    choice = page.get_by_role("button", name="Josette Lefèvre")
    expect(choice).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)
    choice.click()
    expect(page.locator("main")).to_contain_text("Pour Josette Lefèvre")
    page.get_by_role("link", name="Apprendre à utiliser mon téléphone").click()
    page.get_by_role("link", name="Club des seniors « Les Tilleuls d'or »").click()
    page.locator("main ul.times").first.get_by_role("link").first.click()
    expect(page.get_by_label("Prénom")).to_have_value("Josette")
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)
    page.get_by_role("button", name="Enregistrer le rendez-vous").click()
    expect(page.locator(".messages")).to_contain_text("Rendez-vous enregistré pour Josette")
    booked = Appointment.objects.filter(beneficiary=person, channel="staff").latest("pk")
    assert booked.created_by.email == RECEPTION
    assert booked.phone == person.phone
    tab.assert_no_third_party_requests()


def test_an_advisor_records_a_walk_in_for_a_known_person_and_writes_its_report(demo, accounts, tab):
    page = tab.page
    person = Beneficiary.objects.get(structure=demo, first_name="Josette", last_name="Lefèvre")
    accounts.sign_in(tab, ADVISOR)
    tab.goto("/equipe/villebrie/rendez-vous/sans-rendez-vous/")
    page.get_by_label("Chercher la personne dans les fiches").press_sequentially("josette")
    page.get_by_role("button", name="Josette Lefèvre").click()
    expect(page.locator("main")).to_contain_text("Pour Josette Lefèvre")
    page.get_by_label("Motif").select_option(index=1)
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)
    page.get_by_role("button", name="Enregistrer et écrire le compte rendu").click()
    page.wait_for_url("**/activites/nouveau/?rdv=*")
    walk_in = Appointment.objects.filter(channel="walk_in", beneficiary=person).latest("pk")
    assert page.url.endswith(f"?rdv={walk_in.pk}")
    tab.assert_no_third_party_requests()
