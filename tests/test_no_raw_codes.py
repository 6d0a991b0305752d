"""No staff page of the demo shows a raw code: words, not `appointment.booked` or `telephone`.

Each staff member of the demo town signs in and crawls their staff pages (tests/crawler.py):
every link, htmx URL and GET form under `/equipe/<slug>/`. The visible text of each page (the
text between tags, not attributes, scripts, styles or <code>) must hold no snake_case code
(`status_changed`, `aide_aux_demarches_administratives`) and no dotted code
(`appointment.booked`), URLs, e-mail addresses and file names aside.

Written against whatever the demo holds (lien/core/management/commands/load_demo.py): the
richer the demo, the more pages and values it checks.
"""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.utils import timezone

from lien.accounts.models import Membership, Structure
from lien.appointments.models import Motif, Status
from lien.appointments.services import appointment_set_status
from lien.core import taxonomy
from lien.core.management.commands.load_demo import TOWN_SLUG
from lien.core.text import fold
from lien.journal import record
from lien.places.models import Place
from tests.conftest import make_activity, make_appointment, make_beneficiary, signed_in
from tests.crawler import Crawler, Visit

LIMIT = 400  # requests per staff member: a cap, not a proof (a full crawl is test_crawler's)
MIN_PAGES = 10  # a crawl that reads fewer pages than this has been refused somewhere

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
DOTTED = re.compile(r"\b[a-z]+(?:\.[a-z_]+)+\b")
# Taken out of the text before looking: URLs, e-mail addresses, host names.
ADDRESSES = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+"  # https://…, www.…
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # someone@example.org
    re.IGNORECASE,
)
# A dotted word ending so is a file name or a domain, not a code.
NOT_CODES = {
    # files
    "csv", "ics", "ods", "xlsx", "xls", "pdf", "txt", "json", "svg", "png", "jpg", "jpeg",
    "webp", "html", "zip", "odt", "docx",
    # domains
    "fr", "org", "com", "net", "eu", "gouv", "example", "re", "gp", "mq", "gf", "yt", "pm",
    "nc", "pf", "wf", "io", "info",
}  # fmt: skip
# One-word codes of the national vocabularies that are their label without its accents
# (« telephone » for « Téléphone »): a word no French text spells so, bar those listed.
FRENCH_WORDS = {"retraite", "avance"}


def unaccented_codes() -> set[str]:
    vocabularies = (
        taxonomy.ACTIVITY_TYPES,
        taxonomy.THEMES,
        taxonomy.PROCEDURE_THEMES,
        taxonomy.PLACE_TYPES,
        taxonomy.MATERIALS,
        taxonomy.AUTONOMY,
        taxonomy.WORKSHOP_LEVELS,
        taxonomy.REFERRALS,
        taxonomy.GENDERS,
        taxonomy.AGE_BANDS,
        taxonomy.SOCIAL_STATUSES,
    )
    found = {
        code
        for choices in vocabularies
        for code, label in choices
        if "_" not in code and fold(label) == code and label.lower() != code
    }
    return found - FRENCH_WORDS


UNACCENTED = re.compile(r"\b(?:" + "|".join(sorted(unaccented_codes())) + r")\b")


# Elements whose text is not prose read by a person, or shows code on purpose.
SKIPPED = {"script", "style", "code", "kbd", "samp", "pre", "template"}


