"""Residents book without an account: motif → place → time → form → private page.

Structure A's advisor is at the seniors' club every Thursday 14:00–17:00 (presence_a). The
times used are read from the slot engine itself (the first free one at least three days
ahead), so the tests hold whatever day they run on.
"""

import datetime as dt
import re
from urllib.parse import quote

import pytest
from django.utils import timezone

from lien.appointments.models import Appointment, LocationType, Motif, Status
from lien.appointments.selectors import distinct_times, slots_for
from lien.appointments.services import policy_for
from lien.places.models import Place
from lien.schedule.models import Presence, PresenceMode

pytestmark = pytest.mark.django_db

BRING = "Votre ancienne carte d’identité et un justificatif de domicile."


# --- Fixtures and helpers -------------------------------------------------------------------
@pytest.fixture
def motif(personas) -> Motif:
    motif = Motif.objects.create(
        structure=personas.a,
        title="Refaire ma carte d’identité",
        description="Nous vous aidons à remplir la pré-demande en ligne.",
        duration=30,
        what_to_bring=BRING,
    )
    motif.places.add(personas.place_a)
    return motif


@pytest.fixture
def phone_motif(personas) -> Motif:
    Presence.objects.create(
        structure=personas.a,
        advisor=personas.advisor,
        mode=PresenceMode.PHONE,
        weekday=1,
        start=dt.time(9),
        end=dt.time(11),
        valid_from=dt.date(2026, 9, 1),
    )
    return Motif.objects.create(
        structure=personas.a, title="Être rappelé", location_type=LocationType.PHONE
    )


@pytest.fixture
def home_motif(personas) -> Motif:
    Presence.objects.create(
        structure=personas.a,
        advisor=personas.advisor,
        mode=PresenceMode.HOME,
        weekday=4,
        start=dt.time(9),
        end=dt.time(12),
        valid_from=dt.date(2026, 9, 4),
    )
    return Motif.objects.create(
        structure=personas.a, title="Visite à domicile", location_type=LocationType.HOME
    )


def online():
    """Appointments booked by residents (the personas come with staff-made ones)."""
    return Appointment.objects.filter(channel="online")


def free(motif: Motif, place: Place | None = None) -> list:
    return distinct_times(slots_for(motif, place=place))


def ahead(motif: Motif, place: Place | None = None, days: int = 3, skip: int = 0):
    """A free slot at least `days` days from now (the `skip`-th one)."""
    limit = timezone.now() + dt.timedelta(days=days)
    found = [s for s in free(motif, place) if s.start >= limit]
    assert len(found) > skip, "no free slot ahead: check presence_a and the motif"
    return found[skip]


def iso(moment: dt.datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="minutes")


def day_of(moment: dt.datetime) -> str:
    """The `jour` parameter of the times screen that lists `moment`."""
    return timezone.localtime(moment).date().isoformat()


def slots_url(motif: Motif, place: Place | None) -> str:
    return f"/{motif.structure.slug}/rendez-vous/{motif.pk}/{place.pk if place else 0}/creneaux/"


def book_url(motif: Motif, place: Place | None, start: dt.datetime | None = None) -> str:
    url = f"/{motif.structure.slug}/rendez-vous/{motif.pk}/{place.pk if place else 0}/reserver/"
    return f"{url}?debut={quote(iso(start))}" if start else url


def details(**extra) -> dict:
    data = {
        "first_name": "Josiane",
        "last_name": "Morel",
        "phone": "06 98 76 54 32",
        "email": "",
        "note": "Je n’ai pas d’ordinateur.",
        "site_web": "",
    }
    data.update(extra)
    return data


def book(client, motif, place, start, **extra):
    return client.post(book_url(motif, place, start), details(**extra))


def text(response) -> str:
    """The page's text, apostrophes made plain so that messages compare either way."""
    return response.content.decode().replace("’", "'").replace("&#x27;", "'")


