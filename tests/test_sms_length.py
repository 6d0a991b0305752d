"""Every SMS Lien sends fits one SMS: at most 160 characters of the GSM 7-bit alphabet, with
the longest names a real structure gives its places and motifs, on a real production host,
and its link still opens the resident's page."""

import datetime as dt
import string
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from lien.appointments import delivery, gsm
from lien.appointments.models import (
    Appointment,
    LocationType,
    Message,
    MessageChannel,
    MessageKind,
    Motif,
    Status,
)
from lien.appointments.sms import send_sms
from lien.core import timefmt
from tests.conftest import PARIS, make_appointment

PRODUCTION = "https://mediation-numerique.ville-de-saint-germain-en-laye.fr"
SHORT_HOST = "https://rdv.ville-a.fr"
LONG_PLACE = (
    "Médiathèque intercommunale François-Mitterrand de la Communauté d'agglomération "
    "Saint-Germain Boucles de Seine"
)
LONG_ADDRESS = (
    "Centre commercial des Trois-Quartiers, 12 bis avenue du Maréchal-de-Lattre-de-Tassigny"
)
LONG_CITY = "Saint-Germain-en-Laye"
LONG_STRUCTURE = (
    "Communauté d'agglomération Saint-Germain Boucles de Seine — Conseillers numériques "
    "France Services"
)
MOTIF_MAX = Motif._meta.get_field("title").max_length
# The longest motif title the model takes, with the letters GSM-7 lacks (« ê », « ç », « œ »).
LONG_MOTIF = (
    "Créer et sécuriser son compte Ameli, France Connect et l’espace impôts : être à l’aise "
    "avec les démarches en ligne, cœur et reçus compris"
)[:MOTIF_MAX]


# --- The alphabet ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("Médiathèque", "Médiathèque"),  # é, è: in the alphabet
        ("à où É Ç ä ö ü ñ", "à où É Ç ä ö ü ñ"),
        ("fenêtre, âge, île, côte, goût", "fenetre, age, ile, cote, gout"),
        ("ça, garçon", "ca, garcon"),  # only the capital Ç is in the alphabet
        ("cœur, Œuvre", "coeur, OEuvre"),
        ("« Bonjour »", '" Bonjour "'),
        ("l’atelier", "l'atelier"),
        ("14\u00a0h\u202f: oui", "14 h : oui"),
        ("Attendez…", "Attendez..."),
        ("lundi — mardi – mercredi", "lundi - mardi - mercredi"),
        ("Absent·e", "Absent.e"),
        ("Tarif : 10 €, [x] {y} ~ ^ \\ |", "Tarif : 10 €, [x] {y} ~ ^ \\ |"),  # extension table
        ("日本", "??"),
    ],
)
def test_text_is_transliterated_into_the_gsm_alphabet(text, sent):
    assert gsm.to_gsm7(text) == sent
    assert gsm.is_gsm7(sent)


def test_extension_characters_count_twice():
    assert gsm.gsm7_length("10 €") == 5
    assert gsm.gsm7_length("[]{}~^\\|€") == 18
    assert gsm.gsm7_length("é") == 1
    assert gsm.gsm7_length("…") == 3  # counted once transliterated


def test_segments():
    assert gsm.segments("") == 0
    assert gsm.segments("a" * 160) == 1
    assert gsm.segments("a" * 161) == 2
    assert gsm.segments("a" * 306) == 2
    assert gsm.segments("a" * 307) == 3
    assert gsm.segments("€" * 80) == 1
    assert gsm.segments("a" * 159 + "€") == 2
    # An escape and its character are never split: 152 + 2 does not fit a 153-septet part.
    assert gsm.segments("a" * 152 + "€" + "a" * 152) == 3
    # One character outside the alphabet: UCS-2, 70 characters an SMS.
    assert gsm.segments("ê" * 70) == 1
    assert gsm.segments("ê" * 71) == 2


@given(st.text())
def test_transliteration_always_gives_gsm7_and_is_stable(text):
    sent = gsm.to_gsm7(text)
    assert gsm.is_gsm7(sent)
    assert gsm.to_gsm7(sent) == sent
    assert gsm.gsm7_length(text) == gsm.gsm7_length(sent)