class VisibleText(HTMLParser):
    """The text nodes of a page, outside SKIPPED elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in SKIPPED:
            self._skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.texts.append(data.strip())


def raw_codes(text: str) -> list[str]:
    """The code-like words of one visible text."""
    text = ADDRESSES.sub(" ", text)
    found = SNAKE.findall(text)
    found += [w for w in DOTTED.findall(text) if w.rsplit(".", 1)[-1] not in NOT_CODES]
    found += UNACCENTED.findall(text)
    return found


def test_raw_codes_are_found_and_words_are_not():
    assert raw_codes("Historique : appointment.booked — Nadia") == ["appointment.booked"]
    assert raw_codes("Matériel : ordinateur, telephone_portable") == ["telephone_portable"]
    assert raw_codes("Statut : status_changed") == ["status_changed"]
    assert raw_codes("Matériel : ordinateur, telephone") == ["telephone"]
    assert "telephone" in unaccented_codes() and "sante" in unaccented_codes()
    for fine in (
        "Rendez-vous pris le 03/12/2026 à 14 h.",
        "Écrivez à numerique@villebrie.example ou voyez https://villebrie.example/a_b.c",
        "Téléchargez rendez-vous.ics ou export.csv.",
        "Site : villebrie.fr",
        "Mme Dupont, M. Martin, etc. Absent·e",
    ):
        assert raw_codes(fine) == [], fine


def visible_codes(visit: Visit) -> list[str]:
    parser = VisibleText()
    parser.feed(visit.body)
    parser.close()
    return [f"{code!r} in {text[:120]!r}" for text in parser.texts for code in raw_codes(text)]


def crawl(user, slug: str) -> list[Visit]:
    def allowed(path: str) -> bool:
        return path == "/equipe/" or path.startswith(f"/equipe/{slug}/")

    client = signed_in(user)
    client.raise_request_exception = False  # a server error is test_crawler's to report
    crawler = Crawler(client, allowed=allowed, probe="a", limit=LIMIT)
    crawler.crawl("/equipe/")
    return [v for v in crawler.visits if v.status == 200 and v.content_type.startswith("text/html")]


@pytest.fixture
def demo(db):
    call_command("load_demo", quiet=True)
    town = Structure.objects.get(slug=TOWN_SLUG)
    seed_every_value(town)
    return town


def seed_every_value(town: Structure) -> None:
    """Whatever the demo holds, a value of each kind a code could leak from: an appointment in
    each status with its history, reports naming every theme, procedure and material."""
    advisor = Membership.objects.filter(structure=town, role="advisor").first().user
    motif = Motif.objects.filter(structure=town).first()
    place = Place.objects.filter(structure=town).first()
    person = make_beneficiary(town, first_name="Codetest", commune_insee="77999")
    for n, status in enumerate(Status.values):
        day = timezone.localdate() - dt.timedelta(days=20 + n)
        appointment = make_appointment(
            motif, advisor, place, day, dt.time(6), first_name="Codetest", beneficiary=person
        )  # at 6 a.m. weeks ago, clear of the demo's own appointments
        record(structure=town, action="appointment.booked", obj=appointment, actor=advisor)
        if status != Status.UNKNOWN:
            appointment_set_status(appointment=appointment, status=status, actor=advisor)
    procedure = taxonomy.PROCEDURE_THEME
    make_activity(
        town,
        advisor,
        person,
        place,
        themes=taxonomy.pack([*taxonomy.codes("themes"), procedure]),
        procedure_themes=taxonomy.pack(taxonomy.codes("procedure_themes")),
        materials=taxonomy.pack(taxonomy.codes("materials")),
        autonomy=taxonomy.codes("autonomy")[0],
        referred=True,
        referral=taxonomy.codes("referral_structures")[0],
    )
    make_activity(
        town,
        advisor,
        None,
        place,
        kind="collectif",
        workshop_title="Atelier",
        level=taxonomy.codes("workshop_levels")[0],
        materials=taxonomy.pack(taxonomy.codes("materials")),
    )


def test_no_staff_page_of_the_demo_shows_a_raw_code(demo):
    members = list(
        Membership.objects.filter(structure=demo).select_related("user").order_by("role")
    )
    assert {m.role for m in members} >= {"coordinator", "advisor", "reception"}
    offenders = []
    for member in members:
        pages = crawl(member.user, demo.slug)
        assert len(pages) >= MIN_PAGES, f"{member.role}: only {len(pages)} pages read"
        for visit in pages:
            offenders += [
                f"{member.role} {visit.link.url} (via {visit.link.via or 'start'}): {found}"
                for found in visible_codes(visit)
            ]
    assert not offenders, "raw codes on staff pages:\n" + "\n".join(dict.fromkeys(offenders))


class Buttons(HTMLParser):
    """The « status » buttons of a page: their value and their words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self._value: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "button" and a.get("name") == "status":
            self._value = a.get("value") or ""
            self.found[self._value] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._value = None

    def handle_data(self, data: str) -> None:
        if self._value is not None:
            self.found[self._value] += data.strip()


def test_a_status_is_said_with_the_words_of_its_button(personas):
    started = timezone.localdate() - dt.timedelta(days=1)
    appointment = make_appointment(
        personas.motif_a, personas.advisor, personas.place_a, started, dt.time(10)
    )
    client = signed_in(personas.advisor)
    url = f"/equipe/ville-a/rendez-vous/{appointment.pk}/"
    buttons = Buttons()
    buttons.feed(client.get(url).content.decode())
    said = {value: words for value, words in buttons.found.items() if value != Status.UNKNOWN}
    assert said == {
        Status.SEEN: "Honoré",
        Status.NOSHOW: "Absent·e",
        Status.EXCUSED: "Excusé·e",
    }
    for value, words in said.items():
        assert Status(value).label == words
        client.post(f"{url}statut/", {"status": value})
        appointment.refresh_from_db()
        assert appointment.status == value
        page = client.get(url).content.decode()
        assert f'<span class="badge status-{value}">{words}</span>' in page