def no_script(response) -> None:
    assert "<script" not in response.content.decode()


PRINT_SCRIPT = '<script src="/static/js/print.js" defer></script>'


def only_the_print_script(response) -> None:
    """The private page of an upcoming appointment loads one script, its print button's (the
    CSP forbids inline handlers); everything else works without it."""
    body = response.content.decode()
    assert body.count("<script") == 1 and PRINT_SCRIPT in body


# --- Screen 1: what -------------------------------------------------------------------------
def test_start_lists_the_motifs_residents_may_book(personas, motif, client):
    Motif.objects.create(structure=personas.a, title="Motif réservé à l’équipe", active=False)
    Motif.objects.create(
        structure=personas.a, title="Uniquement au téléphone", bookable_by_residents=False
    )
    response = client.get("/ville-a/rendez-vous/")
    assert response.status_code == 200
    no_script(response)
    body = text(response)
    assert "De quoi avez-vous besoin\u202f?" in body
    assert "Refaire ma carte d'identité" in body
    assert "Nous vous aidons à remplir la pré-demande en ligne." in body
    assert f'href="/ville-a/rendez-vous/{motif.pk}/"' in body
    assert "Motif réservé" not in body and "Uniquement au téléphone" not in body
    assert f"/rendez-vous/{personas.motif_b.pk}/" not in body  # structure B's
    assert "Vous préférez appeler\u202f?" in body
    assert 'href="tel:+33164000000"' in body and "01 64 00 00 00" in body


def test_start_without_motif_says_so_and_gives_the_phone(personas, client):
    Motif.objects.filter(structure=personas.a).update(active=False)
    response = client.get("/ville-a/rendez-vous/")
    assert response.status_code == 200
    body = text(response)
    assert "pas possible de prendre rendez-vous en ligne" in body
    assert "01 64 00 00 00" in body


def test_unknown_structure_is_not_found(client, db):
    assert client.get("/nulle-part/rendez-vous/").status_code == 404


# --- Screen 2: where ------------------------------------------------------------------------
def test_place_step_is_skipped_with_a_single_place(personas, motif, client):
    response = client.get(f"/ville-a/rendez-vous/{motif.pk}/")
    assert response.status_code == 302
    assert response["Location"] == slots_url(motif, personas.place_a)


def test_place_step_is_skipped_for_remote_motifs(phone_motif, client):
    response = client.get(f"/ville-a/rendez-vous/{phone_motif.pk}/")
    assert response.status_code == 302
    assert response["Location"] == slots_url(phone_motif, None)


def test_place_step_lists_published_places_with_their_first_free_time(personas, motif, client):
    second = Place.objects.create(
        structure=personas.a,
        slug="mediatheque",
        name="Médiathèque",
        kind="library",
        address="2 rue des Livres",
        postcode="77000",
        city="Ville",
    )
    hidden = Place.objects.create(
        structure=personas.a,
        slug="cache",
        name="Lieu non publié",
        kind="office",
        address="3 rue",
        postcode="77000",
        city="Ville",
        published=False,
    )
    motif.places.add(second, hidden)
    response = client.get(f"/ville-a/rendez-vous/{motif.pk}/")
    assert response.status_code == 200
    no_script(response)
    body = text(response)
    assert "<h1>Où\u202f?</h1>" in body
    assert "Club des seniors" in body and "Médiathèque" in body
    assert "Lieu non publié" not in body
    assert f'href="{slots_url(motif, personas.place_a)}"' in body
    assert f'href="{slots_url(motif, second)}"' in body
    assert "Premier horaire libre" in body  # the club
    assert "Pas d'horaire libre pour le moment." in body  # the library has no presence
    # An unpublished place is not offered on the next screens either.
    assert client.get(slots_url(motif, hidden)).status_code == 404