@given(st.text(alphabet=string.ascii_letters + " éê€œ«»’…-,"), st.integers(0, 200))
def test_shorten_never_exceeds_its_limit(text, limit):
    short = gsm.shorten(text, limit)
    assert gsm.gsm7_length(short) <= limit
    if gsm.gsm7_length(text) <= limit:
        assert short == gsm.to_gsm7(text)
    elif limit > 3:
        assert short.endswith("...")


def test_the_sms_adapter_gets_gsm7_text(settings, tmp_path):
    import json

    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    send_sms("+33612345678", "Rendez-vous à la Médiathèque « Œuvre » – 14\u00a0h…")
    [line] = (tmp_path / "sms.jsonl").read_text("utf-8").splitlines()
    assert json.loads(line)["text"] == 'Rendez-vous à la Médiathèque " OEuvre " - 14 h...'


# --- The messages ----------------------------------------------------------------------------


def long_day() -> dt.date:
    """A day at least seven weeks ahead written with the most digits (« mer. 28/10 »)."""
    day = timezone.localdate() + dt.timedelta(weeks=7)
    while day.day < 10 or day.month < 10:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def longest(personas) -> Appointment:
    """An appointment whose every name is as long as real structures make them."""
    a = personas.a
    a.name = LONG_STRUCTURE
    a.save()
    place = personas.place_a
    place.name, place.address, place.city = LONG_PLACE, LONG_ADDRESS, LONG_CITY
    place.save()
    motif = personas.motif_a
    motif.title = LONG_MOTIF
    motif.what_to_bring = "Votre téléphone, votre carte Vitale et vos identifiants. " * 4
    motif.save()
    assert len(motif.title) == MOTIF_MAX
    return make_appointment(motif, personas.advisor, place, long_day(), dt.time(14, 45))


def render(appointment: Appointment, kind: str) -> str:
    message = Message(appointment=appointment, kind=kind, channel=MessageChannel.SMS)
    return delivery.render_sms(message)


def link_in(text: str, site: str) -> str:
    [link] = [word for word in text.split() if word.startswith(site)]
    return link


def assert_one_sms(text: str) -> None:
    assert gsm.is_gsm7(text), text
    assert gsm.gsm7_length(text) <= 160, (gsm.gsm7_length(text), text)
    assert gsm.segments(text) == 1


def assert_link_opens_the_page(link: str, appointment: Appointment) -> None:
    response = Client().get(urlsplit(link).path)
    assert response.status_code == 302
    assert response["Location"] == f"/rdv/{appointment.token}/"
    page = Client().get(response["Location"])
    assert page.status_code == 200
    assert page.context["appointment"] == appointment


@pytest.mark.django_db
@pytest.mark.parametrize("site", [PRODUCTION, SHORT_HOST, "http://127.0.0.1:8000"])
@pytest.mark.parametrize("kind", MessageKind.values)
def test_every_sms_fits_one_segment_with_the_longest_names(longest, settings, site, kind):
    settings.SITE_URL = site
    text = render(longest, kind)
    assert_one_sms(text)
    link = link_in(text, site)
    assert text.endswith(f" {link}")  # whole, last
    assert link == f"{site}/r/{longest.token}"
    assert_link_opens_the_page(link, longest)
    with timefmt.using(longest.structure):
        when = timefmt.short_when(longest.start)
    assert when in text  # the date and the time always stay
    assert "14h45" in when
    if kind != MessageKind.CANCELLATION:
        assert ", Médiathèque" in text  # where, if shortened


@pytest.mark.django_db
@pytest.mark.parametrize("kind", MessageKind.values)
@pytest.mark.parametrize("where", [LocationType.PHONE, LocationType.HOME, LocationType.VISIO])
def test_away_from_a_place_it_says_how(longest, settings, kind, where):
    settings.SITE_URL = PRODUCTION
    longest.location_type = where
    longest.save()
    text = render(longest, kind)
    assert_one_sms(text)
    assert text.endswith(f" {PRODUCTION}/r/{longest.token}")
    assert "Médiathèque" not in text
    if kind != MessageKind.CANCELLATION:
        said = {"phone": "par téléphone", "home": "à votre domicile", "visio": "en visio"}
        assert said[where] in text


@pytest.mark.django_db
def test_a_cancellation_by_the_service_apologises_when_there_is_room(personas, settings):
    settings.SITE_URL = SHORT_HOST
    appointment = personas.appointment_a
    appointment.status = Status.REVOKED
    text = render(appointment, MessageKind.CANCELLATION)
    assert_one_sms(text)
    assert "est annulé. Toutes nos excuses." in text
    assert text.endswith(f"Reprendre RDV : {SHORT_HOST}/r/{appointment.token}")


