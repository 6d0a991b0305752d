"""French typography, done once (lien/core/typography.py, the `typography` filter of base.html).

« Une question ? » never breaks before its « ? », « 14 h » never between 14 and h, and the
first of a month is « 1er ». Tags, attributes, scripts, code, URLs and times stay as they are.
"""

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone

from lien.core import timefmt
from lien.core.typography import html, plain
from tests.conftest import make_appointment, signed_in

NB = "\u00a0"  # no-break space
NN = "\u202f"  # narrow no-break space


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # « ? ! ; »: the space becomes narrow and no-break, or is put in.
        ("Une question ? Appelez", f"Une question{NN}? Appelez"),
        ("Besoin d’aide avec le numérique?", f"Besoin d’aide avec le numérique{NN}?"),
        ("Attention !", f"Attention{NN}!"),
        ("Vraiment?!", f"Vraiment{NN}?!"),
        ("lundi ; mardi", f"lundi{NN}; mardi"),
        ("lundi; mardi", f"lundi{NN}; mardi"),
        ("(voir)?", f"(voir){NN}?"),
        # « : » keeps its space, no-break; none is put in.
        ("Motif : atelier", f"Motif{NB}: atelier"),
        ("Étape 2 : choisir", f"Étape 2{NB}: choisir"),
        ("Note: rien", "Note: rien"),
        # Guillemets.
        ("Remettre « à venir »", f"Remettre «{NB}à venir{NB}»"),
        ("«Honoré»", f"«{NB}Honoré{NB}»"),
        # Hours, euros, per cent.
        ("de 14 h à 17 h 30", f"de 14{NB}h à 17{NB}h{NB}30"),
        ("1 h 30 de trajet", f"1{NB}h{NB}30 de trajet"),
        ("10 €, 50 %", f"10{NB}€, 50{NB}%"),
        # The first of a month.
        ("lundi 1 décembre", "lundi 1er décembre"),
        ("le 1 mai", "le 1er mai"),
    ],
)
def test_plain_text_gets_its_no_break_spaces(text, expected):
    assert plain(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "14:30",  # a time
        "https://exemple.fr/rdv/?jour=2026-12-01&x=1",
        "voir https://exemple.fr/page?",  # a URL ending a sentence is still a URL
        "www.exemple.fr/a?",
        "écrire à josette@exemple.org",
        "?jour=2026",  # a query string
        "a;b",
        "14h30",  # left as written
        "2 heures, 3 hommes",
        "11 décembre, 21 mai, 1er juin, 2026 1 2",
        "Page 1 sur 3",
        "1,5 h",
        "",
        "?",
    ],
)
def test_plain_text_leaves_alone_what_is_no_prose(text):
    assert plain(text) == text


def test_plain_text_keeps_its_lines_and_is_idempotent():
    text = "Bonjour Josette,\n\nDate : jeudi 3 décembre à 14 h\nUne question ? Appelez-nous."
    once = plain(text)
    assert once.count("\n") == text.count("\n")
    assert once == (
        f"Bonjour Josette,\n\nDate{NB}: jeudi 3 décembre à 14{NB}h\nUne question{NN}? Appelez-nous."
    )
    assert plain(once) == once
    assert plain("Une question\n? Non") == "Une question\n? Non"  # a line break stays one


def test_html_touches_only_the_text_between_tags():
    page = (
        '<p title="Quand ?" data-x="a : b">Quand ?</p>'
        "<script>var a = b ? c : d; // « x »</script>"
        "<style>a:hover { color: red !important; }</style>"
        "<pre>code ? oui</pre><code>x ? y</code><textarea name=n>tapé ?</textarea>"
        "<!-- commentaire ? -->"
        '<a href="/x/?jour=1&amp;vue=jour">Suite ?</a>'
        "<p><strong>Gérard</strong> ?</p>"
    )
    assert html(page) == (
        f'<p title="Quand ?" data-x="a : b">Quand{NN}?</p>'
        "<script>var a = b ? c : d; // « x »</script>"
        "<style>a:hover { color: red !important; }</style>"
        "<pre>code ? oui</pre><code>x ? y</code><textarea name=n>tapé ?</textarea>"
        "<!-- commentaire ? -->"
        f'<a href="/x/?jour=1&amp;vue=jour">Suite{NN}?</a>'
        f"<p><strong>Gérard</strong>{NN}?</p>"
    )


def test_html_keeps_its_entities():
    assert html("<p>l&#x27;heure ?</p>") == f"<p>l&#x27;heure{NN}?</p>"
    assert html("<p>A &amp; B; c</p>") == f"<p>A &amp; B{NN}; c</p>"  # not before &amp;’s ;
    assert html("<p>&lt;b&gt; ?</p>") == f"<p>&lt;b&gt;{NN}?</p>"
    assert html("<p>&quot;Vraiment ?&quot;</p>") == f"<p>&quot;Vraiment{NN}?&quot;</p>"
    assert html("<p>«&nbsp;Honoré&nbsp;»</p>") == "<p>«&nbsp;Honoré&nbsp;»</p>"  # already
    assert html("<p>Pas de changement &amp; rien</p>") == "<p>Pas de changement &amp; rien</p>"


