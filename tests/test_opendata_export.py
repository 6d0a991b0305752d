"""Export of places in the national places standard v1.0.1, checked with frictionless."""

import csv
import datetime
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from frictionless import Resource, Schema

from lien.accounts.models import Structure
from lien.places import vocabularies as voc
from lien.places.models import Place
from lien.places.opendata import (
    FIELDS,
    dated_filename,
    export_csv,
    export_json,
    export_queryset,
    load_schema,
    place_to_record,
)
from tests.opendata_helpers import frictionless_errors, make_full_place, make_place

SIRET_A = "21770284400010"  # Luhn-valid SIREN and SIRET
SIRET_B = "21770285100015"


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def make_structure(name="Commune A", slug="commune-a", siret=SIRET_A) -> Structure:
    return Structure.objects.create(
        name=name, slug=slug, kind="commune", siret=siret, insee_code="77284"
    )


@pytest.fixture
def structure() -> Structure:
    return make_structure()


def test_fields_follow_the_schema_order():
    assert list(FIELDS) == [f["name"] for f in load_schema()["fields"]]
    assert len(FIELDS) == 32


@pytest.mark.django_db
def test_record_maps_the_place(structure):
    place = make_full_place(structure)
    record = place_to_record(place)
    assert list(record) == list(FIELDS)
    assert all(isinstance(v, str) for v in record.values())
    assert record["id"] == "commune-a-espace-numerique"
    assert record["pivot"] == SIRET_A
    assert record["nom"] == "Espace numérique"
    assert record["commune"] == "Meaux"
    assert record["latitude"] == "48.960123"
    assert record["longitude"] == "2.8789"
    assert record["telephone"] == "+33164123456"
    assert record["courriels"] == "numerique@commune-a.fr"
    assert record["itinerance"] == "Itinérant"
    assert record["structure_parente"] == "Commune A"
    assert record["source"] == "Lien"
    assert record["date_maj"] == timezone.localdate().isoformat()
    assert record["services"] == "|".join(voc.SERVICES)
    assert " | " not in record["services"]
    assert record["horaires"] == (
        "Mo,We,Fr 09:00-12:00; week 1-53/2 Tu 09:00-12:00; "
        "week 1-53/2 Th 09:00-12:00,14:00-17:00; week 2-52/2 Tu 09:00-12:00,14:00-16:30; "
        "week 2-52/2 Th 09:00-12:00; PH off"
    )
    assert record["prise_rdv"] == ""


@pytest.mark.django_db
def test_record_of_a_minimal_place(structure):
    place = make_place(
        structure, "club-seniors", pivot="43493312300029", closed_on_public_holidays=False
    )
    record = place_to_record(place)
    assert record["pivot"] == "43493312300029"
    assert record["itinerance"] == "Fixe"
    assert record["horaires"] == ""
    assert record["latitude"] == record["longitude"] == ""
    assert record["services"] == ""


@pytest.mark.django_db
def test_csv_export_is_valid_against_the_schema(structure):
    make_full_place(structure)
    make_place(structure, "club-seniors")
    text = export_csv(export_queryset())
    rows = csv_rows(text)
    assert rows[0] == list(FIELDS)
    assert len(rows) == 3
    assert frictionless_errors(rows) == []
    # Also as the bytes of a CSV file, the way a consumer would read it.
    resource = Resource(
        data=text.encode("utf-8"), format="csv", schema=Schema.from_descriptor(load_schema())
    )
    report = resource.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


@pytest.mark.django_db
def test_json_export_is_valid_against_the_schema(structure):
    make_full_place(structure)
    make_place(structure, "club-seniors")
    records = export_json(export_queryset())
    records = json.loads(json.dumps(records, ensure_ascii=False))  # as read from a file
    assert frictionless_errors(records) == []
    full = next(r for r in records if r["nom"] == "Espace numérique")
    assert full["latitude"] == pytest.approx(48.960123)
    assert isinstance(full["longitude"], float)
    minimal = next(r for r in records if r["nom"] != "Espace numérique")
    assert minimal["latitude"] is None
    assert minimal["horaires"] is None
    assert list(minimal) == list(FIELDS)


@pytest.mark.django_db
def test_a_broken_record_fails_validation(structure):
    record = place_to_record(make_full_place(structure))
    broken = {
        **record,
        "telephone": "01 64 12 34 56",
        "services": "Aide aux démarches "
        "administratives | Maîtrise des outils numériques du quotidien",
        "code_postal": "7710",
        "date_maj": "31/12/2024",
    }
    errors = frictionless_errors([list(FIELDS), list(broken.values())])
    assert {e.split(":")[1] for e in errors} == {"telephone", "services", "code_postal", "date_maj"}
    assert frictionless_errors([list(FIELDS), list(record.values())]) == []