@pytest.mark.django_db
def test_what_goes_first_when_it_is_too_long(personas, settings):
    """The address goes first, then the motif, then the words before the link; then the
    place's name is shortened, then the structure's; then the structure's goes."""
    settings.SITE_URL = "https://a.fr"
    appointment = personas.appointment_a
    structure, place, motif = personas.a, personas.place_a, personas.motif_a
    kind = MessageKind.CONFIRMATION
    # The date at its longest (« jeu. 23/12 14h »: two-digit day and month), so that what
    # fits below does not depend on the day the suite runs.
    day = timezone.localdate()
    while day.day < 10 or day.month < 10:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(14), tzinfo=PARIS)
    Appointment.objects.filter(pk=appointment.pk).update(
        start=start,
        end=start + dt.timedelta(hours=1),
        blocked_start=start,
        blocked_end=start + dt.timedelta(hours=1),
    )
    # A short motif: everything fits whatever the date (« jeu. 23/12 14h » is the longest).
    motif.title = "Mail"
    motif.save()
    appointment.refresh_from_db()
    full = render(appointment, kind)
    assert_one_sms(full)
    assert ", Club des seniors, 1 rue de la Mairie, Ville. Mail. Voir ou annuler : " in full

    motif.title = "Apprendre à utiliser mon téléphone"
    motif.save()
    appointment.refresh_from_db()
    text = render(appointment, kind)
    assert "1 rue de la Mairie" not in text
    assert "Club des seniors. Apprendre à utiliser mon téléphone. Voir ou annuler : " in text

    motif.title = "Faire ses démarches administratives en ligne sans stress et en confiance"
    motif.save()
    appointment.refresh_from_db()
    text = render(appointment, kind)
    assert "démarches" not in text
    assert "Club des seniors. Voir ou annuler : " in text

    place.name = "Maison France Services de la Ville A et de ses communes voisines"
    place.save()
    settings.SITE_URL = "https://mediation-numerique.ville-a.fr"
    appointment.refresh_from_db()
    text = render(appointment, kind)
    assert_one_sms(text)
    assert "Voir ou annuler" not in text
    assert text.startswith("Ville A : RDV confirmé ")
    assert ", Maison France Services de la Ville A" in text
    assert f"... {settings.SITE_URL}/r/" in text
    assert gsm.gsm7_length(text) >= 150  # shortened no more than needed

    structure.name = "Centre communal d'action sociale de la Ville A"
    structure.save()
    appointment.refresh_from_db()
    text = render(appointment, kind)
    assert_one_sms(text)
    assert text.startswith("Centre communal d'action... : RDV confirmé ")  # 30 at most
    assert ", Maison France Service... https://" in text

    settings.SITE_URL = "https://mediation-numerique.ville-de-saint-germain.fr"
    text = render(appointment, kind)
    assert_one_sms(text)
    assert text.startswith("Centre communal... : RDV confirmé "), text
    assert ", Maison France... https://" in text

    structure.name = "Centre communal d'action sociale de la Communauté d'agglomération"
    structure.save()
    place.name = "Médiathèque"
    place.save()
    settings.SITE_URL = "https://mediation-numerique.ville-de-saint-germain-en-laye-cedex.fr"
    appointment.refresh_from_db()
    text = render(appointment, kind)
    assert_one_sms(text)
    assert text.startswith("RDV confirmé "), text  # the sender's name says who writes
    assert ", Médiathèque. https://" in text


@pytest.mark.django_db
def test_the_link_is_never_cut_even_on_an_absurdly_long_host(longest, settings):
    site = "https://" + "tres-long-" * 10 + "example.fr"
    settings.SITE_URL = site
    text = render(longest, MessageKind.REMINDER)
    assert text.endswith(f" {site}/r/{longest.token}")
    assert_one_sms(text)
    settings.SITE_URL = site = "https://" + "tres-long-" * 12 + "example.fr"
    assert render(longest, MessageKind.REMINDER) == f"{site}/r/{longest.token}"


@pytest.mark.django_db
def test_the_short_link_checks_the_token(personas, client):
    token = personas.appointment_a.token
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/r/{token}").status_code == 302
    assert client.get(f"/r/{forged}").status_code == 404
    assert client.get("/r/x").status_code == 404
    assert client.post(f"/r/{token}").status_code == 405
