"""The reception takes a phone call and books on the resident's behalf, in Chromium."""

import pytest
from playwright.sync_api import expect

from lien.appointments.models import Appointment
from tests.browser.test_accessibility import axe_violations, describe

pytestmark = pytest.mark.browser


def test_reception_books_on_behalf_of_a_caller(demo, accounts, tab):
    page = tab.page
    # Reception reaches no personal notes: no second factor, straight in after the password.
    tab.goto("/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill("accueil@villebrie.example")
    page.get_by_label("Mot de passe").fill(accounts.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/equipe/villebrie/")
    tab.goto("/equipe/villebrie/rendez-vous/")
    page.get_by_role("link", name="Prendre un rendez-vous pour quelqu’un").click()
    page.get_by_role("link", name="Apprendre à utiliser mon téléphone").click()
    page.get_by_role("link", name="Club des seniors « Les Tilleuls d'or »").click()
    first_time = page.locator("main ul.times").first.get_by_role("link").first
    first_time.click()
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)
    page.get_by_label("Prénom").fill("Marcel")
    page.get_by_label("Téléphone").fill("06 11 22 33 44")
    page.get_by_role("button", name="Enregistrer le rendez-vous").click()
    expect(page.locator(".messages")).to_contain_text("Rendez-vous enregistré pour Marcel")
    appointment = Appointment.objects.get(first_name="Marcel")
    assert appointment.channel == "staff" and appointment.phone == "+33611223344"
    assert appointment.place.name.startswith("Club des seniors")
    assert appointment.created_by.email == "accueil@villebrie.example"
    tab.assert_no_third_party_requests()
