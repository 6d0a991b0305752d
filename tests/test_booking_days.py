"""Residents find a time in two taps: the next free times, then the days with free times
(« Jeudi 10 décembre — 11 créneaux »), each a plain link to that day's times (`?jour=`).
Also: « Prendre rendez-vous ici » on a place's page, how to register for a presence
« sur inscription », and how the resident keeps the private link.

Structure A's advisor is at the seniors' club every Thursday 14:00–17:00 (presence_a): a 30-minute
motif starts every quarter of an hour from 14:00 to 16:30, eleven times a Thursday. Every date is
computed from the frozen « now », never written down.
"""

import datetime as dt
import html
import re
from pathlib import Path
from urllib.parse import quote, unquote, urljoin

import pytest
from django.core.management import call_command
from django.utils import timezone

from lien.appointments.models import Appointment, LocationType, Motif
from lien.appointments.selectors import distinct_times, slots_for
from lien.places.models import Place
from lien.schedule.models import Presence
from tests.conftest import open_thursday

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

DAY_LINK = re.compile(
    r'<li><a href="\?jour=([0-9-]+)"( aria-current="page")?>([^<]+?) '
    r'<span class="count">— (\d+) créneaux?</span></a></li>'
)
TIME_LINK = re.compile(r'href="([^"]*\?debut=([^"&]+))"')


# --- Helpers --------------------------------------------------------------------------------
@pytest.fixture
def motif(personas) -> Motif:
    motif = Motif.objects.create(structure=personas.a, title="Refaire ma carte d’identité")
    motif.places.add(personas.place_a)
    return motif


def text(response) -> str:
    """The page's text, no-break spaces and typographic apostrophes made plain."""
    body = response.content.decode()
    return re.sub("[\u00a0\u202f]", " ", body).replace("’", "'").replace("&#x27;", "'")


def slots_url(motif: Motif, place: Place | None, **query: str) -> str:
    url = f"/{motif.structure.slug}/rendez-vous/{motif.pk}/{place.pk if place else 0}/creneaux/"
    return url + ("?" + "&".join(f"{k}={quote(v)}" for k, v in query.items()) if query else "")


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def expected_days(motif: Motif, place: Place | None) -> dict[dt.date, list]:
    """The free times by local day, straight from the slot engine."""
    out: dict[dt.date, list] = {}
    for slot in distinct_times(slots_for(motif, place=place)):
        out.setdefault(local_day(slot.start), []).append(slot)
    return out


def listed_days(body: str) -> list[tuple[dt.date, str, int, bool]]:
    """(day, label, count, current) for each day of the page's list, in page order."""
    return [
        (dt.date.fromisoformat(day), label, int(count), bool(current))
        for day, current, label, count in DAY_LINK.findall(body)
    ]


def times_on_page(body: str) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(unquote(v)) for _href, v in TIME_LINK.findall(body)]


def book(client, motif: Motif, place: Place | None, start: dt.datetime, **extra) -> Appointment:
    url = f"/{motif.structure.slug}/rendez-vous/{motif.pk}/{place.pk if place else 0}/reserver/"
    value = timezone.localtime(start).isoformat(timespec="minutes")
    data = {"first_name": "Josiane", "last_name": "", "phone": "0698765432", "email": ""}
    data.update(extra)
    response = client.post(f"{url}?debut={quote(value)}", {**data, "note": "", "site_web": ""})
    assert response.status_code == 302, text(response)
    return Appointment.objects.filter(channel="online").latest("pk")


