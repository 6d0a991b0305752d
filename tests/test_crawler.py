"""A crawler per persona: all it is offered from the staff home, and nothing it may not read.

Both structures are seeded with unique markers: every free text of structure A holds
`kwqax`, of structure B `kwqbx`, and the people helped have marker names, phones, e-mails,
home addresses, profiles and notes. Each persona signs in, starts at `/equipe/` and follows
every link, htmx URL, GET form (defaults, a search probe, each other option of its lists) and
POST form's action (fetched with GET only) of its structure's staff and public pages
(tests/crawler.py). A page fails the test when it answers 500, when an offered link does not
open (404, 403…), or when it shows a marker the persona must not see (docs/ARCHITECTURE.md,
"Who sees what of a person"):
- nobody of A sees anything of B, and B's advisor (the outsider) nothing of A;
- the coordinator sees no name, contact or notes of a person (a resident's message included);
- reception sees names and contact, never notes, messages, reports or a person's profile.

New URLs join by construction: every staff URL under `/equipe/<slug>/` without an object id
must be reached by each persona the permission matrix lets open it, or be in ALLOW_UNLINKED.
"""

import datetime as dt
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_scopes import scopes_disabled

from lien.activities.models import Accompaniment
from lien.appointments.models import Message
from lien.beneficiaries.models import BeneficiaryImport
from lien.journal import actions
from lien.journal.models import JournalEntry
from tests.conftest import make_activity, make_appointment, make_beneficiary, signed_in
from tests.crawler import Crawler, Visit
from tests.test_permissions import MATRIX

# Five letters: a shorter tag turns up by chance in the random tokens of some page (CSRF).
TAG = {"a": "kwqax", "b": "kwqbx"}
# Typed in every search field: it matches the people of both structures (Zorglubkwqax…,
# Zorglubkwqbx…), so a search that crosses structures or roles shows it.
PROBE = "zorglub"
LIMIT = 400  # requests per persona; reaching it fails the test (the crawl is then unknown)
PERSONAS = ("coordinator", "advisor", "reception", "outsider")
# The permission matrix's row for each persona: the outsider is B's advisor, in its own B.
ROLE = {
    "coordinator": "coordinator",
    "advisor": "advisor",
    "reception": "reception",
    "outsider": "advisor",
}

# Staff URLs without an object id that no page links to, on purpose. Keep it short.
ALLOW_UNLINKED: dict[str, str] = {}

PHONES = {
    "a": ("+33647586970", "+33647586971"),
    "b": ("+33768594031", "+33768594032"),
}


def phone_forms(number: str) -> tuple[str, ...]:
    """A French number as a page may print it: +33…, 06…, "06 47 58 69 70", "06.47…"."""
    national = number.removeprefix("+33")
    pairs = " ".join([national[0], *(national[i : i + 2] for i in range(1, 9, 2))])
    return (national, pairs, pairs.replace(" ", "."))


def markers(which: str) -> dict[str, tuple[str, ...]]:
    """What a structure's pages may show, by kind, lower-cased."""
    t = TAG[which]
    phones = tuple(f for n in PHONES[which] for f in phone_forms(n))
    found = {
        "identity": (f"ysolde{t}", f"zorglub{t}", f"gaspard{t}"),
        "contact": (
            *phones,
            f"ysolde.{t}@exemple.org",
            f"gaspard.{t}@exemple.org",
            f"{t}-domicile",
        ),
        "profile": (f"bourg{t}",),
        "notes": (
            f"note-personne-{t}",
            f"note-deux-{t}",
            f"message-rdv-{t}",
            f"message-jour-{t}",
            f"note-cra-{t}",
            f"note-cra-jour-{t}",
            f"note-atelier-{t}",
        ),
        # Anything of the structure at all: its token, its staff's e-mails, its slug.
        "structure": (t, *phones, f"@{which}.example", "/ville-a/" if which == "a" else "/asso-b/"),
    }
    return {kind: tuple(m.lower() for m in values) for kind, values in found.items()}


def forbidden(persona: str) -> dict[str, tuple[str, ...]]:
    a, b = markers("a"), markers("b")
    if persona == "outsider":
        return {f"A {kind}": values for kind, values in a.items()}
    rules = {"B": b["structure"]}
    if persona == "coordinator":
        rules |= {f"A {kind}": a[kind] for kind in ("identity", "contact", "notes")}
    elif persona == "reception":
        rules |= {f"A {kind}": a[kind] for kind in ("notes", "profile")}
    return rules