def test_html_line_breaks_before_a_mark_become_one_no_break_space():
    assert html("<p>Annuler\n  ?</p>") == f"<p>Annuler{NN}?</p>"


def test_the_filter_escapes_what_is_not_html_yet():
    rendered = Template("{{ value|typography }}").render(Context({"value": "<b>Oui ?</b>"}))
    assert rendered == f"&lt;b&gt;Oui{NN}?&lt;/b&gt;"
    block = Template("{% filter typography %}<p>{{ value }} ?</p>{% endfilter %}")
    assert block.render(Context({"value": "<i>x</i>"})) == f"<p>&lt;i&gt;x&lt;/i&gt;{NN}?</p>"


def test_the_text_filter_is_for_emails():
    rendered = Template("{% autoescape off %}{{ v|typography_text }}{% endautoescape %}").render(
        Context({"v": "Date : lundi à 14 h & <après> ?"})
    )
    assert rendered == f"Date{NB}: lundi à 14{NB}h & <après>{NN}?"


@pytest.mark.parametrize(
    ("day", "long", "full"),
    [
        (dt.date(2026, 12, 1), "mardi 1er décembre", "mardi 1er décembre 2026"),
        (dt.date(2027, 1, 1), "vendredi 1er janvier", "vendredi 1er janvier 2027"),
        (dt.date(2026, 12, 3), "jeudi 3 décembre", "jeudi 3 décembre 2026"),
        (dt.date(2026, 12, 11), "vendredi 11 décembre", "vendredi 11 décembre 2026"),
        (dt.date(2026, 12, 21), "lundi 21 décembre", "lundi 21 décembre 2026"),
    ],
)
def test_the_first_of_a_month_is_1er(day, long, full):
    assert timefmt.long_date(day) == long
    assert timefmt.full_date(day) == full
    instant = dt.datetime.combine(day, dt.time(14, 30), tzinfo=dt.UTC)
    with timefmt.using(None):
        assert timefmt.when(instant).startswith(long)
    assert Template("{{ d|long_date }}|{{ d|full_date }}").render(Context({"d": day})) == (
        f"{long}|{full}"
    )


def test_a_public_page_shows_its_hours_unbroken(personas, client, settings):
    settings.HOME_STRUCTURE = "ville-a"
    body = client.get("/").content.decode()
    assert f"de 14{NB}h à 17{NB}h" in body and "de 14 h" not in body
    assert f"Une question{NN}?" in body  # the footer, on every public page
    assert body.startswith("<!doctype html>")


def test_a_staff_page_says_1er_and_keeps_its_attributes(personas):
    today = timezone.localdate()
    first = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)  # next month's 1st
    appointment = make_appointment(
        personas.motif_a, personas.advisor, personas.place_a, first, dt.time(14, 30)
    )
    client = signed_in(personas.advisor)
    body = client.get(f"/equipe/ville-a/rendez-vous/{appointment.pk}/").content.decode()
    assert f" 1er {timefmt.long_date(first).split()[-1]} {first.year}, 14{NB}h{NB}30" in body
    page = client.get(f"/equipe/ville-a/rendez-vous/{appointment.pk}/annuler/").content.decode()
    assert f"Annuler ce rendez-vous{NN}?" in page
    assert 'href="/equipe/ville-a/rendez-vous/' in page  # attributes as they were


def test_a_name_without_its_last_part_has_no_stray_space(personas):
    gerard = make_appointment(
        personas.motif_a,
        personas.advisor,
        personas.place_a,
        timezone.localdate() - dt.timedelta(days=1),
        dt.time(10),
        first_name="Gérard",
        status="seen",
    )
    gerard.last_name = ""
    gerard.save(update_fields=["last_name"])
    sentence = Template("pour {{ a|full_name }}.").render(Context({"a": gerard}))
    assert sentence == "pour Gérard."
    client = signed_in(personas.advisor)
    page = client.get(f"/equipe/ville-a/activites/nouveau/?rdv={gerard.pk}").content.decode()
    assert "Gérard" in page
    for stray in (" .", " ,", "  ."):
        assert f"Gérard{stray}" not in page


def test_every_htmx_partial_gets_the_typography():
    """A view rendering a partial (a template named `_…`, which does not extend base.html)
    goes through core/http.render_fragment, so the fragment has the page's typography."""
    import re
    from pathlib import Path

    lien = Path(__file__).resolve().parent.parent / "lien"
    offenders = []
    for path in lien.rglob("views*.py"):
        text = path.read_text("utf-8")
        for match in re.finditer(r"\brender\(\s*request,\s*\"[\w/]*/_\w+\.html\"", text):
            offenders.append(f"{path.relative_to(lien)}: {match.group(0)!r}")
    assert not offenders, "use render_fragment for partials:\n" + "\n".join(offenders)


# The import progress partial (« 25 % ») is checked in tests/test_beneficiary_import.py.