# --- Screen 3: when -------------------------------------------------------------------------
def test_times_show_the_next_six_grouped_by_day_then_the_days(personas, motif, client):
    times = free(motif, personas.place_a)
    assert len(times) > 12
    response = client.get(slots_url(motif, personas.place_a))
    assert response.status_code == 200
    no_script(response)
    body = text(response)
    links = re.findall(r'href="[^"]*/reserver/\?debut=([^"]+)"', body)
    assert links == [quote(iso(s.start), safe="") for s in times[:6]]
    first = timezone.localtime(times[0].start)
    assert re.search(r"<h2 id=\"jour-1\">(Aujourd'hui|Demain|\w+ \d+(?:er)? \w+)</h2>", body)
    label = re.search(r"<h2 id=\"jour-1\">([^<]+)</h2>", body).group(1)
    if label not in ("Aujourd'hui", "Demain"):
        assert label.lower().startswith("jeudi") and str(first.day) in label
    assert re.search(rf"{first.hour}\s+h", body)
    # Then every day with free times, a link each (tests/test_booking_days.py has the rest);
    # no more « Voir plus » paging.
    assert "Voir plus de créneaux" not in body and "?plus=" not in body
    assert f'href="?jour={timezone.localtime(times[0].start).date().isoformat()}"' in body


def test_times_screen_with_nothing_free(personas, motif, client):
    Presence.objects.all().delete()
    body = text(client.get(slots_url(motif, personas.place_a)))
    assert "Il n'y a pas d'horaire libre pour le moment." in body
    assert "01 64 00 00 00" in body


# --- Screen 4: who --------------------------------------------------------------------------
def test_form_shows_the_chosen_time_and_a_hidden_honeypot(personas, motif, client):
    slot = ahead(motif, personas.place_a)
    response = client.get(book_url(motif, personas.place_a, slot.start))
    assert response.status_code == 200
    no_script(response)
    body = text(response)
    local = timezone.localtime(slot.start)
    assert f"à {local.hour}\u00a0h" in body
    assert "Club des seniors" in body and "1 rue de la Mairie" in body
    assert 'name="first_name"' in body and 'autocomplete="given-name"' in body
    assert 'type="tel"' in body and 'type="email"' in body
    assert "Un mot pour le conseiller" in body
    assert 'name="address"' not in body  # only for home visits
    honeypot = re.search(r'<div class="visually-hidden" aria-hidden="true">.*?</div>', body)
    assert honeypot and 'name="site_web"' in honeypot.group(0)
    assert 'tabindex="-1"' in honeypot.group(0) and 'autocomplete="off"' in honeypot.group(0)
    assert f'name="debut" value="{iso(slot.start)}"' in body


def test_booking_creates_one_appointment_and_shows_the_private_page(personas, motif, client):
    slot = ahead(motif, personas.place_a)
    response = book(client, motif, personas.place_a, slot.start, email="Josiane@Example.FR")
    assert response.status_code == 302
    appointment = online().get()
    assert response["Location"] == f"/rdv/{appointment.token}/"
    assert appointment.start == slot.start and appointment.place == personas.place_a
    assert appointment.channel == "online" and appointment.created_by is None
    assert appointment.phone == "+33698765432" and appointment.email == "josiane@example.fr"
    assert appointment.first_name == "Josiane" and appointment.status == Status.UNKNOWN
    page = client.get(response["Location"])
    assert page.status_code == 200
    only_the_print_script(page)
    body = text(page)
    assert "C'est réservé" in body
    assert "Refaire ma carte d'identité" in body
    local = timezone.localtime(slot.start)
    assert f"de {local.hour}\u00a0h à " in body
    assert "Club des seniors" in body and "1 rue de la Mairie" in body
    assert "Avec Camille" in body
    assert "À apporter" in body and BRING.replace("’", "'") in body
    assert f'href="/rdv/{appointment.token}/annuler/"' in body
    assert f'href="/rdv/{appointment.token}/changer/"' in body
    assert "Annuler ce rendez-vous" in body and "Changer l'horaire" in body


