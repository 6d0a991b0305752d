"""A resident books an appointment on a phone, then cancels it from the confirmation e-mail.

Demo data: « Apprendre à utiliser mon téléphone » is offered at three places of Villebrie,
among them the seniors' club (Camille, every Thursday 14 h – 17 h). Four screens: what, where,
when, who; then the private page `/rdv/<token>/`. axe runs on each screen (no serious or
critical WCAG A/AA violation), and the same journey is made with JavaScript turned off.
"""

import re
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_accessibility import axe_violations, describe

pytestmark = pytest.mark.browser

MOTIF = "Apprendre à utiliser mon téléphone"
CLUB = re.compile(r"Club des seniors")
BRING = "Votre téléphone chargé et son code."


def plain(value: str) -> str:
    """Inner text with no-break spaces and typographic apostrophes made plain."""
    return re.sub(r"[\u00a0\u202f]", " ", value).replace("’", "'")


def assert_accessible(tab) -> None:
    violations = axe_violations(tab.page)
    assert not violations, describe(tab.page.url, violations)


def assert_no_script(tab) -> None:
    assert tab.page.locator("script").count() == 0, f"<script> on {tab.page.url}"


def assert_only_the_print_script(tab) -> None:
    """The private page loads one script: its print button's (the CSP forbids inline ones)."""
    scripts = tab.page.locator("script")
    assert scripts.count() == 1, f"{scripts.count()} <script> on {tab.page.url}"
    assert scripts.first.get_attribute("src").endswith("/static/js/print.js")


@pytest.fixture
def fresh_limits(demo):
    """The demo's motif (created here when the demo data does not have it yet), and no
    rate-limit count: the counters live in the database cache, which a transactional test's
    flush does not empty."""
    from lien.appointments.models import Motif
    from lien.places.models import Place

    motif, _created = Motif.objects.get_or_create(
        structure=demo,
        title=MOTIF,
        defaults={
            "description": "Appels, photos, messages, applications : à votre rythme.",
            "duration": 30,
            "what_to_bring": BRING,
        },
    )
    places = Place.objects.of_structure(demo).filter(
        name__regex=r"^(Club des seniors|Bureau du conseiller|Espace jeunes)"
    )
    motif.places.add(*places)
    cache.clear()
    yield motif
    cache.clear()


