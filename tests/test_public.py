"""The public site: plain French, no JavaScript, only published places."""

import datetime as dt
import re

import pytest
from django.core.management import call_command

from tests.conftest import pin_calendar

PUBLIC_PAGES = [
    "/ville-a/",
    "/ville-a/cette-semaine/",
    "/ville-a/lieux/",
    "/ville-a/lieux/club-seniors/",
]

# Tests about fixed dates in 2027 pin A's presence to have begun then.
SEPTEMBER_2026 = dt.date(2026, 9, 3)


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_work_without_javascript(personas, client, url):
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script" not in body
    policy = {d.strip() for d in response["Content-Security-Policy"].split(";")}
    assert {"default-src 'self'", "script-src 'self'", "style-src 'self'"} <= policy


@pytest.mark.django_db
def test_home_gives_phone_and_next_times(personas, client, settings):
    settings.HOME_STRUCTURE = "ville-a"
    body = client.get("/").content.decode()
    assert "Besoin d’aide avec le numérique\u202f?" in body
    assert 'href="tel:+33164000000"' in body and "01 64 00 00 00" in body
    assert re.search(
        r"de 14\u00a0h à 17\u00a0h</span> — <a href=\"/ville-a/lieux/club-seniors/\">", body
    )


@pytest.mark.django_db
def test_root_lists_structures_when_several(personas, client, settings):
    settings.HOME_STRUCTURE = ""
    body = client.get("/").content.decode()
    assert "Choisissez votre commune" in body and "Ville A" in body and "Association B" in body


@pytest.mark.django_db
def test_week_page_shows_the_itinerary_and_navigates(personas, client):
    pin_calendar(personas, since=SEPTEMBER_2026)  # a test about the week of 11 January 2027
    body = client.get("/ville-a/cette-semaine/?semaine=2027-01-13").content.decode()
    assert "Semaine du lundi 11 janvier au dimanche 17 janvier" in body
    assert "14\u00a0h – 17\u00a0h" in body and "Club des seniors" in body
    assert "?semaine=2027-01-04" in body and "?semaine=2027-01-18" in body
    # A garbled week falls back to the current one instead of an error.
    assert client.get("/ville-a/cette-semaine/?semaine=hier").status_code == 200


@pytest.mark.django_db
def test_unpublished_places_stay_hidden(personas, client):
    personas.place_a.published = False
    personas.place_a.save()
    assert client.get("/ville-a/lieux/club-seniors/").status_code == 404
    assert "Club des seniors" not in client.get("/ville-a/lieux/").content.decode()
    assert "Club des seniors" not in client.get("/ville-a/cette-semaine/").content.decode()


@pytest.mark.django_db
def test_other_structures_places_are_not_under_this_one(personas, client):
    assert client.get("/ville-a/lieux/local-b/").status_code == 404
    assert client.get("/inconnue/").status_code == 404


@pytest.mark.django_db
def test_theme_stylesheet_carries_the_structure_colour(personas, client):
    response = client.get("/ville-a/theme.css")
    assert response["Content-Type"].startswith("text/css")
    assert "--brand: #1d4f91" in response.content.decode()


@pytest.mark.django_db
def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


@pytest.mark.django_db
def test_demo_data_loads_once_and_prints_logins(capsys):
    call_command("load_demo")
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "coordination@villebrie.example" in out and "demo-lien-2026" in out
    assert "déjà présentes" in out
    from lien.accounts.models import Structure
    from lien.places.models import Place

    assert Structure.objects.count() == 2
    kinds = set(Place.objects.filter(structure__slug="villebrie").values_list("kind", flat=True))
    assert kinds == {
        "office",
        "workshop_room",
        "school",
        "seniors_club",
        "youth_centre",
        "tiers_lieu",
    }


@pytest.mark.django_db
def test_open_data_urls_serve_published_places(personas, client):
    csv_response = client.get("/donnees/lieux-de-mediation-numerique.csv")
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    lines = csv_response.content.decode().splitlines()
    assert lines[0].startswith("id,pivot,nom,commune,code_postal")
    assert len(lines) == 3  # header + the two published places
    data = client.get("/donnees/lieux-de-mediation-numerique.json").json()
    assert {row["nom"] for row in data} == {"Club des seniors", "Local B"}
    assert (
        next(r for r in data if r["nom"] == "Club des seniors")["horaires"]
        == "Th 14:00-17:00; PH off"
    )


@pytest.mark.django_db
def test_presence_note_is_shown_to_residents(personas, client):
    pin_calendar(personas, since=SEPTEMBER_2026)
    personas.presence_a.note = "Apportez votre tablette"
    personas.presence_a.save()
    body = client.get("/ville-a/cette-semaine/?semaine=2027-01-11").content.decode()
    assert "<em>Apportez votre tablette</em>" in body