def test_a_naive_iso_time_in_the_url_is_understood(personas, motif, client):
    slot = ahead(motif, personas.place_a)
    naive = timezone.localtime(slot.start).strftime("%Y-%m-%dT%H:%M")
    url = book_url(motif, personas.place_a) + f"?debut={naive}"
    assert client.get(url).status_code == 200
    response = client.post(url, details())
    assert response.status_code == 302
    assert online().get().start == slot.start


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"phone": "", "email": ""},
            "Indiquez un numéro de téléphone ou une adresse e-mail pour que nous puissions",
        ),
        ({"phone": "12"}, "Numéro de téléphone non valide\u00a0: «\u00a012\u00a0»"),
        ({"phone": "", "email": "josiane@"}, "Cette adresse e-mail n'est pas valide."),
        ({"first_name": "  "}, "Indiquez votre prénom."),
        ({"first_name": ""}, "Indiquez votre prénom."),
    ],
    ids=["no-contact", "bad-phone", "bad-email", "blank-first-name", "no-first-name"],
)
def test_bad_input_is_explained_in_french_and_nothing_is_saved(
    personas, motif, client, extra, message
):
    slot = ahead(motif, personas.place_a)
    response = book(client, motif, personas.place_a, slot.start, **extra)
    assert response.status_code == 400
    no_script(response)
    body = text(response)
    assert message in body
    assert not online().exists()
    # What was typed is kept, and the chosen time too.
    assert 'value="Morel"' in body
    assert "Je n'ai pas d'ordinateur." in body
    assert f'name="debut" value="{iso(slot.start)}"' in body


@pytest.mark.parametrize("debut", ["n-importe-quoi", "2026-13-45T25:00", "", "9" * 60])
def test_a_garbled_time_is_refused(personas, motif, client, debut):
    url = book_url(motif, personas.place_a) + (f"?debut={quote(debut)}" if debut else "")
    shown = client.get(url)
    assert shown.status_code == 200
    assert "Choisissez un horaire dans la liste." in text(shown)
    response = client.post(url, details())
    assert response.status_code == 400
    body = text(response)
    assert "Choisissez un horaire dans la liste." in body
    assert 'type="radio" name="debut"' in body  # the next free times, to pick from
    assert not online().exists()


def test_a_time_that_is_not_offered_is_refused(personas, motif, client):
    slot = ahead(motif, personas.place_a)
    odd = slot.start + dt.timedelta(minutes=7)  # not on the quarter-hour grid
    shown = client.get(book_url(motif, personas.place_a, odd))
    assert shown.status_code == 200
    assert "Cet horaire n'est plus libre." in text(shown)
    response = book(client, motif, personas.place_a, odd)
    assert response.status_code == 409
    assert "Ce créneau vient d'être réservé." in text(response)
    assert not online().exists()


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        (dt.timedelta(days=70), "Ce rendez-vous se prend au plus 56 jours à l'avance."),
        (-dt.timedelta(days=7), "Ce moment est déjà passé."),
    ],
    ids=["too-far", "past"],
)
def test_a_time_outside_the_booking_window_is_refused(personas, motif, client, shift, message):
    slot = ahead(motif, personas.place_a)
    when = slot.start + shift
    if shift < dt.timedelta(0):
        when = timezone.now() - dt.timedelta(days=2)
    response = book(client, motif, personas.place_a, when)
    assert response.status_code == 400
    assert message in text(response)
    assert not online().exists()


