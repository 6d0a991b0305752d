"""Booking on someone's behalf: the person picker, times grouped by day, the advisor choice.

Personas: reception books (and searches people), the advisor too, the coordinator sees no
person (refused), the outsider is of another structure (404).
"""

import datetime as dt
import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

from lien.appointments.models import Appointment
from lien.appointments.selectors import distinct_times, slots_for
from lien.core.templatetags.lien import long_date
from lien.journal.models import JournalEntry
from lien.schedule.models import Presence
from tests.conftest import make_beneficiary, make_member, make_place, signed_in

# Pages get French no-break spaces (before « : », in « 14 h »): read as plain spaces.
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
BOOK = "/equipe/ville-a/rendez-vous/nouveau/"
PICK = "/equipe/ville-a/personnes/chercher/"


class _Inputs(HTMLParser):
    """The values a browser would post back from a page's POST form (text inputs only)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._in_post = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_post = (a.get("method") or "").lower() == "post"
        elif (
            tag == "input"
            and self._in_post
            and a.get("name")
            and (a.get("type") or "text") in ("text", "tel", "email", "hidden")
        ):
            self.values[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_post = False


def posted_back(page: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(page)
    return {k: v for k, v in parser.values.items() if k != "csrfmiddlewaretoken"}


def second_advisor(personas):
    """Another advisor of A, present at the same place on Tuesdays 10 h–12 h."""
    other = make_member("second@a.example", personas.a, "advisor", "Dominique")
    Presence.objects.create(
        structure=personas.a,
        advisor=other,
        place=personas.place_a,
        weekday=1,
        start=dt.time(10),
        end=dt.time(12),
        valid_from=personas.presence_a.valid_from,
    )
    return other


def searches(personas, who):
    return JournalEntry.objects.filter(
        structure=personas.a, action="beneficiary.searched", actor=getattr(personas, who)
    )


# --- The picker ------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("who", ["reception", "advisor"])
def test_the_picker_finds_people_as_one_types_and_journals_the_search(personas, who):
    person = personas.beneficiary_a
    client = signed_in(getattr(personas, who))
    response = client.get(f"{PICK}?pour=rdv&qui=jos", headers={"hx-request": "true"})
    body = response.content.decode().translate(SPACES)
    assert response.status_code == 200
    assert "Josette Durand" in body and "06 12 34 56 78" in body
    assert f'name="personne" value="{person.pk}"' in body
    # Never the notes, nor the profile (the reception sees name and contact only).
    assert "NOTE-CONFIDENTIELLE-A" not in body and "1950" not in body
    entry = searches(personas, who).get()
    assert entry.data["page"] == "appointment.book" and entry.data["results"] == 1
    assert "jos" not in str(entry.data).lower()  # never the words typed


@pytest.mark.django_db
def test_the_picker_searches_nothing_under_two_letters(personas):
    body = signed_in(personas.reception).get(f"{PICK}?qui=j").content.decode().translate(SPACES)
    assert "Josette" not in body and "Aucune fiche" not in body
    assert not searches(personas, "reception").exists()


@pytest.mark.django_db
def test_the_picker_says_when_nobody_matches(personas):
    body = signed_in(personas.reception).get(f"{PICK}?qui=zzzz").content.decode().translate(SPACES)
    assert "Aucune fiche ne correspond." in body


@pytest.mark.django_db
def test_the_coordinator_gets_no_name_and_the_outsider_nothing(personas):
    for who, status in (("coordinator", 403), ("outsider", 404)):
        response = signed_in(getattr(personas, who)).get(f"{PICK}?qui=josette")
        assert response.status_code == status
        assert "Josette" not in response.content.decode().translate(SPACES)
    assert not JournalEntry.objects.filter(action="beneficiary.searched").exists()


@pytest.mark.django_db
def test_the_picker_stays_in_its_structure_and_skips_records_not_to_book(personas):
    make_beneficiary(
        personas.a, first_name="Josie", last_name="Fusion", merged_into=personas.beneficiary_a
    )
    client = signed_in(personas.reception)
    assert "Bernard" not in client.get(f"{PICK}?qui=bernard").content.decode().translate(SPACES)
    assert "Fusion" not in client.get(f"{PICK}?qui=fusion").content.decode().translate(SPACES)


@pytest.mark.django_db
def test_the_booking_page_offers_the_picker_as_you_type_and_without_javascript(personas):
    client = signed_in(personas.reception)
    page = client.get(f"{BOOK}?motif={personas.motif_a.pk}").content.decode().translate(SPACES)
    assert f'hx-get="{PICK}?pour=rdv"' in page
    assert page.index("1. La personne") < page.index("2. Motif")
    # Without JavaScript: the search form is sent to the booking page itself, which lists
    # the people found as buttons of that form, with the steps chosen so far.
    page = (
        client.get(f"{BOOK}?motif={personas.motif_a.pk}&qui=durand")
        .content.decode()
        .translate(SPACES)
    )
    form = page[page.index('role="search"') : page.index("</form>", page.index('role="search"'))]
    assert f'name="motif" value="{personas.motif_a.pk}"' in form
    assert f'name="personne" value="{personas.beneficiary_a.pk}"' in form
    assert searches(personas, "reception").get().data["page"] == "appointment.book"


@pytest.mark.django_db
def test_booking_for_a_picked_person_links_their_record_without_retyping(personas):
    person = personas.beneficiary_a
    client = signed_in(personas.reception)
    times = distinct_times(slots_for(personas.motif_a, place=personas.place_a, staff=True))
    slot = times[-1]
    when = quote(slot.start.isoformat())
    url = f"{BOOK}?motif={personas.motif_a.pk}&personne={person.pk}&debut={when}"
    page = client.get(url).content.decode().translate(SPACES)
    assert "Pour Josette Durand" in page
    values = posted_back(page)  # what the page filled in: nothing is typed
    assert values["first_name"] == "Josette" and values["phone"] == "06 12 34 56 78"
    response = client.post(url, values)
    assert response.status_code == 302
    booked = Appointment.objects.exclude(pk=personas.appointment_a.pk).get(beneficiary=person)
    assert booked.start == slot.start and booked.phone == "+33612345678"
    assert booked.channel == "staff" and booked.created_by == personas.reception


@pytest.mark.django_db
def test_choosing_another_person_keeps_the_steps_already_chosen(personas):
    person = personas.beneficiary_a
    page = (
        signed_in(personas.reception)
        .get(f"{BOOK}?motif={personas.motif_a.pk}&personne={person.pk}")
        .content.decode()
        .translate(SPACES)
    )
    assert (
        f'href="?motif={personas.motif_a.pk}&amp;lieu={personas.place_a.pk}">Changer de personne'
        in page
    )


# --- Times by day, the day picker, the advisor ---------------------------------------------
@pytest.mark.django_db
def test_free_times_are_grouped_by_day_with_a_day_picker(personas):
    client = signed_in(personas.reception)
    base = f"{BOOK}?motif={personas.motif_a.pk}"
    times = distinct_times(slots_for(personas.motif_a, place=personas.place_a, staff=True))
    days = sorted({t.start.date() for t in times})
    page = client.get(base).content.decode().translate(SPACES)
    # A heading per day (« Jeudi 10 décembre »), the first days' times under it.
    headings = re.findall(r'<h3 id="jour-\d+">([^<]+)</h3>', page)
    assert headings == [long_date(d).capitalize() for d in days[:3]]
    assert page.count('class="button secondary" href="?motif=') == sum(
        1 for t in times if t.start.date() in days[:3]
    )
    # The days with free times, with how many; a date field; the next day.
    first_count = sum(1 for t in times if t.start.date() == days[0])
    assert f"{long_date(days[0]).capitalize()}</a> — {first_count} créneaux" in page
    assert 'type="date" id="id_jour" name="jour"' in page
    assert f'jour={days[1]:%Y-%m-%d}">Jour suivant' in page
    assert "Jour précédent" not in page
    # From a day further on: its times first, the previous day offered.
    page = client.get(f"{base}&jour={days[2]:%Y-%m-%d}").content.decode().translate(SPACES)
    headings = re.findall(r'<h3 id="jour-\d+">([^<]+)</h3>', page)
    assert headings[0] == long_date(days[2]).capitalize()
    assert f'jour={days[1]:%Y-%m-%d}">← Jour précédent' in page


@pytest.mark.django_db
def test_the_advisor_choice_limits_the_times_and_books_with_them(personas):
    other = second_advisor(personas)
    client = signed_in(personas.reception)
    base = f"{BOOK}?motif={personas.motif_a.pk}"
    page = client.get(base).content.decode().translate(SPACES)
    assert '<option value="">Indifférent</option>' in page
    assert f'<option value="{other.pk}">Dominique' in page
    assert re.search(r">Mardi [^<]+</a> — ", page) and re.search(r">Jeudi [^<]+</a> — ", page)
    page = client.get(f"{base}&conseiller={other.pk}").content.decode().translate(SPACES)
    headings = re.findall(r'<h3 id="jour-\d+">([^<]+)</h3>', page)
    assert headings and all(h.startswith("Mardi") for h in headings)
    assert f'<option value="{other.pk}" selected>' in page
    # The time links carry the advisor; booking goes to them.
    link = re.search(r'href="\?([^"]*conseiller=[^"]*debut=[^"]+)"', page).group(1)
    url = f"{BOOK}?{link.replace('&amp;', '&')}"
    assert "avec Dominique" in client.get(url).content.decode().translate(SPACES)
    response = client.post(url, {"first_name": "Marcel", "phone": "06 11 22 33 44"})
    assert response.status_code == 302
    assert Appointment.objects.get(first_name="Marcel").advisor == other


@pytest.mark.django_db
def test_a_time_not_free_with_the_chosen_advisor_is_not_booked(personas):
    other = second_advisor(personas)
    thursday = next(
        s
        for s in slots_for(personas.motif_a, place=personas.place_a, staff=True)
        if s.advisor_id == personas.advisor.pk
    )
    url = (
        f"{BOOK}?motif={personas.motif_a.pk}&conseiller={other.pk}"
        f"&debut={quote(thursday.start.isoformat())}"
    )
    body = signed_in(personas.reception).post(url, {"first_name": "Marcel", "phone": "0611223344"})
    assert "Ce créneau vient d&#x27;être réservé." in body.content.decode().translate(SPACES)
    assert not Appointment.objects.filter(first_name="Marcel").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("jour=demain", 200),
        ("jour=1999-01-01", 200),
        ("jour=2099-12-31", 200),
        ("conseiller=abc", 200),
        ("conseiller=999999", 404),
        ("conseiller={reception}", 404),
        ("conseiller={outsider}", 404),
        ("personne={person_b}", 404),
        ("personne=0", 200),
        ("qui=" + "x" * 500, 200),
        ("debut=pas-une-date", 200),
    ],
)
def test_bad_input_gets_a_page_or_a_404(personas, query, status):
    query = query.format(
        reception=personas.reception.pk,
        outsider=personas.outsider.pk,
        person_b=personas.beneficiary_b.pk,
    )
    response = signed_in(personas.reception).get(f"{BOOK}?motif={personas.motif_a.pk}&{query}")
    assert response.status_code == status


@pytest.mark.django_db
def test_a_motif_offered_at_several_places_is_chosen_with_its_place_in_one_tap(personas):
    other = make_place(personas.a, "mediatheque", name="Médiathèque")
    personas.motif_a.places.add(other)
    client = signed_in(personas.reception)
    page = client.get(BOOK).content.decode().translate(SPACES)
    motif = personas.motif_a.pk
    assert f'href="?motif={motif}&amp;lieu={personas.place_a.pk}">Club des seniors</a>' in page
    assert f'href="?motif={motif}&amp;lieu={other.pk}">Médiathèque</a>' in page
    # Once chosen, the motif stands alone, with a way back to the others.
    page = client.get(f"{BOOK}?motif={motif}&lieu={other.pk}").content.decode()
    assert "changer de motif" in page and "4. Horaire" in page
    assert f'href="?motif={motif}&amp;lieu={other.pk}"' not in page