def book_through_the_four_screens(tab, *, email: str = "", check=assert_accessible) -> str:
    """From the booking page to the confirmation; returns the chosen time's label."""
    page = tab.page
    response = tab.goto("/villebrie/rendez-vous/")
    assert response.status == 200
    # 1. What
    expect(page.get_by_role("heading", level=1)).to_have_text("De quoi avez-vous besoin ?")
    expect(page.get_by_text("Vous préférez appeler ?")).to_be_visible()
    expect(page.get_by_role("link", name="01 99 00 00 00").first).to_be_visible()
    assert_no_script(tab)
    check(tab)
    page.get_by_role("link", name=MOTIF).click()
    # 2. Where
    expect(page.get_by_role("heading", level=1)).to_have_text("Où ?")
    assert_no_script(tab)
    check(tab)
    page.get_by_role("link", name=CLUB).click()
    # 3. When
    expect(page.get_by_role("heading", level=1)).to_have_text("Quel jour, à quelle heure ?")
    assert_no_script(tab)
    check(tab)
    first_day = page.locator("section.day").first
    day = plain(first_day.get_by_role("heading", level=2).inner_text())
    time = first_day.get_by_role("link").first
    # Seen: « 14 h »; heard: « Jeudi 3 décembre, 14 h » (the day is visually hidden).
    said = plain(time.text_content()).strip()
    assert said.startswith(f"{day}, "), said
    label = re.search(r"\d{1,2} h( \d\d)?$", said).group(0)
    assert plain(time.locator(".visually-hidden").text_content()).strip() == f"{day},"
    time.click()
    # 4. Who
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre nom et votre numéro")
    summary = plain(page.locator("section.summary").inner_text())
    assert f"{day} à {label}" in summary, summary
    assert_no_script(tab)
    check(tab)
    # Sent empty first: the errors are announced and accessible too.
    page.get_by_role("button", name="Réserver ce rendez-vous").click()
    expect(page.get_by_role("alert")).to_contain_text("Indiquez un numéro de téléphone")
    expect(page.locator("#id_first_name")).to_have_attribute("aria-invalid", "true")
    check(tab)
    page.get_by_label("Votre prénom").fill("Josiane")
    page.get_by_label("Votre nom (facultatif)").fill("Morel")
    if email:
        page.get_by_label("Votre adresse e-mail").fill(email)
    else:
        page.get_by_label("Votre numéro de téléphone").fill("06 98 76 54 32")
    page.get_by_label("Un mot pour le conseiller (facultatif)").fill("Je suis un peu sourde.")
    page.get_by_role("button", name="Réserver ce rendez-vous").click()
    # Confirmation: the resident's private page.
    page.wait_for_url(re.compile(r"/rdv/[\w-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre rendez-vous")
    expect(page.get_by_role("status")).to_contain_text("C’est réservé")
    body = plain(page.locator("main").inner_text())
    assert MOTIF in body and BRING in body and "Avec Camille" in body
    assert "15 place de la Mairie" in body
    assert "Gardez cette page" in body
    assert_only_the_print_script(tab)
    check(tab)
    return f"{day} à {label}"


def test_a_resident_books_on_a_phone(fresh_limits, phone_tab):
    from lien.appointments.models import Appointment

    book_through_the_four_screens(phone_tab)
    # With JavaScript, the print button shows.
    expect(phone_tab.page.get_by_role("button", name="Imprimer cette page")).to_be_visible()
    appointment = Appointment.objects.get(first_name="Josiane")
    assert appointment.channel == "online" and appointment.phone == "+33698765432"
    assert phone_tab.page.url.endswith(f"/rdv/{appointment.token}/")
    # Nothing overflows the 390 px screen.
    page = phone_tab.page
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width} px wide on a 390 px phone"
    # Change the time from the private page: list, confirmation, done.
    page.get_by_role("link", name="Changer l’horaire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Changer l’horaire")
    assert_accessible(phone_tab)
    page.locator("section.day").last.get_by_role("link").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Changer l’horaire ?")
    assert_accessible(phone_tab)
    page.get_by_role("button", name="Oui, changer pour cet horaire").click()
    expect(page.get_by_role("status")).to_contain_text("votre rendez-vous a changé d’horaire")
    assert_accessible(phone_tab)
    moved = Appointment.objects.get(pk=appointment.pk)
    assert moved.start > appointment.start and moved.status == "unknown"
    phone_tab.assert_no_third_party_requests()


def test_booking_works_without_javascript(fresh_limits, open_tab):
    from tests.browser.conftest import PHONE

    tab = open_tab(viewport=PHONE, is_mobile=True, java_script_enabled=False)
    book_through_the_four_screens(tab, check=lambda tab: None)
    # Without JavaScript, no print button that would do nothing.
    expect(tab.page.get_by_role("button", name="Imprimer cette page")).to_be_hidden()
    tab.assert_no_third_party_requests()


def test_a_week_ahead_in_six_taps_without_javascript(fresh_limits, open_tab):
    """Task timer (a): from the town's home page to a confirmed booking on a day at least a
    week away, at 390 px without JavaScript. Typing in the fields is not counted; every click
    (a tap on a phone) is. Aim: 6 (home → Prendre rendez-vous → motif → place → day → time →
    Réserver)."""
    import datetime as dt

    from lien.appointments.models import Appointment
    from tests.browser.conftest import PHONE

    tab = open_tab(viewport=PHONE, is_mobile=True, java_script_enabled=False)
    page = tab.page
    taps = 0

    def tap(locator) -> None:
        nonlocal taps
        taps += 1
        locator.click()

    tab.goto("/villebrie/")
    tap(page.get_by_role("link", name="Prendre rendez-vous", exact=True))
    tap(page.get_by_role("link", name=MOTIF))
    if plain(page.get_by_role("heading", level=1).inner_text()) == "Où ?":
        tap(page.get_by_role("link", name=CLUB))
    week_away = timezone.localdate() + dt.timedelta(days=7)
    days = page.locator(".day-list a")
    target = next(
        day
        for day in (days.nth(i).get_attribute("href")[len("?jour=") :] for i in range(days.count()))
        if dt.date.fromisoformat(day) >= week_away
    )
    tap(page.locator(f'.day-list a[href="?jour={target}"]'))
    expect(page.get_by_role("heading", level=1)).to_have_text("Quel jour, à quelle heure ?")
    tap(page.locator("section.day").first.get_by_role("link").first)
    page.get_by_label("Votre prénom").fill("Josiane")
    page.get_by_label("Votre numéro de téléphone").fill("06 98 76 54 32")
    tap(page.get_by_role("button", name="Réserver ce rendez-vous"))
    page.wait_for_url(re.compile(r"/rdv/[\w-]+/$"))
    expect(page.get_by_role("status")).to_contain_text("C’est réservé")
    booked = Appointment.objects.get(first_name="Josiane")
    assert timezone.localtime(booked.start).date().isoformat() == target
    print(f"\nTask (a) resident, 390 px, no JavaScript, a week ahead: {taps} taps")
    assert taps <= 6, taps
    tab.assert_no_third_party_requests()


