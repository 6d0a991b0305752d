"""Fast entry on a phone: from the agenda to a saved report in at most 6 interactions.

The advisor, on a 390-px-wide phone, opens the agenda of yesterday, taps « Honoré » on a past
appointment, lands on the report pre-filled from it (place, duration, the motif's themes; no
record made for the person unless asked), chooses to make the person's record and their
autonomy, and saves. Every click and every field typed or chosen counts as an interaction;
navigation to the agenda counts too.
"""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lien.activities.models import Activity
from lien.appointments.models import Appointment, LocationType, Motif
from lien.core import taxonomy
from tests.browser.test_accessibility import axe_violations, describe

pytestmark = pytest.mark.browser

ADVISOR = "conseiller@villebrie.example"
MAX_INTERACTIONS = 6
PHONE_WIDTH = 390


def past_appointment(structure) -> Appointment:
    """Yesterday 07:15, before any demo appointment, at the office, not linked to anybody."""
    from lien.accounts.models import User

    advisor = User.objects.get(email=ADVISOR)
    motif = Motif.objects.of_structure(structure).get(
        title="Refaire ma carte d'identité ou mon passeport"
    )
    assert motif.location_type == LocationType.PUBLIC_OFFICE and motif.themes
    place = motif.places.first()
    day = timezone.localdate() - dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(7, 15), tzinfo=timezone.get_current_timezone())
    end = start + dt.timedelta(minutes=motif.duration)
    return Appointment.objects.create(
        structure=structure,
        motif=motif,
        advisor=advisor,
        place=place,
        location_type=motif.location_type,
        start=start,
        end=end,
        blocked_start=start,
        blocked_end=end,
        channel="staff",
        first_name="Ginette",
        last_name="Lebrun",
        phone="+33655443322",
    )


def test_an_advisor_records_an_accompaniment_from_the_agenda(demo, accounts, phone_tab):
    appointment = past_appointment(demo)
    page = phone_tab.page
    accounts.sign_in(phone_tab, ADVISOR)
    interactions = 0

    day = timezone.localdate(appointment.start)
    phone_tab.goto(f"/equipe/villebrie/rendez-vous/?jour={day:%Y-%m-%d}&vue=jour")
    interactions += 1
    page.get_by_role("button", name="Honoré : Ginette").click()
    interactions += 1
    page.wait_for_url(f"**/activites/nouveau/?rdv={appointment.pk}")

    # The report is pre-filled from the appointment.
    expect(page.get_by_label("Lequel de vos lieux")).to_have_value(str(appointment.place_id))
    expect(page.get_by_label(f"{appointment.motif.duration} min", exact=True)).to_be_checked()
    for code in taxonomy.unpack(appointment.motif.themes):
        expect(page.get_by_label(taxonomy.label("themes", code), exact=True)).to_be_checked()
    # No record is made behind the advisor's back: the report starts without one.
    expect(page.get_by_label("Sans fiche : accompagnement compté anonymement")).to_be_checked()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the report scrolls sideways at {PHONE_WIDTH} px ({width} px)"
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)

    # Ginette will come back: the advisor chooses to make her record.
    page.get_by_label("Créer une fiche pour Ginette Lebrun").check()
    interactions += 1
    page.get_by_label("Autonome", exact=True).check()
    interactions += 1
    page.get_by_role("button", name="Enregistrer").click()
    interactions += 1
    expect(page.locator(".messages")).to_contain_text("Compte rendu enregistré")
    assert interactions <= MAX_INTERACTIONS

    activity = Activity.objects.get(appointment=appointment)
    row = activity.accompaniments.get()
    appointment.refresh_from_db()
    assert appointment.status == "seen"
    assert row.beneficiary is not None and row.beneficiary == appointment.beneficiary
    assert (row.beneficiary.first_name, row.beneficiary.phone) == ("Ginette", "+33655443322")
    assert activity.place_type == "lieu_activite" and activity.place == appointment.place
    assert activity.duration == appointment.motif.duration
    assert activity.themes == appointment.motif.themes
    assert activity.autonomy == "autonome" and activity.advisor.email == ADVISOR
    # Back on the agenda, the appointment links to its report.
    # (The demo's day has other reports: this appointment's link is the one to its report.)
    expect(page.locator(f'a[href$="/activites/{activity.pk}/"]')).to_have_text(
        "Voir le compte rendu"
    )
    phone_tab.assert_no_third_party_requests()


def test_an_advisor_finds_the_person_by_searching(demo, accounts, phone_tab):
    """The person picker searches as the advisor types (htmx), never lists everybody."""
    page = phone_tab.page
    accounts.sign_in(phone_tab, ADVISOR)
    phone_tab.goto("/equipe/villebrie/activites/nouveau/")
    expect(page.get_by_label("Karim Haddad", exact=False)).to_have_count(0)
    page.get_by_label("Chercher la personne accompagnée").fill("karim")
    page.get_by_label("Karim Haddad", exact=False).check()
    page.get_by_label("E-mail", exact=True).check()
    page.get_by_label("Autonome", exact=True).check()
    violations = axe_violations(page)
    assert not violations, describe(page.url, violations)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".messages")).to_contain_text("Compte rendu enregistré")
    activity = Activity.objects.filter(structure=demo).latest("pk")
    person = activity.accompaniments.get().beneficiary
    assert (person.first_name, person.last_name) == ("Karim", "Haddad")
    assert activity.themes == "|email|"
    phone_tab.assert_no_third_party_requests()
