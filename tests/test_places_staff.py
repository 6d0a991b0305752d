"""Coordinators manage places, hours and closures; bad input changes nothing."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from lien.places.models import Closure, OpeningRule, Place
from tests.conftest import signed_in

VALID = {
    "name": "Médiathèque",
    "kind": "library",
    "address": "3 place du Marché",
    "postcode": "77000",
    "city": "Melun",
    "insee_code": "77288",
    "phone": "01 64 00 00 00",
    "published": "on",
    "services": ["Aide aux démarches administratives"],
    "fees": ["Gratuit"],
}


def hours_post(rows, holidays=True):
    data = {
        "rules-TOTAL_FORMS": str(len(rows)),
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }
    for i, (day, start, end, weeks) in enumerate(rows):
        data.update(
            {
                f"rules-{i}-weekday": day,
                f"rules-{i}-start": start,
                f"rules-{i}-end": end,
                f"rules-{i}-weeks": weeks,
            }
        )
    if holidays:
        data["closed_on_public_holidays"] = "on"
    return data


@pytest.mark.django_db
def test_coordinator_creates_a_place_with_normalised_phone(personas):
    client = signed_in(personas.coordinator)
    response = client.post("/equipe/ville-a/lieux/nouveau/", VALID)
    assert response.status_code == 302
    place = Place.objects.get(structure=personas.a, name="Médiathèque")
    assert place.phone == "+33164000000"
    assert place.slug == "mediatheque"
    assert response["Location"] == f"/equipe/ville-a/lieux/{place.pk}/horaires/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postcode", "7700", "Le code postal doit comporter 5 chiffres."),
        ("insee_code", "7728", "Le code INSEE doit comporter 5 caractères"),
        ("phone", "12", "Numéro de téléphone non valide"),
        ("email", "pas-un-email", "Saisissez une adresse de courriel valide."),
        ("services", ["Réparer les vélos"], "Sélectionnez un choix valide."),
        ("name", "", "Ce champ est obligatoire."),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(personas, field, value, message):
    before = Place.objects.count()
    response = signed_in(personas.coordinator).post(
        "/equipe/ville-a/lieux/nouveau/", {**VALID, field: value}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "Le formulaire contient des erreurs" in body
    assert Place.objects.count() == before


@pytest.mark.django_db
def test_hours_are_replaced_and_described_in_french(personas):
    client = signed_in(personas.coordinator)
    url = f"/equipe/ville-a/lieux/{personas.place_a.pk}/horaires/"
    response = client.post(
        url,
        hours_post([("3", "14:00", "17:00", "all"), ("1", "09:00", "12:00", "odd")]),
        follow=True,
    )
    assert (
        "le mardi de 9\u00a0h à 12\u00a0h (semaines impaires)\u202f; "
        "le jeudi de 14\u00a0h à 17\u00a0h, fermé les jours fériés" in response.content.decode()
    )
    assert OpeningRule.objects.filter(place=personas.place_a).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rows",
    [
        [("3", "14:00", "17:00", "all"), ("3", "16:00", "18:00", "all")],  # overlapping
        [("3", "14:00", "17:00", "odd"), ("3", "15:00", "16:00", "all")],  # overlapping weeks
        [("3", "17:00", "14:00", "all")],  # inverted
    ],
)
def test_overlapping_or_inverted_hours_are_refused(personas, rows):
    before = list(OpeningRule.objects.filter(place=personas.place_a).values_list())
    response = signed_in(personas.coordinator).post(
        f"/equipe/ville-a/lieux/{personas.place_a.pk}/horaires/", hours_post(rows)
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "errorlist" in body
    assert ("chevauch" in body.lower()) or ("après l&#x27;heure de début" in body)
    assert list(OpeningRule.objects.filter(place=personas.place_a).values_list()) == before


@pytest.mark.django_db
def test_closure_added_with_htmx_returns_the_partial(personas):
    client = signed_in(personas.coordinator)
    url = f"/equipe/ville-a/lieux/{personas.place_a.pk}/fermetures/"
    response = client.post(
        url,
        {"start_date": "2027-02-01", "end_date": "2027-02-03", "reason": "Travaux"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="closures">') and "Travaux" in body
    assert "<html" not in body


@pytest.mark.django_db
def test_inverted_closure_is_refused_without_javascript(personas):
    before = Closure.objects.count()
    response = signed_in(personas.coordinator).post(
        f"/equipe/ville-a/lieux/{personas.place_a.pk}/fermetures/",
        {"start_date": "2027-02-03", "end_date": "2027-02-01"},
    )
    assert response.status_code == 200
    assert "La date de fin doit être le même jour ou après" in response.content.decode()
    assert Closure.objects.count() == before


@pytest.mark.django_db
def test_deleting_a_place_asks_for_confirmation(personas):
    personas.appointment_a.delete()
    personas.activity_a.delete()
    client = signed_in(personas.coordinator)
    url = f"/equipe/ville-a/lieux/{personas.place_a.pk}/supprimer/"
    page = client.get(url).content.decode()
    assert "Supprimer «\u00a0Club des seniors\u00a0»\u202f?" in page and "1 présence" in page
    assert Place.objects.filter(pk=personas.place_a.pk).exists()
    client.post(url)
    assert not Place.objects.filter(pk=personas.place_a.pk).exists()


@pytest.mark.django_db
def test_a_place_with_appointments_cannot_be_deleted(personas):
    client = signed_in(personas.coordinator)
    url = f"/equipe/ville-a/lieux/{personas.place_a.pk}/supprimer/"
    assert "1 rendez-vous a été pris dans ce lieu" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "il ne peut pas être supprimé" in response.content.decode()
    assert Place.objects.filter(pk=personas.place_a.pk).exists()


@pytest.mark.django_db
def test_database_refuses_inverted_hours_and_closures(personas):
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningRule.objects.create(
            place=personas.place_a, weekday=1, start=dt.time(12), end=dt.time(9)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Closure.objects.create(
            place=personas.place_a, start_date=dt.date(2027, 1, 2), end_date=dt.date(2027, 1, 1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Place.objects.filter(pk=personas.place_a.pk).update(postcode="7700")


@pytest.mark.django_db
def test_reception_sees_places_but_no_edit_links(personas):
    body = signed_in(personas.reception).get("/equipe/ville-a/lieux/").content.decode()
    assert "Club des seniors" in body
    assert "Ajouter un lieu" not in body and "/modifier/" not in body


@pytest.mark.django_db
def test_import_page_reports_rows_and_saves_nothing_on_error(personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    header = "id,pivot,nom,commune,code_postal,adresse,date_maj,horaires\n"
    rows = (
        '"x1","00000000000000","Mairie","Melun","77000","1 rue A","2024-01-01","Mo 09:00-12:00"\n'
        '"x2","00000000000000","Club","Melun","7700","2 rue B","2024-01-01","Lu-Ve 9h-12h"\n'
    )
    before = Place.objects.count()
    upload = SimpleUploadedFile("lieux.csv", (header + rows).encode(), content_type="text/csv")
    response = signed_in(personas.coordinator).post(
        "/equipe/ville-a/lieux/importer/", {"file": upload}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Import refusé\u00a0: rien n’a été enregistré" in body
    assert "code_postal" in body and "horaires" in body
    assert Place.objects.count() == before


@pytest.mark.django_db
def test_import_page_imports_a_legacy_file(personas):
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    path = Path(__file__).parent / "data" / "lieux" / "legacy-v0-bus-france-services-charente.json"
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/json")
    response = signed_in(personas.coordinator).post(
        "/equipe/ville-a/lieux/importer/", {"file": upload}, follow=True
    )
    assert "Import terminé\u00a0: 12 lieu(x) créé(s)" in response.content.decode()
    assert Place.objects.filter(structure=personas.a).count() == 13