@pytest.mark.django_db
def test_export_queryset_keeps_published_places_of_all_structures(structure):
    other = make_structure("Commune B", "commune-b", SIRET_B)
    make_place(structure, "mairie")
    make_place(structure, "brouillon", published=False)
    make_place(other, "mairie")
    ids = [place_to_record(p)["id"] for p in export_queryset()]
    assert sorted(ids) == ["commune-a-mairie", "commune-b-mairie"]
    assert [p.slug for p in export_queryset(structure=other)] == ["mairie"]


@pytest.mark.django_db
def test_export_takes_a_constant_number_of_queries(structure):
    make_full_place(structure)
    with CaptureQueriesContext(connection) as one:
        export_csv(export_queryset())
        export_json(export_queryset())
    other = make_structure("Commune B", "commune-b", SIRET_B)
    for n in range(9):
        make_full_place(other if n % 2 else structure, f"espace-{n}")
    assert Place.objects.count() == 10
    with CaptureQueriesContext(connection) as ten:
        text = export_csv(export_queryset())
        export_json(export_queryset())
    assert len(csv_rows(text)) == 11
    assert len(ten) == len(one) == 4  # per export: the places, then their opening rules


def test_dated_filename_follows_the_convention():
    name = dated_filename("Commune A", "Seine-et-Marne", datetime.date(2025, 3, 4))
    assert name == "2025-03-04_commune-a_lieux-de-mediation-numerique_seine-et-marne.csv"
    assert re.fullmatch(
        r"\d{4}-\d{2}-\d{2}_[a-z0-9-]+_lieux-de-mediation-numerique_[a-z0-9-]+"
        r"\.csv",
        name,
    )
    assert dated_filename("lien", "france", datetime.date(2025, 3, 4), extension="json").endswith(
        "_france.json"
    )


@pytest.mark.django_db
def test_export_command_writes_csv_to_stdout_and_json_to_a_dated_file(structure, tmp_path):
    make_full_place(structure)
    out = io.StringIO()
    call_command("export_places", stdout=out)
    assert frictionless_errors(csv_rows(out.getvalue())) == []

    call_command(
        "export_places",
        "--format",
        "json",
        "--output",
        str(tmp_path),
        "--structure",
        "commune-a",
        "--territory",
        "Meaux",
        stderr=io.StringIO(),
    )
    [written] = tmp_path.iterdir()
    assert re.fullmatch(
        r"\d{4}-\d{2}-\d{2}_commune-a_lieux-de-mediation-numerique_meaux\.json", written.name
    )
    records = json.loads(written.read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == ["commune-a-espace-numerique"]
    assert frictionless_errors(records) == []


HOSTILE = {
    "name": '=HYPERLINK("http://x","y")',
    "city": "+SUM(1)",
    "address": "-2+3+cmd|' /C calc'!A0",
    "address_complement": "@cmd",
    "summary": "\t=1+1 après une tabulation",
    "description": "\r=1+1 après un retour chariot",
    "other_labels": "=1+1",
    "source": "@SUM(A1)",
}
HOSTILE_COLUMNS = {
    "nom": "name",
    "commune": "city",
    "adresse": "address",
    "complement_adresse": "address_complement",
    "presentation_resume": "summary",
    "presentation_detail": "description",
    "autres_formations_labels": "other_labels",
    "source": "source",
}


@pytest.mark.django_db
def test_public_csv_neutralises_formulas_and_stays_valid(structure, client):
    """OWASP CSV injection: no cell of the public file starts a formula, phones stay +33…"""
    make_full_place(structure)
    make_place(
        structure,
        "piege",
        phone="+33164123456",
        latitude=Decimal("-21.3"),
        longitude=Decimal("165.4"),
        **HOSTILE,
    )
    response = client.get("/donnees/lieux-de-mediation-numerique.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    rows = csv_rows(text)
    record = dict(zip(rows[0], next(r for r in rows if r[0] == "commune-a-piege"), strict=True))
    for column, attribute in HOSTILE_COLUMNS.items():
        assert record[column] == "'" + HOSTILE[attribute], column
    assert record["telephone"] == "+33164123456"
    assert (record["latitude"], record["longitude"]) == ("-21.3", "165.4")
    triggers = ("=", "+", "-", "@", "\t", "\r")
    numbers = {"telephone", "latitude", "longitude"}
    for row in rows[1:]:
        for column, cell in zip(rows[0], row, strict=True):
            assert column in numbers or not cell.startswith(triggers), (column, cell)
    assert frictionless_errors(rows) == []
    resource = Resource(
        data=response.content, format="csv", schema=Schema.from_descriptor(load_schema())
    )
    report = resource.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])

    # The export command writes the same cells; JSON is data, not a spreadsheet: left as is.
    out = io.StringIO()
    call_command("export_places", stdout=out)
    assert out.getvalue() == text
    [piege] = [r for r in export_json(export_queryset()) if r["id"] == "commune-a-piege"]
    assert piege["nom"] == HOSTILE["name"]
