"""Places as open data in the national standard "lieux de médiation numérique" v1.0.1.

The schema (a Frictionless Table Schema, Licence Ouverte 2.0) is copied in
`standard/schema-v1.0.1.json`; `FIELDS` follows its field order, which is also the CSV column
order. Reads only: writing places from such a file is `importer.py`.

The CSV is opened in spreadsheets by anyone: its cells go through `core.spreadsheet.safe_cell`
(a name starting with `=` is written `'=…`), which keeps `+33…` phones and negative coordinates
as they are, so the file stays valid against the schema.
"""

import csv
import datetime
import io
import json
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.utils import timezone
from django.utils.text import slugify

from lien.accounts.models import Structure
from lien.core import timefmt
from lien.core.spreadsheet import SafeDictWriter
from lien.places.hours import to_osm
from lien.places.models import Place
from lien.places.services import weekly_rules

SCHEMA_PATH = Path(__file__).resolve().parent / "standard" / "schema-v1.0.1.json"
STANDARD_VERSION = "1.0.1"

FIELDS: tuple[str, ...] = (
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "itinerance",
    "structure_parente",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
    "fiche_acces_libre",
    "prise_rdv",
)
NUMBER_FIELDS = ("latitude", "longitude")
# Separator of multi-valued fields: `A|B`, no spaces (`A | B` and `A;B` are refused).
SEPARATOR = "|"
# Published as `source` for places entered in Lien; imported places keep the collector they
# came with (the standard defines `source` as the body that collected the data).
DEFAULT_SOURCE = "Lien"
ITINERANT, FIXED = "Itinérant", "Fixe"
CSV_NAME_SUFFIX = "lieux-de-mediation-numerique"

# Multi-valued fields of the standard and the Place attribute (a list) that holds each.
LIST_FIELDS: dict[str, str] = {
    "services": "services",
    "publics_specifiquement_adresses": "publics",
    "prise_en_charge_specifique": "specific_support",
    "frais_a_charge": "fees",
    "dispositif_programmes_nationaux": "national_programmes",
    "formations_labels": "training_labels",
    "modalites_acces": "access_modes",
    "modalites_accompagnement": "accompaniment_modes",
}


@cache
def load_schema() -> dict:
    """The Table Schema v1.0.1 as a dict (frictionless refuses absolute paths)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def export_queryset(*, structure: Structure | None = None):
    """Published places of every structure (or of one), ready to export in 2 queries."""
    places = Place.objects.published().select_related("structure").prefetch_related("opening_rules")
    if structure is not None:
        places = places.of_structure(structure)
    return places.order_by("structure__name", "name", "pk")


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def place_hours(place: Place) -> str:
    """The place's weekly rules as an OSM `opening_hours` string ("" when it has none)."""
    # weekly_rules() goes through .all(), so a prefetch_related("opening_rules") is used.
    return to_osm(weekly_rules(place), place.closed_on_public_holidays)


def place_to_record(place: Place) -> dict[str, str]:
    """One place as a record of the standard: every field of `FIELDS`, all strings."""
    structure = place.structure
    record = {
        "id": f"{structure.slug}-{place.slug}",
        "pivot": place.pivot or structure.siret,
        "nom": place.name,
        "commune": place.city,
        "code_postal": place.postcode,
        "code_insee": place.insee_code,
        "adresse": place.address,
        "complement_adresse": place.address_complement,
        "latitude": _number(place.latitude),
        "longitude": _number(place.longitude),
        "typologie": place.typology,
        "telephone": place.phone,
        "courriels": place.email,
        "site_web": place.website,
        "horaires": place_hours(place),
        "presentation_resume": place.summary,
        "presentation_detail": place.description,
        "source": place.source or DEFAULT_SOURCE,
        "itinerance": ITINERANT if place.itinerant else FIXED,
        "structure_parente": structure.name,
        "date_maj": timefmt.local_day(place.updated_at, place.structure).isoformat(),
        "autres_formations_labels": place.other_labels,
        "fiche_acces_libre": place.acceslibre_url,
        "prise_rdv": "",
    }
    for field, attribute in LIST_FIELDS.items():
        record[field] = SEPARATOR.join(getattr(place, attribute) or [])
    return {field: record[field] for field in FIELDS}


def export_csv(places: Iterable[Place]) -> str:
    """CSV text (RFC 4180, comma, minimal quoting) with the header in schema order, every cell
    neutralised against formula injection (`safe_cell`).

    Encode it as UTF-8 (without BOM) when writing it to a file.
    """
    out = io.StringIO()
    writer = SafeDictWriter(
        out, fieldnames=FIELDS, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )
    writer.writeheader()
    for place in places:
        writer.writerow(place_to_record(place))
    return out.getvalue()


def record_to_json(record: dict[str, str]) -> dict[str, str | float | None]:
    """Latitude and longitude as numbers, empty values as null; every field kept."""
    out: dict[str, str | float | None] = {}
    for field in FIELDS:
        value = record.get(field, "")
        if value == "":
            out[field] = None
        elif field in NUMBER_FIELDS:
            out[field] = float(value)
        else:
            out[field] = value
    return out


def export_json(places: Iterable[Place]) -> list[dict]:
    """The same records as `export_csv`, as a list of JSON objects."""
    return [record_to_json(place_to_record(place)) for place in places]


def dated_filename(
    producer_slug: str,
    territory: str,
    today: datetime.date | None = None,
    *,
    extension: str = "csv",
) -> str:
    """File name of the national convention:
    `YYYY-MM-DD_<producer>_lieux-de-mediation-numerique_<territory>.csv`."""
    today = today or timezone.localdate()
    producer = slugify(producer_slug) or "producteur"
    area = slugify(territory) or "territoire"
    return f"{today.isoformat()}_{producer}_{CSV_NAME_SUFFIX}_{area}.{extension}"