def test_cancel_from_the_confirmation_email(fresh_limits, phone_tab, settings):
    from lien.appointments.delivery import send_due_messages
    from lien.appointments.models import Appointment, Status
    from tests.smtp_server import local_smtp_server

    with local_smtp_server() as smtp:
        smtp.use_in(settings)
        book_through_the_four_screens(phone_tab, email="josiane.morel@example.fr")
        appointment = Appointment.objects.get(first_name="Josiane")
        stats = send_due_messages()
        assert stats.sent >= 1, stats
        mails = [m for m in smtp.messages if "josiane.morel@example.fr" in str(m["To"])]
    assert len(mails) == 1, [str(m["Subject"]) for m in smtp.messages]
    [mail] = mails
    assert "confirmé" in str(mail["Subject"])
    text = mail.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"https?://\S+?(/rdv/[\w-]+/)", text)
    assert links == [f"/rdv/{appointment.token}/"], text

    page = phone_tab.page
    phone_tab.goto(links[0])
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre rendez-vous")
    page.get_by_role("link", name="Annuler ce rendez-vous").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuler ce rendez-vous ?")
    assert_accessible(phone_tab)
    page.get_by_role("button", name="Oui, annuler ce rendez-vous").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce rendez-vous est annulé")
    expect(page.get_by_text("L’horaire est de nouveau libre")).to_be_visible()
    assert_accessible(phone_tab)
    appointment.refresh_from_db()
    assert appointment.status == Status.EXCUSED

    # The time is offered again at once, on the times screen.
    page.get_by_role("link", name="Prendre un nouveau rendez-vous").click()
    page.get_by_role("link", name=MOTIF).click()
    page.get_by_role("link", name=CLUB).click()
    debut = quote(timezone.localtime(appointment.start).isoformat(timespec="minutes"), safe="")
    expect(page.locator(f'a[href$="debut={debut}"]')).to_have_count(1)
    phone_tab.assert_no_third_party_requests()


def test_days_and_place_pages_are_accessible_on_a_phone(fresh_limits, phone_tab):
    """The list of days, a day's times, « Prendre rendez-vous ici » and the motifs of one
    place, and the workshop « sur inscription » with its number: axe clean at 390 px."""
    from lien.places.models import Place

    page = phone_tab.page
    club = Place.objects.get(structure=fresh_limits.structure, name__startswith="Club des seniors")
    phone_tab.goto(f"/villebrie/rendez-vous/{fresh_limits.pk}/{club.pk}/creneaux/")
    assert_no_script(phone_tab)
    assert_accessible(phone_tab)
    page.locator(".day-list a").nth(1).click()
    expect(page.locator('.day-list a[aria-current="page"]')).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone_tab)
    phone_tab.goto(f"/villebrie/lieux/{club.slug}/")
    page.get_by_role("link", name="Prendre rendez-vous ici").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("De quoi avez-vous besoin ?")
    assert_accessible(phone_tab)
    phone_tab.goto("/villebrie/lieux/salle-des-ateliers/")
    expect(page.get_by_text("Inscription par téléphone au").first).to_be_visible()
    assert_accessible(phone_tab)
    phone_tab.assert_no_third_party_requests()