def test_a_time_before_the_minimum_delay_is_refused(personas, motif, client):
    slot = ahead(motif, personas.place_a)
    hours = int((slot.start - timezone.now()).total_seconds() // 3600) + 2
    motif.min_delay_hours = hours  # the slot is now too soon
    motif.save()
    response = book(client, motif, personas.place_a, slot.start)
    assert response.status_code == 400
    assert f"Ce rendez-vous se prend au moins {hours} heures à l'avance." in text(response)
    assert not online().exists()


def test_another_structures_motif_is_not_found_here(personas, client):
    theirs = personas.motif_b
    slot = ahead(theirs, personas.place_b)
    for url in [
        f"/ville-a/rendez-vous/{theirs.pk}/",
        f"/ville-a/rendez-vous/{theirs.pk}/{personas.place_b.pk}/creneaux/",
        f"/ville-a/rendez-vous/{theirs.pk}/{personas.place_b.pk}/reserver/",
    ]:
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/ville-a/rendez-vous/{theirs.pk}/{personas.place_b.pk}/reserver/"
        f"?debut={quote(iso(slot.start))}",
        details(),
    )
    assert response.status_code == 404
    assert "Page introuvable" in text(response)
    assert not online().exists()
    # Under its own structure it works.
    assert client.get(f"/asso-b/rendez-vous/{theirs.pk}/").status_code == 302


def test_a_place_not_offered_for_the_motif_is_not_found(personas, motif, client):
    other = Place.objects.create(
        structure=personas.a,
        slug="autre",
        name="Autre lieu",
        kind="office",
        address="4 rue",
        postcode="77000",
        city="Ville",
    )
    slot = ahead(motif, personas.place_a)
    for place_pk in (other.pk, personas.place_b.pk, 0):
        assert (
            client.get(f"/ville-a/rendez-vous/{motif.pk}/{place_pk}/creneaux/").status_code == 404
        )
        response = client.post(
            f"/ville-a/rendez-vous/{motif.pk}/{place_pk}/reserver/?debut={quote(iso(slot.start))}",
            details(),
        )
        assert response.status_code == 404
    assert not online().exists()


def test_a_remote_motif_takes_no_place(personas, phone_motif, client):
    url = f"/ville-a/rendez-vous/{phone_motif.pk}/{personas.place_a.pk}/creneaux/"
    assert client.get(url).status_code == 404
    assert client.get(slots_url(phone_motif, None)).status_code == 200