# What the crawl must have seen, so that the markers are known to be on the pages it read.
TA, TB = TAG["a"], TAG["b"]
MUST_SEE = {
    "advisor": (
        f"ysolde{TA}",
        f"gaspard{TA}",
        f"note-personne-{TA}",
        f"message-rdv-{TA}",
        f"note-cra-{TA}",
        f"ysolde.{TA}@exemple.org",
        "6 47 58 69 70",
        f"bourg{TA}",
    ),
    "reception": (f"ysolde{TA}", f"gaspard{TA}", "6 47 58 69 70", f"ysolde.{TA}@exemple.org"),
    "coordinator": (f"lieu {TA}", f"motif {TA}", f"nadia{TA}"),
    "outsider": (f"ysolde{TB}", f"note-personne-{TB}", f"message-jour-{TB}", f"lieu {TB}"),
}
MIN_URL_NAMES = {"advisor": 25, "reception": 10, "coordinator": 15, "outsider": 25}


def seed(p) -> None:
    """Markers on the fixture's objects of both structures, and more people and records."""
    with scopes_disabled():
        for which in ("a", "b"):
            _seed_structure(p, which)


def _seed_structure(p, which: str) -> None:
    t = TAG[which]
    s = getattr(p, which)
    advisor = p.advisor if which == "a" else p.outsider
    place = getattr(p, f"place_{which}")
    motif = getattr(p, f"motif_{which}")
    today = timezone.localdate()
    s.name = f"Structure {t}"
    s.save(update_fields=["name"])
    staff = (p.coordinator, p.advisor, p.reception) if which == "a" else (p.outsider,)
    for user in staff:
        user.first_name = f"{user.first_name}{t}"
        user.save(update_fields=["first_name"])
    place.name = f"Lieu {t}"
    place.save(update_fields=["name"])
    motif.title = f"Motif {t}"
    motif.save(update_fields=["title"])
    for obj, value in (
        (getattr(p, f"presence_{which}"), ("note", f"Permanence {t}")),
        (getattr(p, f"exception_{which}"), ("reason", f"Annulation {t}")),
        (getattr(p, f"closure_{which}"), ("reason", f"Fermeture {t}")),
        (getattr(p, f"absence_{which}"), ("reason", f"Congé {t}")),
    ):
        setattr(obj, value[0], value[1])
        obj.save(update_fields=[value[0]])

    first, second = PHONES[which]
    person = getattr(p, f"beneficiary_{which}")
    for name, value in {
        "first_name": f"Ysolde{t}",
        "last_name": f"Zorglub{t}",
        "phone": first,
        "email": f"ysolde.{t}@exemple.org",
        "notes": f"NOTE-PERSONNE-{t}",
        "commune": f"Bourg{t}",
    }.items():
        setattr(person, name, value)
    person.save()
    other = make_beneficiary(
        s,
        first_name=f"Gaspard{t}",
        last_name=f"Zorglub{t}bis",
        phone=second,
        email=f"gaspard.{t}@exemple.org",
        notes=f"NOTE-DEUX-{t}",
        commune=f"Bourg{t}",
    )
    make_beneficiary(s, anonymous=True, first_name="", last_name="", phone="", commune=f"Bourg{t}")

    # The fixture's appointment (weeks ahead) and one today, booked online, home address.
    coming = getattr(p, f"appointment_{which}")
    coming.first_name, coming.last_name = person.first_name, person.last_name
    coming.phone, coming.email = first, person.email
    coming.note, coming.address = f"MESSAGE-RDV-{t}", f"12 rue {t}-domicile"
    coming.beneficiary = person
    coming.save()
    today_appointment = make_appointment(
        motif,
        advisor,
        place,
        today,
        dt.time(8),
        channel="online",
        first_name=other.first_name,
        phone=second,
        email=other.email,
        note=f"MESSAGE-JOUR-{t}",
        address=f"3 allée {t}-domicile",
        beneficiary=other,
    )
    today_appointment.last_name = other.last_name
    today_appointment.save(update_fields=["last_name"])
    for channel, recipient in (("email", other.email), ("sms", second)):
        Message.objects.create(
            structure=s,
            appointment=today_appointment,
            kind="confirmation",
            channel=channel,
            recipient=recipient,
            due_at=today_appointment.start,
            state="failed",
            error=f"Refusé par le serveur {t}",
            idempotency_key=f"crawler-{which}-{channel}",
        )

    # Reports: the fixture's (four weeks ago), one today, and a workshop with both people.
    report = getattr(p, f"activity_{which}")
    report.notes = f"NOTE-CRA-{t}"
    report.save(update_fields=["notes"])
    make_activity(s, advisor, other, place, date=today, notes=f"NOTE-CRA-JOUR-{t}")
    workshop = make_activity(
        s,
        advisor,
        person,
        place,
        date=today,
        kind="collectif",
        level="debutant",
        workshop_title=f"Atelier {t}",
        notes=f"NOTE-ATELIER-{t}",
    )
    Accompaniment.objects.create(
        activity=workshop, structure=s, date=workshop.date, beneficiary=other
    )
    # A finished import and one under way (its page polls itself with htmx).
    BeneficiaryImport.objects.create(
        structure=s,
        created_by=advisor,
        filename=f"import-{t}.csv",
        content=b"",
        state="done",
        finished_at=timezone.now(),
    )
    BeneficiaryImport.objects.create(
        structure=s, created_by=advisor, filename=f"encours-{t}.csv", content=b"", state="running"
    )


