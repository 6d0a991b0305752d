"""Helpers shared by the open-data export and import tests."""

import datetime
from decimal import Decimal

from frictionless import Resource, Schema

from lien.accounts.models import Structure
from lien.places import vocabularies as voc
from lien.places.models import OpeningRule, Place
from lien.places.opendata import load_schema


def frictionless_errors(data) -> list[str]:
    """Validation errors of in-memory rows (header first) or JSON records against v1.0.1."""
    report = Resource(data=data, schema=Schema.from_descriptor(load_schema())).validate()
    errors = [
        f"{row}:{name}:{kind}"
        for row, name, kind in report.flatten(["rowNumber", "fieldName", "type"])
    ]
    if not report.valid and not errors:
        errors.append("invalid")
    return errors


def make_place(structure: Structure, slug: str = "lieu", **fields) -> Place:
    values = {
        "name": slug.replace("-", " ").capitalize(),
        "kind": "other",
        "address": "1 rue de la Mairie",
        "postcode": "77100",
        "city": "Meaux",
    }
    values.update(fields)
    return Place.objects.create(structure=structure, slug=slug, **values)


def make_full_place(structure: Structure, slug: str = "espace-numerique") -> Place:
    """A place using every value of every multi-valued vocabulary and alternate-week hours."""
    place = make_place(
        structure,
        slug,
        name="Espace numérique",
        kind="office",
        address_complement="Parc du centre social",
        insee_code="77284",
        latitude=Decimal("48.960123"),
        longitude=Decimal("2.878900"),
        phone="+33164123456",
        email="numerique@commune-a.fr",
        website="https://www.commune-a.fr/numerique",
        acceslibre_url="https://acceslibre.beta.gouv.fr/app/77-meaux/a/mairie/erp/mairie/",
        summary="Aide aux démarches en ligne, « ateliers » et prêt de matériel.",
        description='Ligne 1\nLigne 2, avec virgule ; et "guillemets".',
        typology="TIERS_LIEUX|MUNI",
        other_labels="Label et la bête",
        services=list(voc.SERVICES),
        publics=list(voc.PUBLICS),
        specific_support=list(voc.SPECIFIC_SUPPORT),
        fees=list(voc.FEES),
        national_programmes=list(voc.NATIONAL_PROGRAMMES),
        training_labels=list(voc.TRAINING_LABELS),
        access_modes=list(voc.ACCESS_MODES),
        accompaniment_modes=list(voc.ACCOMPANIMENT_MODES),
        itinerant=True,
        closed_on_public_holidays=True,
    )
    nine, noon = datetime.time(9), datetime.time(12)
    OpeningRule.objects.bulk_create(
        [OpeningRule(place=place, weekday=day, start=nine, end=noon) for day in range(5)]
        + [
            OpeningRule(
                place=place, weekday=3, start=datetime.time(14), end=datetime.time(17), weeks="odd"
            ),
            OpeningRule(
                place=place,
                weekday=1,
                start=datetime.time(14),
                end=datetime.time(16, 30),
                weeks="even",
            ),
        ]
    )
    return place