def test_a_motif_not_bookable_by_residents_gives_the_phone(personas, motif, client):
    motif.bookable_by_residents = False
    motif.save()
    slot = ahead(motif, personas.place_a)
    for url in [
        f"/ville-a/rendez-vous/{motif.pk}/",
        slots_url(motif, personas.place_a),
        book_url(motif, personas.place_a, slot.start),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        no_script(response)
        body = text(response)
        assert "Ce rendez-vous se prend uniquement par téléphone." in body
        assert "01 64 00 00 00" in body
    response = book(client, motif, personas.place_a, slot.start)
    assert response.status_code == 403
    assert "uniquement par téléphone" in text(response)
    assert not online().exists()


def test_an_inactive_motif_is_not_found(personas, motif, client):
    motif.active = False
    motif.save()
    assert client.get(f"/ville-a/rendez-vous/{motif.pk}/").status_code == 404
    assert client.get(slots_url(motif, personas.place_a)).status_code == 404


def test_honeypot_books_nothing_and_answers_neutrally(personas, motif, client):
    slot = ahead(motif, personas.place_a)
    response = book(client, motif, personas.place_a, slot.start, site_web="http://spam.example")
    assert response.status_code == 400
    body = text(response)
    assert "Votre demande n'a pas pu être envoyée." in body
    assert "spam.example" not in body  # the hidden field is given back empty
    assert 'value="Josiane"' in body  # a person's typing is kept
    assert not online().exists()
    # Sent again with the hidden field empty, as a person's browser would, it books.
    assert book(client, motif, personas.place_a, slot.start).status_code == 302


def test_phone_motif_needs_a_phone(personas, phone_motif, client):
    slot = ahead(phone_motif)
    response = book(client, phone_motif, None, slot.start, phone="", email="a@example.fr")
    assert response.status_code == 400
    assert "Indiquez votre numéro\u00a0: le conseiller vous appellera." in text(response)
    assert book(client, phone_motif, None, slot.start).status_code == 302
    appointment = online().get()
    assert appointment.place is None and appointment.location_type == LocationType.PHONE
    assert "Par téléphone" in text(client.get(f"/rdv/{appointment.token}/"))


def test_home_visit_asks_for_the_address(personas, home_motif, client):
    slot = ahead(home_motif)
    form = text(client.get(book_url(home_motif, None, slot.start)))
    assert 'name="address"' in form and 'autocomplete="street-address"' in form
    response = book(client, home_motif, None, slot.start)
    assert response.status_code == 400
    assert "Indiquez votre adresse" in text(response)
    response = book(client, home_motif, None, slot.start, address="12 rue des Lilas, Ville")
    assert response.status_code == 302
    appointment = online().get()
    assert appointment.address == "12 rue des Lilas, Ville"
    assert "12 rue des Lilas, Ville" in text(client.get(f"/rdv/{appointment.token}/"))


# --- Conflicts, limits --------------------------------------------------------------------
def test_a_time_taken_meanwhile_offers_the_next_ones(personas, motif, client):
    slot = ahead(motif, personas.place_a)
    assert book(client, motif, personas.place_a, slot.start).status_code == 302
    # Someone else had the same form open.
    shown = text(client.get(book_url(motif, personas.place_a, slot.start)))
    assert "Cet horaire n'est plus libre." in shown
    response = book(
        client, motif, personas.place_a, slot.start, first_name="Marcel", phone="0611223344"
    )
    assert response.status_code == 409
    no_script(response)
    body = text(response)
    assert "Ce créneau vient d'être réservé." in body
    assert 'value="Marcel"' in body and 'value="0611223344"' in body
    offered = re.findall(r'type="radio" name="debut" id="debut-\d" value="([^"]+)"', body)
    assert offered and iso(slot.start) not in offered
    assert online().count() == 1
    # Picking one of them books it, with what was typed.
    response = client.post(
        book_url(motif, personas.place_a, slot.start),
        details(first_name="Marcel", phone="0611223344", debut=offered[0]),
    )
    assert response.status_code == 302
    marcel = online().get(first_name="Marcel")
    assert iso(marcel.start) == offered[0]


@pytest.mark.usefixtures("frozen_clock")
def test_eleventh_booking_post_from_one_address_is_refused(personas, motif, client):
    slot = ahead(motif, personas.place_a)
    url = book_url(motif, personas.place_a, slot.start)
    for _ in range(10):
        assert client.post(url, details(first_name="")).status_code == 400
    response = client.post(url, details())
    assert response.status_code == 429
    assert "Trop de demandes" in text(response)
    assert not online().exists()
    # Reading pages is not limited, and another address may still book.
    assert client.get(url).status_code == 200
    other = client.post(url, details(), REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302


@pytest.mark.usefixtures("frozen_clock")
def test_behind_the_proxy_the_limit_counts_the_forwarded_address(personas, motif, client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    slot = ahead(motif, personas.place_a)
    url = book_url(motif, personas.place_a, slot.start)
    for _ in range(10):
        client.post(url, details(first_name=""), HTTP_X_FORWARDED_FOR="198.51.100.1")
    limited = client.post(url, details(), HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert limited.status_code == 429
    # A client cannot dodge it by prepending an address: the proxy's last one counts.
    dodged = client.post(url, details(), HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1")
    assert dodged.status_code == 429
    assert client.post(url, details(), HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302


def test_open_bookings_per_phone_are_capped(personas, motif, client):
    assert policy_for(personas.a).max_open_per_contact == 3
    phones = ["06 98 76 54 32", "+33698765432", "0698765432"]
    for i, phone in enumerate(phones):
        slot = ahead(motif, personas.place_a, skip=i)
        assert book(client, motif, personas.place_a, slot.start, phone=phone).status_code == 302
    slot = ahead(motif, personas.place_a, skip=3)
    response = book(client, motif, personas.place_a, slot.start, phone="06.98.76.54.32")
    assert response.status_code == 400
    assert "Vous avez déjà 3 rendez-vous à venir." in text(response)
    assert online().count() == 3
    # Once one is cancelled, another may be booked.
    appointment_ = online().first()
    client.post(f"/rdv/{appointment_.token}/annuler/")
    assert book(client, motif, personas.place_a, slot.start).status_code == 302


# --- The private page: cancel, move, expiry ----------------------------------------------
@pytest.fixture
def booked(personas, motif, client) -> Appointment:
    slot = ahead(motif, personas.place_a)
    assert book(client, motif, personas.place_a, slot.start).status_code == 302
    return online().get()


def test_cancel_asks_then_frees_the_time_at_once(personas, motif, booked, client):
    times_url = slots_url(motif, personas.place_a) + f"?jour={day_of(booked.start)}"
    link = quote(iso(booked.start), safe="")
    assert link not in text(client.get(times_url))
    page = client.get(f"/rdv/{booked.token}/annuler/")
    assert page.status_code == 200
    no_script(page)
    body = text(page)
    assert "Annuler ce rendez-vous\u202f?" in body and "Oui, annuler ce rendez-vous" in body
    assert "Non, garder mon rendez-vous" in body
    response = client.post(f"/rdv/{booked.token}/annuler/")
    assert response.status_code == 302 and response["Location"] == f"/rdv/{booked.token}/"
    booked.refresh_from_db()
    assert booked.status == Status.EXCUSED and booked.cancelled_at
    body = text(client.get(f"/rdv/{booked.token}/"))
    assert "Ce rendez-vous est annulé" in body
    assert "de nouveau libre" in body
    assert 'href="/ville-a/rendez-vous/"' in body and "Prendre un nouveau rendez-vous" in body
    assert "Annuler ce rendez-vous" not in body
    assert link in text(client.get(times_url))
    # Cancelling again changes nothing; the cancel and move pages lead back to the page.
    assert client.post(f"/rdv/{booked.token}/annuler/").status_code == 302
    assert client.get(f"/rdv/{booked.token}/changer/").status_code == 302
    # The time can be booked again by someone else.
    again = book(client, motif, personas.place_a, booked.start, phone="0611223344")
    assert again.status_code == 302


def test_move_lists_other_times_confirms_and_moves(personas, motif, booked, client):
    old = booked.start
    page = client.get(f"/rdv/{booked.token}/changer/")
    assert page.status_code == 200
    no_script(page)
    body = text(page)
    assert "Changer l'horaire" in body
    offered = re.findall(r'href="/rdv/[^/]+/changer/\?debut=([^"#]+)"', body)
    assert len(offered) == 6 and quote(iso(old), safe="") not in offered
    new = next(s for s in free(motif, personas.place_a) if s.start > old + dt.timedelta(days=1))
    confirm = client.get(f"/rdv/{booked.token}/changer/?debut={quote(iso(new.start))}")
    assert confirm.status_code == 200
    no_script(confirm)
    assert "Oui, changer pour cet horaire" in text(confirm)
    response = client.post(f"/rdv/{booked.token}/changer/", {"debut": iso(new.start)})
    assert response.status_code == 302 and response["Location"] == f"/rdv/{booked.token}/"
    booked.refresh_from_db()
    assert booked.start == new.start and booked.status == Status.UNKNOWN
    assert "votre rendez-vous a changé d'horaire" in text(client.get(response["Location"]))
    assert quote(iso(old), safe="") in text(
        client.get(slots_url(motif, personas.place_a) + f"?jour={day_of(old)}")
    )


def test_move_to_a_taken_time_is_refused(personas, motif, booked, client):
    other = ahead(motif, personas.place_a, skip=1)
    assert book(client, motif, personas.place_a, other.start, phone="0611223344").status_code == 302
    shown = client.get(f"/rdv/{booked.token}/changer/?debut={quote(iso(other.start))}")
    assert "Cet horaire n'est plus libre." in text(shown)
    response = client.post(f"/rdv/{booked.token}/changer/", {"debut": iso(other.start)})
    assert response.status_code == 409
    assert "Ce créneau vient d'être réservé." in text(response)
    same = client.post(f"/rdv/{booked.token}/changer/", {"debut": iso(booked.start)})
    assert same.status_code == 302 and same["Location"] == f"/rdv/{booked.token}/"
    garbled = client.post(f"/rdv/{booked.token}/changer/", {"debut": "demain"})
    assert garbled.status_code == 400
    start = booked.start
    booked.refresh_from_db()
    assert booked.start == start


def _shift_to_past(appointment: Appointment, end_ago: dt.timedelta) -> None:
    end = timezone.now() - end_ago
    start = end - dt.timedelta(minutes=30)
    Appointment.objects.filter(pk=appointment.pk).update(
        start=start, end=end, blocked_start=start, blocked_end=end
    )


def test_link_expires_a_day_after_the_appointment(personas, booked, client):
    _shift_to_past(booked, dt.timedelta(days=2))
    for url in [f"/rdv/{booked.token}/", f"/rdv/{booked.token}/annuler/"]:
        response = client.get(url)
        assert response.status_code == 410
        no_script(response)
        body = text(response)
        assert "Ce lien a expiré" in body
        assert 'href="/ville-a/rendez-vous/"' in body
        assert "Refaire ma carte" not in body and "Josiane" not in body
    assert client.post(f"/rdv/{booked.token}/annuler/").status_code == 410
    assert client.post(f"/rdv/{booked.token}/changer/", {"debut": "x"}).status_code == 410
    booked.refresh_from_db()
    assert booked.status == Status.UNKNOWN


def test_a_past_appointment_can_no_longer_be_changed(personas, booked, client):
    _shift_to_past(booked, dt.timedelta(hours=1))
    response = client.get(f"/rdv/{booked.token}/")
    assert response.status_code == 200
    body = text(response)
    assert "il ne peut plus être changé" in body
    assert "/annuler/" not in body and "/changer/" not in body
    assert client.post(f"/rdv/{booked.token}/annuler/").status_code == 302
    booked.refresh_from_db()
    assert booked.status == Status.UNKNOWN


@pytest.mark.parametrize("suffix", ["", "annuler/", "changer/"])
def test_unknown_or_tampered_link_is_not_found(booked, client, suffix):
    tampered = booked.token[:-1] + ("A" if booked.token[-1] != "A" else "B")
    for token in (tampered, "x", booked.token + "x"):
        response = client.get(f"/rdv/{token}/{suffix}")
        assert response.status_code == 404
        assert "Page introuvable" in text(response)
    if suffix:
        assert client.post(f"/rdv/{tampered}/{suffix}").status_code == 404


def test_cancelled_by_the_service_page(personas, booked, client):
    from lien.appointments.services import appointment_cancel

    appointment_cancel(appointment=booked, actor=personas.advisor)
    body = text(client.get(f"/rdv/{booked.token}/"))
    assert "Ce rendez-vous est annulé" in body
    assert "Prendre un nouveau rendez-vous" in body


def test_private_pages_are_not_cached_nor_indexed(booked, client):
    for url in [f"/rdv/{booked.token}/", f"/rdv/{booked.token}/annuler/"]:
        response = client.get(url)
        assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
        assert response["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.usefixtures("frozen_clock")
def test_cancel_and_move_posts_are_rate_limited_too(personas, booked, client):
    booked.status = Status.EXCUSED
    booked.save()
    for _ in range(20):
        assert client.post(f"/rdv/{booked.token}/annuler/").status_code == 302
    assert client.post(f"/rdv/{booked.token}/changer/").status_code == 429