def allowed_for(slug: str):
    """Staff pages, the account pages (not sign-out), the structure's own public pages, the
    private links (ICS feeds, a resident's page) staff pages offer. Never the admin, static
    or uploaded files, another structure's public pages."""

    def allowed(path: str) -> bool:
        if path.startswith(("/admin/", "/static/", "/media/", "/compte/deconnexion/")):
            return False
        return path.startswith(("/equipe/", "/compte/", "/agenda/", "/rdv/", f"/{slug}/"))

    return allowed


def staff_url_names_without_id() -> set[str]:
    """URL names under /equipe/<slug>/ whose only parameter is the structure's slug."""
    names: set[str] = set()

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route, ns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                rest = route.removeprefix("equipe/<slug:structure_slug>/")
                if rest != route and "<" not in rest:
                    names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "", "")
    return names


def expected_names(persona: str) -> set[str]:
    role = ROLE[persona]
    return {
        name
        for name in staff_url_names_without_id()
        if MATRIX.get(name, {}).get(role) == 200 and name not in ALLOW_UNLINKED
    }


def _describe(visit: Visit) -> str:
    how = visit.link.how + (" with HX-Request" if visit.link.htmx else "")
    return f"{visit.link.url} ({visit.url_name}, {how}, linked from {visit.link.via or 'start'})"


def crawl(personas, persona: str) -> Crawler:
    seed(personas)
    user = getattr(personas, persona)
    slug = personas.b.slug if persona == "outsider" else personas.a.slug
    reads = JournalEntry.objects.filter(actor=user, action__in=actions.names(kind=actions.READ))
    crawler = Crawler(
        signed_in(user),
        allowed=allowed_for(slug),
        probe=PROBE,
        limit=LIMIT,
        count_reads=reads.count,
    )
    crawler.crawl("/equipe/")
    return crawler


# The page's CSRF tokens: 64 random letters and digits in each form, read lower-cased, hold a
# five-letter marker by chance about once in 400 crawls (it happened in CI).
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def without_csrf_tokens(text: str) -> str:
    return CSRF_TOKEN.sub("", text)