# --- The days list ----------------------------------------------------------------------------
@pytest.mark.parametrize("zone", ["Europe/Paris", "Indian/Reunion", "America/Santiago", "UTC"])
def test_free_days_groups_by_local_day_across_daylight_saving_changes(zone):
    """free_days converts only the first slot of each day: it must agree with converting
    every slot, over a year from now (both DST changes of the zone), in the active zone."""
    from zoneinfo import ZoneInfo

    from lien.appointments.slots import Slot
    from lien.appointments.views_public import free_days

    tz = ZoneInfo(zone)
    start = timezone.now().replace(second=0, microsecond=0)
    slots = [
        Slot(start + dt.timedelta(minutes=37 * i), start + dt.timedelta(minutes=37 * i + 30), 1)
        for i in range(0, 366 * 24 * 60 // 37)
    ]
    expected: dict[dt.date, list] = {}
    for slot in slots:
        expected.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    with timezone.override(tz):
        assert free_days(slots) == expected
    assert free_days([]) == {}


def test_times_screen_lists_the_next_times_then_every_day_with_its_count(personas, motif, client):
    expected = expected_days(motif, personas.place_a)
    free = [s for slots in expected.values() for s in slots]
    response = client.get(slots_url(motif, personas.place_a))
    assert response.status_code == 200
    body = text(response)
    assert "<script" not in body
    # First the next six free times, as before.
    assert times_on_page(body) == [s.start for s in free[:6]]
    # Then every day with a free time, in order, with how many.
    days = listed_days(body)
    assert [(d, n) for d, _label, n, _current in days] == [
        (day, len(slots)) for day, slots in expected.items()
    ]
    assert not any(current for *_rest, current in days)
    # A Thursday the advisor is there, nothing booked: eleven quarter-hour starts.
    thursday = open_thursday(personas)
    label, count = next((label, n) for d, label, n, _c in days if d == thursday)
    assert count == 11
    assert label.startswith("Jeudi ") and re.search(rf"\b{thursday.day}(er)?\b", label)
    assert f'href="?jour={thursday.isoformat()}"' in body
    assert "11 créneaux" in body
    # Every listed day is a Thursday within the motif's booking horizon (56 days).
    today = timezone.localdate()
    assert all(d.weekday() == 3 and today <= d <= today + dt.timedelta(days=56) for d, *_ in days)
    # The cancelled Thursday (exception_a) and the days without presence are not listed.
    assert personas.exception_a.date not in [d for d, *_ in days]
    assert "Voir plus de créneaux" not in body


def test_counts_follow_the_bookings(personas, motif, client):
    thursday = open_thursday(personas)
    first = expected_days(motif, personas.place_a)[thursday][0]
    book(client, motif, personas.place_a, first.start)
    body = text(client.get(slots_url(motif, personas.place_a)))
    counts = {d: n for d, _label, n, _c in listed_days(body)}
    # 14:00–14:30 taken: 14:00 and 14:15 are gone (a 30-minute appointment from 14:15 would
    # overlap it), nine times are left.
    assert counts[thursday] == 9


def test_a_day_fully_booked_is_no_longer_listed(personas, motif, client):
    motif.duration = 180  # one appointment fills the whole Thursday afternoon
    motif.save()
    thursday = open_thursday(personas)
    [only] = expected_days(motif, personas.place_a)[thursday]
    book(client, motif, personas.place_a, only.start)
    body = text(client.get(slots_url(motif, personas.place_a)))
    assert thursday not in [d for d, *_ in listed_days(body)]
    # Its link, kept from an earlier visit, says so kindly.
    late = client.get(slots_url(motif, personas.place_a, jour=thursday.isoformat()))
    assert late.status_code == 200
    assert "Plus de créneau libre ce jour-là." in text(late)


def test_the_list_stops_at_the_motifs_horizon(personas, motif, client):
    motif.max_delay_days = 10
    motif.save()
    days = listed_days(text(client.get(slots_url(motif, personas.place_a))))
    assert days, "presence_a gives a Thursday within any ten days"
    assert all(d <= timezone.localdate() + dt.timedelta(days=10) for d, *_ in days)
    assert len(days) <= 2


def test_a_days_link_shows_all_its_times(personas, motif, client):
    thursday = open_thursday(personas, weeks_ahead=2)
    expected = expected_days(motif, personas.place_a)[thursday]
    response = client.get(slots_url(motif, personas.place_a, jour=thursday.isoformat()))
    assert response.status_code == 200
    body = text(response)
    assert "<script" not in body
    assert times_on_page(body) == [s.start for s in expected]
    assert len(expected) == 11
    assert {timezone.localtime(s.start).date() for s in expected} == {thursday}
    # The day's heading, the day marked in the list of other days, a way back.
    assert re.search(r'<h2 id="jour-1">Jeudi [^<]+</h2>', body)
    current = [d for d, _label, _n, is_current in listed_days(body) if is_current]
    assert current == [thursday]
    assert "Un autre jour" in body
    assert f'href="{slots_url(motif, personas.place_a)}"' in body
    # Each time leads to the form; the form leads back to this day.
    form = text(client.get(html.unescape(TIME_LINK.search(body).group(1))))
    assert f"{slots_url(motif, personas.place_a)}?jour={thursday.isoformat()}" in form


@pytest.mark.parametrize(
    "offset", [-1, 1, 2, 400], ids=["yesterday", "tomorrow-if-not-thursday", "no-presence", "far"]
)
def test_a_day_without_free_time_says_so_with_the_days_list(personas, motif, client, offset):
    today = timezone.localdate()
    day = today + dt.timedelta(days=offset)
    if day.weekday() == 3:  # presence_a's day: take the Friday after
        day += dt.timedelta(days=1)
    response = client.get(slots_url(motif, personas.place_a, jour=day.isoformat()))
    assert response.status_code == 200
    body = text(response)
    assert "Plus de créneau libre ce jour-là." in body and 'role="alert"' in body
    assert times_on_page(body) == []
    assert listed_days(body)  # the days to choose from instead


def test_the_cancelled_thursday_is_not_offered(personas, motif, client):
    day = personas.exception_a.date
    response = client.get(slots_url(motif, personas.place_a, jour=day.isoformat()))
    assert "Plus de créneau libre ce jour-là." in text(response)
    assert times_on_page(text(response)) == []


@pytest.mark.parametrize("value", ["hier", "2026-13-45", "", "9" * 60, "²", "2026-02-30"])
def test_a_garbled_day_is_a_french_400_with_the_days_list(personas, motif, client, value):
    response = client.get(slots_url(motif, personas.place_a, jour=value))
    assert response.status_code == 400
    body = text(response)
    assert "Cette date n'est pas reconnue." in body
    assert times_on_page(body) == []
    assert listed_days(body)


def test_another_structures_motif_has_no_days_here(personas, client):
    theirs = personas.motif_b
    url = f"/ville-a/rendez-vous/{theirs.pk}/{personas.place_b.pk}/creneaux/?jour=2000-01-01"
    assert client.get(url).status_code == 404


def test_nothing_free_at_all(personas, motif, client):
    Presence.objects.filter(structure=personas.a).delete()
    body = text(client.get(slots_url(motif, personas.place_a)))
    assert "Il n'y a pas d'horaire libre pour le moment." in body
    assert listed_days(body) == []


def test_moving_offers_the_days_too(personas, motif, client):
    appointment = book(
        client,
        motif,
        personas.place_a,
        expected_days(motif, personas.place_a)[open_thursday(personas)][0].start,
    )
    later = open_thursday(personas, weeks_ahead=3)
    page = text(client.get(f"/rdv/{appointment.token}/changer/"))
    assert later in [d for d, *_ in listed_days(page)]
    day = text(client.get(f"/rdv/{appointment.token}/changer/?jour={later.isoformat()}"))
    links = re.findall(rf'href="/rdv/{appointment.token}/changer/\?debut=([^"]+)"', day)
    assert len(links) == 11
    assert {local_day(dt.datetime.fromisoformat(unquote(v))) for v in links} == {later}
    bad = client.get(f"/rdv/{appointment.token}/changer/?jour=demain")
    assert bad.status_code == 400 and "Cette date n'est pas reconnue." in text(bad)


# --- « Prendre rendez-vous ici » --------------------------------------------------------------
def test_a_place_with_one_motif_links_straight_to_its_times(personas, motif, client):
    personas.motif_a.places.remove(personas.place_a)  # the fixture's own motif: not here
    body = text(client.get("/ville-a/lieux/club-seniors/"))
    assert "Prendre rendez-vous ici" in body
    assert f'href="{slots_url(motif, personas.place_a)}"' in body
    listing = text(client.get("/ville-a/lieux/"))
    assert f'href="{slots_url(motif, personas.place_a)}"' in listing


def test_a_place_with_several_motifs_offers_them_there(personas, motif, client):
    # personas.motif_a and `motif` are both offered at the club.
    body = text(client.get("/ville-a/lieux/club-seniors/"))
    start = f"/ville-a/rendez-vous/?lieu={personas.place_a.pk}"
    assert f'href="{start}"' in body and "Prendre rendez-vous ici" in body
    response = client.get(start)
    assert response.status_code == 200
    page = text(response)
    assert "<script" not in page and "Club des seniors" in page
    for offered in (motif, personas.motif_a):
        assert f'href="{slots_url(offered, personas.place_a)}"' in page
    assert 'href="/ville-a/rendez-vous/"' in page  # every motif, every place
    # With one motif left there, the same link goes straight to its times.
    personas.motif_a.places.remove(personas.place_a)
    again = client.get(start)
    assert again.status_code == 302 and again["Location"] == slots_url(motif, personas.place_a)


@pytest.mark.parametrize(
    "change",
    ["inactive", "phone_only", "remote", "elsewhere"],
)
def test_no_book_here_link_where_nothing_can_be_booked(personas, motif, client, change):
    second = Place.objects.create(
        structure=personas.a,
        slug="mediatheque",
        name="Médiathèque",
        kind="library",
        address="2 rue des Livres",
        postcode="77000",
        city="Ville",
    )
    for item in (motif, personas.motif_a):
        if change == "inactive":
            item.active = False
        elif change == "phone_only":
            item.bookable_by_residents = False
        elif change == "remote":
            item.location_type = LocationType.PHONE
        item.save()
        if change == "elsewhere":
            item.places.set([second])
    body = text(client.get("/ville-a/lieux/club-seniors/"))
    assert "Prendre rendez-vous ici" not in body
    listing = text(client.get("/ville-a/lieux/"))
    assert listing.count("Prendre rendez-vous ici") == (1 if change == "elsewhere" else 0)


@pytest.mark.parametrize("value", ["abc", "0", "", "999999"])
def test_a_bad_place_in_the_start_link_is_not_found(personas, client, value):
    response = client.get(f"/ville-a/rendez-vous/?lieu={value}")
    assert response.status_code == 404
    assert "Page introuvable" in text(response)


def test_start_link_ignores_other_structures_and_hidden_places(personas, client):
    assert client.get(f"/ville-a/rendez-vous/?lieu={personas.place_b.pk}").status_code == 404
    personas.place_a.published = False
    personas.place_a.save()
    assert client.get(f"/ville-a/rendez-vous/?lieu={personas.place_a.pk}").status_code == 404


# --- « Sur inscription » ----------------------------------------------------------------------
def _workshop(personas, note: str) -> Presence:
    """A Tuesday presence at the club with `note`, from last week on."""
    return Presence.objects.create(
        structure=personas.a,
        advisor=personas.advisor,
        place=personas.place_a,
        weekday=1,
        start=dt.time(9),
        end=dt.time(11),
        valid_from=timezone.localdate() - dt.timedelta(weeks=1),
        note=note,
    )


def test_a_presence_on_registration_gives_the_number_to_call(personas, client):
    _workshop(personas, "Atelier collectif, sur inscription")
    tuesday = timezone.localdate() + dt.timedelta(days=(1 - timezone.localdate().weekday()) % 7)
    week = text(client.get(f"/ville-a/cette-semaine/?semaine={tuesday.isoformat()}"))
    place = text(client.get("/ville-a/lieux/club-seniors/"))
    for body in (week, place):
        assert "Atelier collectif, sur inscription" in body
        assert "Inscription par téléphone au" in body
        assert re.search(
            r'Inscription par téléphone au <a href="tel:\+33164000000">01 64 00 00 00', body
        )
    # The place's own number first, when it has one.
    personas.place_a.phone = "+33160000001"
    personas.place_a.save()
    place = text(client.get("/ville-a/lieux/club-seniors/"))
    assert 'Inscription par téléphone au <a href="tel:+33160000001">01 60 00 00 01' in place


def test_the_home_page_says_how_to_register_too(personas, client):
    Presence.objects.filter(structure=personas.a).delete()
    _workshop(personas, "Sur Inscription — 8 places")
    body = text(client.get("/ville-a/"))
    assert "Inscription par téléphone au" in body


def test_other_presences_say_nothing_about_registering(personas, client):
    _workshop(personas, "Apportez votre tablette")
    body = text(client.get("/ville-a/lieux/club-seniors/"))
    assert "Apportez votre tablette" in body
    assert "Inscription par téléphone" not in body


# --- Keeping the private link ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("contact", "sms", "sentence"),
    [
        ({"email": "josiane@example.fr", "phone": ""}, "console", "envoyé par e-mail"),
        ({"phone": "0698765432"}, "console", "envoyé par SMS :"),
        (
            {"phone": "0698765432", "email": "josiane@example.fr"},
            "console",
            "par SMS et par e-mail",
        ),
        ({"phone": "0698765432"}, "none", "Ajoutez cette page à vos favoris, ou imprimez-la"),
    ],
    ids=["e-mail", "sms", "both", "sms-off"],
)
def test_the_private_page_says_how_to_keep_the_link(
    personas, motif, client, settings, contact, sms, sentence
):
    settings.SMS_BACKEND = sms
    start = expected_days(motif, personas.place_a)[open_thursday(personas)][0].start
    appointment = book(client, motif, personas.place_a, start, **contact)
    response = client.get(f"/rdv/{appointment.token}/")
    body = text(response)
    assert "Gardez cette page" in body
    assert sentence in body
    # A print button, hidden until its script (the CSP forbids inline handlers) shows it.
    assert re.search(r'<p class="print-action" hidden><button type="button"[^>]*>Imprimer', body)
    assert '<script src="/static/js/print.js" defer></script>' in body
    assert "onclick" not in body
    # The printed page carries the address of the page.
    assert f'<span class="page-url">http://testserver/rdv/{appointment.token}/</span>' in body


