"""Import of places from files of the national places standard (v1.0.1 and legacy v0.1)."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lien.accounts.models import Structure
from lien.places import vocabularies as voc
from lien.places.importer import LEGACY_SERVICES, import_places, legacy_to_v1
from lien.places.models import OpeningRule, Place
from lien.places.opendata import FIELDS, export_csv, export_json, export_queryset
from tests.opendata_helpers import frictionless_errors, make_full_place, make_place

# The national reference files: costly, and independent of the date (left out of CI's
# date matrix, run everywhere else).
pytestmark = pytest.mark.slow

# Copies of the national reference files (../shared/reference/lieux), kept in the project.
REFERENCE = Path(__file__).resolve().parent / "data" / "lieux"
EXAMPLE_V1 = "exemple-valide-v1.csv"
LEGACY_FILES = (
    "legacy-v0-bus-france-services-charente.json",
    "legacy-v0-charente.json",
    "legacy-v0-nouvelle-caledonie.json",
)
SIRETS = {
    "commune-a": "21770284400010",
    "commune-b": "21770285100015",
    "commune-c": "21770286900017",
}
# Hours strings in each reference file: all of them are understood (none reported).
REFERENCE_HOURS = {EXAMPLE_V1: 1, LEGACY_FILES[0]: 10, LEGACY_FILES[1]: 72, LEGACY_FILES[2]: 69}
# Values that legitimately differ between two structures in a round trip.
PER_STRUCTURE_FIELDS = {"id", "structure_parente", "date_maj"}


def reference_bytes(name: str) -> bytes:
    return (REFERENCE / name).read_bytes()


def make_structure(slug: str) -> Structure:
    return Structure.objects.create(
        name=slug.replace("-", " ").title(),
        slug=slug,
        kind="commune",
        siret=SIRETS[slug],
        insee_code="77284",
    )


def csv_bytes(records: list[dict[str, str]], header=FIELDS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode(encoding)


def example_record(**changes) -> dict[str, str]:
    [record] = csv.DictReader(io.StringIO(reference_bytes(EXAMPLE_V1).decode("utf-8")))
    return {**record, **changes}


def issue_keys(issues) -> set[tuple[int, str]]:
    return {(i.row, i.field) for i in issues}


@pytest.fixture
def structure(db) -> Structure:
    return make_structure("commune-a")


@pytest.fixture
def other_structure(db) -> Structure:
    return make_structure("commune-b")


# --- Reference files --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", [EXAMPLE_V1, *LEGACY_FILES])
def test_reference_file_imports_then_reimport_updates(structure, name):
    content = reference_bytes(name)
    expected = (
        len(json.loads(content))
        if name.endswith(".json")
        else len(content.decode("utf-8").strip().splitlines()) - 1
    )

    report = import_places(structure=structure, filename=name, content=content)

    print(
        f"\n{name}: {report.created} created, hours understood "
        f"{report.hours_understood}/{report.hours_total}, {len(report.warnings)} warnings"
    )
    assert report.ok, report.as_text()
    assert (report.created, report.updated) == (expected, 0)
    assert structure.places.count() == expected
    assert report.hours_understood == report.hours_total == REFERENCE_HOURS[name]
    with_hours = structure.places.filter(opening_rules__isnull=False).distinct().count()
    assert with_hours == report.hours_total

    again = import_places(structure=structure, filename=name, content=content)
    assert again.ok, again.as_text()
    assert (again.created, again.updated) == (0, expected)
    assert structure.places.count() == expected
    assert OpeningRule.objects.filter(place__structure=structure).count() == sum(
        len(p.opening_rules.all()) for p in structure.places.prefetch_related("opening_rules")
    )


@pytest.mark.django_db
def test_export_of_the_imported_reference_files_is_valid(db):
    for slug, name in zip(SIRETS, LEGACY_FILES, strict=True):
        report = import_places(
            structure=make_structure(slug), filename=name, content=reference_bytes(name)
        )
        assert report.ok, report.as_text()
    report = import_places(
        structure=Structure.objects.get(slug="commune-a"),
        filename=EXAMPLE_V1,
        content=reference_bytes(EXAMPLE_V1),
    )
    assert report.ok, report.as_text()
    places = export_queryset()
    assert len(places) == 12 + 188 + 90 + 1
    rows = list(csv.reader(io.StringIO(export_csv(places), newline="")))
    assert frictionless_errors(rows) == []
    assert frictionless_errors(json.loads(json.dumps(export_json(places)))) == []


@pytest.mark.django_db
def test_v1_example_is_read_field_by_field(structure):
    report = import_places(
        structure=structure, filename=EXAMPLE_V1, content=reference_bytes(EXAMPLE_V1)
    )
    assert report.ok, report.as_text()
    place = structure.places.get()
    assert place.external_id == "structure-1"
    assert place.pivot == "43493312300029"
    assert (place.name, place.city, place.postcode, place.insee_code) == (
        "Anonymal",
        "Reims",
        "51100",
        "51454",
    )
    assert place.typology == "TIERS_LIEUX|ASSO"
    assert place.kind == "tiers_lieu"
    assert place.itinerant is True
    assert place.phone == "+33180059880"
    assert place.email == "contact@laquincaillerie.tl"  # Lien keeps one address
    assert place.website == "https://www.laquincaillerie.tl/"
    assert place.services == [
        "Maîtrise des outils numériques du quotidien",
        "Insertion professionnelle via le numérique",
        "Loisirs et créations numériques",
    ]
    assert place.accompaniment_modes == list(voc.ACCOMPANIMENT_MODES)
    assert place.other_labels == "Label et la bête"
    assert place.source == "Hubik"
    assert place.closed_on_public_holidays is False
    assert [(r.weekday, str(r.start), str(r.end)) for r in place.opening_rules.all()] == [
        (0, "09:00:00", "12:00:00"),
        (0, "14:00:00", "18:30:00"),
        (1, "09:00:00", "12:00:00"),
        (1, "14:00:00", "18:30:00"),
        (2, "09:00:00", "12:00:00"),
        (2, "14:00:00", "18:30:00"),
        (3, "09:00:00", "12:00:00"),
        (3, "14:00:00", "18:30:00"),
        (4, "09:00:00", "12:00:00"),
        (4, "14:00:00", "18:30:00"),
        (5, "08:30:00", "12:00:00"),
    ]
    warned = {i.field for i in report.warnings}
    assert {"courriels", "site_web", "prise_rdv"} <= warned


@pytest.mark.django_db
def test_legacy_bus_keeps_alternate_weeks_and_labels(structure):
    name = LEGACY_FILES[0]
    report = import_places(structure=structure, filename=name, content=reference_bytes(name))
    assert report.ok, report.as_text()
    assert report.file_format == "JSON, ancien format 0.1, converti"
    first = structure.places.get(external_id="1")
    assert first.services == [
        "Aide aux démarches administratives",
        "Insertion professionnelle via le numérique",
        "Accès internet et matériel informatique",
    ]
    assert first.national_programmes == ["Conseillers numériques", "France Services"]
    assert first.other_labels == "ZRR|APTIC"
    assert first.acceslibre_url.startswith("https://acceslibre.beta.gouv.fr/")
    assert first.closed_on_public_holidays is True
    assert first.pivot == "00000000000000"
    second = structure.places.get(external_id="2")  # week 1-53/2 Tu 09:00-12:30,13:30-15:30
    assert [(r.weekday, str(r.start), str(r.end), r.weeks) for r in second.opening_rules.all()] == [
        (1, "09:00:00", "12:30:00", "odd"),
        (1, "13:30:00", "15:30:00", "odd"),
    ]
    weeks = set(
        OpeningRule.objects.filter(place__structure=structure).values_list("weeks", flat=True)
    )
    assert weeks == {"all", "odd", "even"}
    assert any("APTIC" in i.message for i in report.warnings)


@pytest.mark.django_db
def test_legacy_charente_and_caledonia_are_converted(structure, other_structure):
    name = LEGACY_FILES[1]
    assert import_places(structure=structure, filename=name, content=reference_bytes(name)).ok
    library = structure.places.get(name="Médiathèque chateaubernard")
    assert library.kind == "library"
    assert library.services == [
        "Maîtrise des outils numériques du quotidien",
        "Compréhension du monde numérique",
    ]
    assert library.fees == ["Gratuit"]
    assert library.accompaniment_modes == ["Accompagnement individuel"]
    assert library.national_programmes == ["Conseillers numériques", "France Services"]

    name = LEGACY_FILES[2]
    report = import_places(structure=other_structure, filename=name, content=reference_bytes(name))
    assert report.ok, report.as_text()
    first = other_structure.places.get(external_id="0")
    assert first.publics == ["Jeunes", "Familles et/ou enfants", "Seniors"]
    assert first.phone == "+687445728"
    long_ones = [p for p in other_structure.places.all() if p.summary.endswith("…")]
    assert long_ones
    for place in long_ones:
        assert len(place.summary) <= 280
        assert place.description.startswith(place.summary[:-1])  # full text kept
    assert any(i.field == "presentation_resume" for i in report.warnings)


def test_every_legacy_service_maps_to_a_v1_service():
    assert len(LEGACY_SERVICES) == 15
    assert set(LEGACY_SERVICES.values()) <= set(voc.SERVICES)
    record = {
        "services": ";".join(LEGACY_SERVICES),
        "publics_accueillis": "Seniors (+ 65 ans);Uniquement femmes;Surdité;Personnes en situation "
        "d'illettrisme;Adultes",
        "conditions_acces": "Gratuit sous condition : La gratuité est conditionnée à des "
        "critères (situation familiale, convention avec un organisme social...);Payant : "
        "L'accès au lieu et/ou à ses services est payant",
        "labels_nationaux": "CNFS;Fabriques de Territoire;Point relais CAF;French Tech",
        "labels_autres": "SudLabs;Nièvre médiation numérique",
        "modalites_accompagnement": "Seul : j'ai accès à du matériel et une connexion;"
        "Dans un atelier : j'apprends collectivement à utiliser le numérique",
        "courriel": "a@b.fr",
        "accessibilite": "https://acceslibre.beta.gouv.fr/x/",
    }
    warnings = []
    out = legacy_to_v1(record, lambda f, m: warnings.append((f, m)))
    assert set(out["services"].split("|")) == set(voc.SERVICES)
    assert out["publics_specifiquement_adresses"] == "Seniors|Femmes"
    assert out["prise_en_charge_specifique"] == "Surdité|Illettrisme"
    assert out["frais_a_charge"] == "Gratuit sous condition|Payant"
    assert out["dispositif_programmes_nationaux"] == (
        "Conseillers numériques|Point d'accès numérique CAF"
    )
    assert out["formations_labels"] == "Fabriques de Territoire"
    assert out["autres_formations_labels"] == "SudLabs|Nièvre médiation numérique|French Tech"
    assert out["modalites_accompagnement"] == "En autonomie|Dans un atelier collectif"
    assert out["courriels"] == "a@b.fr"
    assert out["fiche_acces_libre"] == "https://acceslibre.beta.gouv.fr/x/"
    assert warnings == [("autres_formations_labels", warnings[0][1])]
    assert "French Tech" in warnings[0][1]


# --- Refused files ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_bad_rows_are_reported_by_row_and_field_and_nothing_is_saved(structure):
    Place.objects.create(
        structure=structure,
        slug="mairie",
        name="Mairie",
        kind="office",
        address="1 place de la Mairie",
        postcode="77100",
        city="Meaux",
    )
    records = [
        example_record(id="ok"),
        example_record(id="bad-postcode", code_postal="7700"),
        example_record(id="bad-phone", telephone="01 23"),
        example_record(
            id="bad-service", services="Cours de cuisine|Loisirs et créations numériques"
        ),
        example_record(id="bad-hours", horaires="Lu-Ve 9h-12h"),
        example_record(
            id="bad-insee", code_insee="2C123", courriels="pas-une-adresse", latitude="123"
        ),
    ]
    before = list(Place.objects.values_list("pk", "name", "updated_at"))

    report = import_places(structure=structure, filename="lieux.csv", content=csv_bytes(records))

    assert not report.ok
    assert (report.created, report.updated) == (0, 0)
    assert list(Place.objects.values_list("pk", "name", "updated_at")) == before
    assert not OpeningRule.objects.exists()
    assert issue_keys(report.errors) == {
        (2, "code_postal"),
        (3, "telephone"),
        (4, "services"),
        (5, "horaires"),
        (6, "code_insee"),
        (6, "courriels"),
        (6, "latitude"),
    }
    by_field = {i.field: i for i in report.errors}
    assert "code postal" in by_field["code_postal"].message
    assert "« 7700 »" in by_field["code_postal"].message
    assert "téléphone" in by_field["telephone"].message
    assert "« Cours de cuisine »" in by_field["services"].message
    assert "Lu-Ve 9h-12h" in by_field["horaires"].message
    assert by_field["horaires"].line == 6  # the header is line 1 of the file
    text = report.as_text()
    assert "Aucun lieu n'a été enregistré : 7 erreurs à corriger." in text
    assert "Lieu n° 2 (ligne 3 du fichier), champ « code_postal » : " in text
    assert "Lieu n° 5 (ligne 6 du fichier), champ « horaires » : " in text


@pytest.mark.django_db
def test_rows_and_lines_are_counted_across_multi_line_values(structure):
    base = {"nom": "Mairie", "adresse": "1 place", "commune": "Meaux", "code_postal": "77100"}
    records = [
        {**base, "id": "1", "presentation_detail": "Deux\nlignes"},
        {**base, "id": "2", "code_postal": "771"},
    ]
    content = csv_bytes(records, header=["id", *base, "presentation_detail"])
    report = import_places(structure=structure, filename="lieux.csv", content=content)
    [error] = report.errors
    assert (error.row, error.line, error.field) == (2, 4, "code_postal")
    assert str(error).startswith("Lieu n° 2 (ligne 4 du fichier), champ « code_postal » : ")


@pytest.mark.django_db
def test_v1_json_with_near_miss_values_is_corrected_with_warnings(structure):
    record = {
        "id": "mairie",
        "nom": "Mairie",
        "adresse": "1 place",
        "commune": "Meaux",
        "code_postal": 77100,
        "latitude": 48.9601234567,
        "longitude": 2.8789,
        "services": ["Comprehension du monde numérique", "aide aux démarches administratives"],
        "modalites_accompagnement": "À distance (par téléphone ou en visioconférence)",
        "site_web": "www.commune-a.fr",
        "date_maj": "1969-12-31",
    }
    report = import_places(
        structure=structure, filename="lieux.json", content=json.dumps([record]).encode()
    )
    assert report.ok, report.as_text()
    place = structure.places.get()
    assert place.services == [
        "Aide aux démarches administratives",
        "Compréhension du monde numérique",
    ]
    assert place.accompaniment_modes == ["À distance"]
    assert place.website == "https://www.commune-a.fr"
    assert str(place.latitude) == "48.960123"
    assert {i.field for i in report.warnings} == {"services", "site_web"}


@pytest.mark.django_db
def test_understood_hours_that_are_not_weekly_are_reported(structure):
    record = {
        "id": "1",
        "nom": "Mairie",
        "adresse": "1 place",
        "commune": "Meaux",
        "code_postal": "77100",
        "horaires": "Mo-Fr 09:00-12:00; Dec 25 off",
    }
    report = import_places(
        structure=structure, filename="lieux.json", content=json.dumps([record]).encode()
    )
    assert issue_keys(report.errors) == {(1, "horaires")}
    assert "Horaires non compris" in report.errors[0].message
    assert not Place.objects.exists()


@pytest.mark.django_db
def test_missing_required_values_and_duplicate_ids(structure):
    records = [
        {"id": "1", "nom": "", "adresse": "1 place", "commune": "Meaux", "code_postal": "77100"},
        {
            "id": "1",
            "nom": "Mairie",
            "adresse": "1 place",
            "commune": "Meaux",
            "code_postal": "77100",
        },
    ]
    report = import_places(
        structure=structure, filename="lieux.json", content=json.dumps(records).encode()
    )
    assert issue_keys(report.errors) == {(1, "nom"), (2, "id")}
    assert "obligatoire" in report.errors[0].message
    assert not Place.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "Le fichier est vide."),
        (b"\xef\xbb\xbf \r\n", "Le fichier est vide."),
        (b"id,nom,adresse,commune,code_postal\r\n", "Le fichier ne contient aucun lieu."),
        (b"a,b,c\r\n1,2,3\r\n", "Les colonnes ne correspondent pas au standard"),
        (
            b"id,nom,commune\r\n1,Mairie,Meaux\r\n",
            "Colonne(s) obligatoire(s) absente(s) : adresse, code_postal.",
        ),
        (
            b"id;nom;adresse;commune;code_postal\r\n1;Mairie;1 place;Meaux;77100\r\n",
            "virgule comme séparateur",
        ),
        (
            b"id,nom,adresse,commune,code_postal\r\n1,Mairie,1 place,Meaux\r\n",
            "4 valeurs au lieu de 5",
        ),
    ],
)
def test_unreadable_csv_files_are_refused(structure, content, expected):
    report = import_places(structure=structure, filename="lieux.csv", content=content)
    assert not report.ok
    [error] = report.errors
    assert (error.row, error.field) == (0, "")
    assert expected in error.message
    assert not Place.objects.exists()


@pytest.mark.django_db
def test_latin1_file_is_refused_with_a_clear_message(structure):
    content = csv_bytes([example_record()], encoding="latin-1")
    report = import_places(structure=structure, filename="lieux.csv", content=content)
    assert not report.ok
    assert "n'est pas encodé en UTF-8" in report.errors[0].message
    assert not Place.objects.exists()


@pytest.mark.django_db
def test_utf8_bom_and_reordered_columns_are_accepted(structure):
    record = example_record()
    header = list(reversed(FIELDS))
    content = b"\xef\xbb\xbf" + csv_bytes([record], header=header)
    report = import_places(structure=structure, filename="lieux.csv", content=content)
    assert report.ok, report.as_text()
    assert structure.places.get().name == "Anonymal"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"id": "1", "nom": "Mairie"}', "doit contenir une liste de lieux"),
        (b'"lieux"', "doit contenir une liste de lieux"),
        (b"[1, 2]", "n'est pas un lieu"),
        (b'[{"id": "1",}]', "JSON est mal formé (ligne 1"),
        (b"[]", "Le fichier ne contient aucun lieu."),
    ],
)
def test_json_that_is_not_a_list_of_records_is_refused(structure, content, expected):
    report = import_places(structure=structure, filename="lieux.json", content=content)
    assert not report.ok
    assert expected in report.errors[0].message
    assert not Place.objects.exists()


# --- Round trips, dry run, command ----------------------------------------------------------


def comparable(records: list[dict]) -> list[dict]:
    return sorted(
        ({k: v for k, v in r.items() if k not in PER_STRUCTURE_FIELDS} for r in records),
        key=lambda r: r["nom"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_round_trip_into_another_structure_gives_the_same_data(
    structure, other_structure, file_format
):
    make_full_place(structure)
    make_place(structure, "club-seniors", pivot="43493312300029", kind="seniors_club")
    make_place(
        structure,
        "mediatheque",
        name="Médiathèque",
        itinerant=False,
        closed_on_public_holidays=False,
        typology="BIB",
    )
    places = export_queryset(structure=structure)
    if file_format == "csv":
        content, filename = export_csv(places).encode("utf-8"), "export.csv"
    else:
        content, filename = json.dumps(export_json(places)).encode("utf-8"), "export.json"

    report = import_places(structure=other_structure, filename=filename, content=content)

    assert report.ok, report.as_text()
    assert report.created == 3
    assert comparable(export_json(export_queryset(structure=other_structure))) == comparable(
        export_json(places)
    )
    copy = other_structure.places.get(name="Espace numérique")
    assert copy.external_id == "commune-a-espace-numerique"
    assert copy.pivot == structure.siret  # the original producer's SIRET is kept


@pytest.mark.django_db
def test_text_the_export_neutralised_is_read_back_exactly(structure, other_structure):
    """The CSV export writes `'=…` for a formula-like text; importing it gives the text back."""
    texts = {
        "name": '=HYPERLINK("http://x","y")',
        "address": "-2+3+cmd|' /C calc'!A0",
        "address_complement": "'@déjà une apostrophe",
        "description": "+SUM(1)",  # a leading tab would not come back: values are trimmed
        "source": "@cmd",
    }
    make_place(structure, "piege", phone="+33164123456", **texts)
    content = export_csv(export_queryset(structure=structure)).encode("utf-8")
    assert b"'=HYPERLINK" in content and b"''@d" in content

    report = import_places(structure=other_structure, filename="export.csv", content=content)

    assert report.ok, report.as_text()
    copy = other_structure.places.get()
    assert {name: getattr(copy, name) for name in texts} == texts
    assert copy.phone == "+33164123456"


@pytest.mark.django_db
def test_reimporting_an_export_into_the_same_structure_updates(structure):
    make_full_place(structure)
    content = export_csv(export_queryset()).encode("utf-8")
    report = import_places(structure=structure, filename="export.csv", content=content)
    assert report.ok, report.as_text()
    assert (report.created, report.updated) == (0, 1)
    assert structure.places.count() == 1


@pytest.mark.django_db
def test_dry_run_saves_nothing(structure):
    name = LEGACY_FILES[0]
    report = import_places(
        structure=structure, filename=name, content=reference_bytes(name), dry_run=True
    )
    assert report.ok
    assert report.created == 12
    assert "Simulation, rien n'a été enregistré" in report.as_text()
    assert not Place.objects.exists()


@pytest.mark.django_db
def test_import_command_prints_the_report_and_fails_on_errors(structure, tmp_path):
    out = io.StringIO()
    call_command(
        "import_places", str(REFERENCE / LEGACY_FILES[0]), "--structure", "commune-a", stdout=out
    )
    assert "12 lieux créés, 0 " in out.getvalue()

    bad = tmp_path / "lieux.csv"
    bad.write_bytes(csv_bytes([example_record(code_postal="7700")]))
    out = io.StringIO()
    with pytest.raises(CommandError, match="Import refusé"):
        call_command("import_places", str(bad), "--structure", "commune-a", stdout=out)
    assert "Lieu n° 1 (ligne 2 du fichier), champ « code_postal »" in out.getvalue()
    with pytest.raises(CommandError, match="Aucune structure"):
        call_command("import_places", str(bad), "--structure", "inconnue")
    assert structure.places.count() == 12