def check(crawler: Crawler, persona: str) -> None:
    visits = crawler.visits
    assert crawler.complete, (
        f"{persona}: the crawl reached its cap of {LIMIT} requests; raise it or tighten "
        f"the URL normalisation in tests/crawler.py"
    )
    errors = [_describe(v) for v in visits if v.status >= 500]
    assert not errors, f"{persona}: server errors on\n" + "\n".join(errors)
    leaks = [
        f"{persona} sees {kind} marker {marker!r} on {_describe(v)}"
        for v in visits
        for kind, values in forbidden(persona).items()
        for marker in values
        if marker in without_csrf_tokens(v.text)
    ]
    assert not leaks, "\n".join(leaks)
    # What a page offers opens: no broken link, no link to a page refused to this persona.
    # A POST form's address fetched with GET may answer 405 (there is no page to show).
    broken = [
        f"{v.status} on {_describe(v)}"
        for v in visits
        if v.status not in (200, 301, 302, 303)
        and not (v.status == 405 and v.link.how == "post-action")
    ]
    assert not broken, f"{persona} is offered links that do not open:\n" + "\n".join(broken)

    # Every page that showed a person (their name, contact or notes) journalled that read.
    own = markers("b" if persona == "outsider" else "a")
    personal = [m for kind in ("identity", "contact", "notes") for m in own[kind]]
    unjournalled = [
        f"{_describe(v)} shows {next(m for m in personal if m in v.text)!r}"
        for v in visits
        if v.status == 200 and v.reads == 0 and any(m in v.text for m in personal)
    ]
    assert not unjournalled, (
        f"{persona}: pages showing a person without a journalled read:\n" + "\n".join(unjournalled)
    )

    seen = "\n".join(v.text for v in visits if v.status == 200)
    missing = [m for m in MUST_SEE[persona] if m not in seen]
    assert not missing, f"{persona}: the crawl never showed {missing}: markers or links broken"
    reached = {v.url_name for v in visits if v.url_name}
    assert len(reached) >= MIN_URL_NAMES[persona], f"{persona} reached only {sorted(reached)}"
    print(f"{persona}: {len(visits)} requests, {len(reached)} URL names: {sorted(reached)}")
    unreached = expected_names(persona) - reached
    assert not unreached, (
        f"{persona} may open {sorted(unreached)} but no page links to them: link them, or "
        f"add them to ALLOW_UNLINKED with the reason. Reached: {sorted(reached)}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_a_persona_is_offered_nothing_it_may_not_read(personas, persona):
    check(crawl(personas, persona), persona)


def test_every_staff_page_without_an_id_is_reached_by_someone():
    """The per-persona crawls check it; here, that no such page is left out of all of them."""
    names = staff_url_names_without_id()
    assert len(names) >= 15, sorted(names)
    nobody = {n for n in names if not any(n in expected_names(p) for p in PERSONAS)}
    assert nobody <= set(ALLOW_UNLINKED), (
        f"no persona may open {sorted(nobody - set(ALLOW_UNLINKED))}: classify them in "
        f"tests/test_permissions.py or ALLOW_UNLINKED"
    )


def test_markers_are_unique_to_their_structure():
    """A marker of A must not be a marker of B, or a leak could hide behind it."""
    a = {m for values in markers("a").values() for m in values}
    b = {m for values in markers("b").values() for m in values}
    assert not {m for m in a for n in b if m in n or n in m}
    assert "6 47 58 69 70" in markers("a")["contact"]


PAGE = """<a href="/equipe/x/?page=2">2</a><a href="tel:+33600000000">t</a>
<a href="https://example.org/">out</a><a href="/admin/">admin</a>
<input type="text" readonly value="http://testserver/agenda/abc.ics">
<input type="search" name="who_q" hx-get="/equipe/x/people/?champ=who">
<form method="get" action="/equipe/x/list/?old=1"><input name="q" value="">
<input type="hidden" name="day" value="2027-01-04"><input type="checkbox" name="c" value="1">
<select name="view"><option value="week">W</option><option value="day">D</option></select>
<button type="submit" name="go">Go</button></form>
<form method="post" action="/equipe/x/1/delete/"><textarea name="t">x</textarea></form>"""


def test_the_crawler_follows_what_a_page_offers():
    """The parser and the normalisation alone, on a page written for them."""
    from tests.crawler import Link, PageParser

    parser = PageParser("probe")
    parser.feed(PAGE)
    offered = [*parser.found, *parser.submissions("/equipe/x/")]
    urls = {link.url for link in offered}
    assert "/equipe/x/?page=2" in urls and "http://testserver/agenda/abc.ics" in urls
    assert Link("/equipe/x/people/?champ=who&who_q=probe", True, "", "htmx", "probe") in offered
    assert "/equipe/x/list/?q=&day=2027-01-04&view=week" in urls  # defaults; query replaced
    assert "/equipe/x/list/?q=probe&day=2027-01-04&view=week" in urls
    assert "/equipe/x/list/?q=&day=2027-01-04&view=day" in urls  # the other option
    long_list = "".join(f"<option>{n}</option>" for n in range(100))
    parser = PageParser("probe")
    parser.feed(f'<form><select name="n">{long_list}</select></form>')
    tried = [link.url for link in parser.submissions("/equipe/x/")]
    assert len(tried) == 1 + 8 and "/equipe/x/?n=99" in tried  # default, then a sample
    assert Link("/equipe/x/1/delete/", how="post-action") in offered

    crawler = Crawler(None, allowed=lambda path: path.startswith("/equipe/"), probe="probe")
    kept = {crawler._normalise(url, "/equipe/x/") for url in urls} - {None}
    assert not any("admin" in url or "example.org" in url or "tel:" in url for url in kept)
    key = Crawler.key
    assert key(Link("/equipe/x/?page=2")) == key(Link("/equipe/x/?page=3"))
    assert key(Link("/equipe/x/?vue=jour")) != key(Link("/equipe/x/?vue=semaine"))
    assert key(Link("/equipe/x/?q=")) != key(Link("/equipe/x/?q=probe"))
    assert key(Link("/equipe/x/")) != key(Link("/equipe/x/", htmx=True))
    # A form's other option is tried once, whatever page (and filters) show the form.
    assert key(Link("/equipe/x/?t=a&v=b", variant="v=b")) == key(
        Link("/equipe/x/?t=c&v=b", variant="v=b")
    )
    assert key(Link("/equipe/x/?c=&q=p", variant="probe")) != key(
        Link("/equipe/x/?d=&q=p", variant="probe")
    )


def test_a_spreadsheet_is_read_inside_its_archive():
    import io
    import zipfile

    from tests.crawler import body_text

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", "<t>Ysoldekwqax</t>" * 50)
    assert "Ysoldekwqax" not in buffer.getvalue().decode("utf-8", errors="ignore")
    assert "Ysoldekwqax" in body_text(buffer.getvalue())
    assert body_text("\ufeffnom;prénom".encode()) == "nom;prénom"