def test_the_print_script_is_served_and_only_wires_the_button():
    from django.contrib.staticfiles import finders

    source = Path(finders.find("js/print.js")).read_text(encoding="utf-8")
    assert "window.print()" in source and "hidden = false" in source
    assert "innerHTML" not in source and "fetch(" not in source


def test_a_cancelled_appointment_page_has_no_print_button(personas, motif, client):
    start = expected_days(motif, personas.place_a)[open_thursday(personas)][0].start
    appointment = book(client, motif, personas.place_a, start)
    client.post(f"/rdv/{appointment.token}/annuler/")
    body = text(client.get(f"/rdv/{appointment.token}/"))
    assert "Ce rendez-vous est annulé" in body
    assert "<script" not in body and "Imprimer" not in body


# --- Taps, with the demo's data -------------------------------------------------------------
def _links(body: str) -> list[tuple[str, str]]:
    """(href, text) of each link of a page, the text without tags."""
    return [
        (html.unescape(href), " ".join(re.sub(r"<[^>]+>", " ", inner).split()))
        for href, inner in re.findall(r'<a [^>]*?href="([^"]+)"[^>]*>(.*?)</a>', body, re.S)
    ]


def _tap(client, page, *, text_matches: str = "", href_matches: str = ""):
    """Follow the first link of `page` (a response) whose text or address matches: one tap.
    Returns the page it leads to (after redirects) and the address followed."""
    here = f"http://testserver{page.request['PATH_INFO']}"
    for href, label in _links(text(page)):
        if (text_matches and re.search(text_matches, label)) or (
            href_matches and re.search(href_matches, href)
        ):
            url = urljoin(here, href)
            response = client.get(url, follow=True)
            assert response.status_code == 200, url
            return response, url
    raise AssertionError(f"no link {text_matches or href_matches!r} in {_links(text(page))}")


def test_a_resident_books_a_week_ahead_in_six_taps_without_javascript(client, db, settings):
    """From the town's home page to a confirmed booking on a day at least a week away, on the
    demo's data, following plain links (no JavaScript): home → « Prendre rendez-vous » → motif
    → place → day → time → « Réserver » = 6 taps (typing in the fields not counted)."""
    call_command("load_demo", quiet=True)
    taps = 0
    page = client.get("/villebrie/")
    assert page.status_code == 200
    page, _url = _tap(client, page, text_matches=r"^Prendre rendez-vous$")
    taps += 1
    page, _url = _tap(client, page, text_matches=r"Apprendre à utiliser mon téléphone")
    taps += 1
    if "<h1>Où ?</h1>" in text(page):  # several places offer this motif
        page, _url = _tap(client, page, href_matches=r"/creneaux/$")
        taps += 1
    assert "Quel jour, à quelle heure ?" in text(page)
    week_away = timezone.localdate() + dt.timedelta(days=7)
    target = next(d for d, *_ in listed_days(text(page)) if d >= week_away)
    page, _url = _tap(client, page, href_matches=rf"^\?jour={target.isoformat()}$")
    taps += 1
    page, url = _tap(client, page, href_matches=r"/reserver/\?debut=")
    taps += 1
    assert "Votre nom et votre numéro" in text(page)
    response = client.post(
        url, {"first_name": "Josiane", "phone": "06 98 76 54 32", "note": "", "site_web": ""}
    )
    taps += 1
    assert response.status_code == 302 and response["Location"].startswith("/rdv/")
    token = response["Location"].split("/")[2]
    booked = Appointment.objects.by_token(token)
    assert booked is not None and booked.first_name == "Josiane"
    assert local_day(booked.start) == target >= week_away
    assert taps <= 6
