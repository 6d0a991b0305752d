"""Checking records against the national places standard v1.0.1 and the `Place` model.

Every record is checked before anything is written: required fields, French identifiers
(postcode, INSEE code, SIRET, phone), addresses, coordinates, the exact vocabularies (values
off by case, accents or spaces are corrected with a warning), the opening hours (OSM
`opening_hours`), then `Place.full_clean()`. Records are matched to the structure's places on
their `id` (or the `<structure>-<place>` id of Lien's own export) so a re-import updates them.
"""

import datetime
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _
from stdnum.fr import siret as stdnum_siret

from lien.accounts.models import Structure
from lien.core import limits
from lien.core.text import fold
from lien.core.validators import normalise_phone, validate_insee_code, validate_postcode
from lien.places import vocabularies as voc
from lien.places.hours import HoursError, WeeklyRule, parse_osm
from lien.places.importing.legacy import ACCOMPANIMENT_ALIASES, legacy_to_v1
from lien.places.importing.records import ImportReport, Issues, Row, split
from lien.places.models import Place, PlaceKind
from lien.places.opendata import ITINERANT, LIST_FIELDS, SEPARATOR

REQUIRED_FIELDS = ("id", "nom", "adresse", "commune", "code_postal")

SUMMARY_MAX = 280

TYPOLOGIES_PATH = (
    Path(__file__).resolve().parent.parent / "standard" / "typologies-de-structures-v0.json"
)

# Model field → standard field, to report full_clean() errors under the file's column.
MODEL_TO_STANDARD = {
    "name": "nom",
    "address": "adresse",
    "address_complement": "complement_adresse",
    "postcode": "code_postal",
    "city": "commune",
    "insee_code": "code_insee",
    "latitude": "latitude",
    "longitude": "longitude",
    "phone": "telephone",
    "email": "courriels",
    "website": "site_web",
    "acceslibre_url": "fiche_acces_libre",
    "summary": "presentation_resume",
    "description": "presentation_detail",
    "pivot": "pivot",
    "typology": "typologie",
    "other_labels": "autres_formations_labels",
    "source": "source",
    "external_id": "id",
    **{attribute: name for name, attribute in LIST_FIELDS.items()},
}


@dataclass
class Prepared:
    """A record that passed every check: its place, unsaved, and its opening hours."""

    row: Row
    place: Place
    is_new: bool
    rules: list[WeeklyRule]
    closed_on_public_holidays: bool


def prepare_places(
    structure: Structure,
    rows: list[Row],
    legacy: bool,
    report: ImportReport,
    deadline: limits.Deadline,
) -> list[Prepared]:
    """Check every record and build its place, unsaved: a new one, or the structure's place
    it updates. Errors and warnings go in the report; records with an error are left out."""
    by_external_id: dict[str, Place] = {}
    by_slug: dict[str, Place] = {}
    for place in structure.places.all():
        by_slug[place.slug] = place
        if place.external_id:
            by_external_id[place.external_id] = place
    seen_ids: dict[str, int] = {}
    matched: dict[int, int] = {}
    prepared: list[Prepared] = []
    for row in rows:
        deadline.check()  # about 15 ms a record (hours, database constraints)
        issues = Issues(report, row)
        values = legacy_to_v1(row.values, issues.warning) if legacy else row.values
        values = {k: (v or "").strip() for k, v in values.items()}
        item = _prepare_row(structure, row, values, issues, report)
        record_id = values.get("id", "")
        if record_id in seen_ids:
            issues.error(
                "id",
                _("Identifiant « %(id)s » déjà utilisé par le lieu n° %(row)s.")
                % {"id": record_id, "row": seen_ids[record_id]},
            )
        elif record_id:
            seen_ids[record_id] = row.number
        existing = by_external_id.get(record_id)
        if existing is None and record_id.startswith(f"{structure.slug}-"):
            # A file exported by Lien for this same structure: ids are "<structure>-<place>".
            existing = by_slug.get(record_id.removeprefix(f"{structure.slug}-"))
        if existing is not None:
            if existing.pk in matched:
                issues.error(
                    "id",
                    _("Ce lieu est déjà mis à jour par le lieu n° %(row)s.")
                    % {"row": matched[existing.pk]},
                )
                continue
            matched[existing.pk] = row.number
        place = existing or Place(structure=structure, external_id=record_id, published=True)
        _apply(place, item, is_new=existing is None)
        try:
            place.full_clean(exclude=["slug"] if existing is None else None)
        except ValidationError as exc:
            for model_field, messages in exc.message_dict.items():
                column = MODEL_TO_STANDARD.get(model_field, "")
                if column in issues.failed_fields or (not column and issues.failed_fields):
                    continue  # already reported, or a constraint tripped by a reported value
                issues.error(column, " ".join(messages))
        if issues.failed_fields:
            continue
        prepared.append(
            Prepared(row, place, existing is None, item["rules"], item["closed_on_public_holidays"])
        )
    return prepared


def _prepare_row(
    structure: Structure, row: Row, values: dict[str, str], issues: Issues, report: ImportReport
) -> dict:
    for name in REQUIRED_FIELDS:
        if not values.get(name):
            issues.error(name, _("Ce champ est obligatoire."))
    data: dict = {}
    data["external_id"] = values.get("id", "")
    data["name"] = values.get("nom", "")
    data["address"] = values.get("adresse", "")
    data["city"] = values.get("commune", "")
    data["address_complement"] = values.get("complement_adresse", "")
    if values.get("code_postal"):
        try:
            data["postcode"] = validate_postcode(values["code_postal"])
        except ValidationError as exc:
            issues.error("code_postal", _with_value(exc, values["code_postal"]))
    data["insee_code"] = ""
    if values.get("code_insee"):
        try:
            data["insee_code"] = validate_insee_code(values["code_insee"])
        except ValidationError as exc:
            issues.error("code_insee", _with_value(exc, values["code_insee"]))
    data["latitude"] = _coordinate("latitude", values.get("latitude", ""), 90, issues)
    data["longitude"] = _coordinate("longitude", values.get("longitude", ""), 180, issues)
    if (data["latitude"] is None) != (data["longitude"] is None):
        issues.warning(
            "latitude",
            _("Latitude et longitude vont ensemble ; la position incomplète est ignorée."),
        )
        data["latitude"] = data["longitude"] = None
    data["pivot"] = _pivot(values.get("pivot", ""), structure, issues)
    data["typology"] = _typology(values.get("typologie", ""), issues)

    phones = split(values.get("telephone", ""), "|;,/")
    data["phone"] = ""
    if phones:
        try:
            data["phone"] = normalise_phone(_first_only("telephone", phones, issues))
        except ValidationError as exc:
            issues.error("telephone", _message(exc))
    emails = split(values.get("courriels", ""), "|;")
    for email in emails:
        try:
            validate_email(email)
        except ValidationError:
            issues.error(
                "courriels", _("Adresse e-mail non valide : « %(value)s ».") % {"value": email}
            )
    data["email"] = _first_only("courriels", emails, issues)
    websites = [_url("site_web", u, issues) for u in split(values.get("site_web", ""))]
    data["website"] = _first_only("site_web", [u for u in websites if u], issues)
    data["acceslibre_url"] = _url("fiche_acces_libre", values.get("fiche_acces_libre", ""), issues)

    data["description"] = values.get("presentation_detail", "")
    summary = values.get("presentation_resume", "")
    data["summary"] = _summary(summary, issues)
    if data["summary"] != summary and not data["description"]:
        data["description"] = summary  # nothing lost: the full text becomes the detail
    data["source"] = values.get("source", "")
    data["other_labels"] = values.get("autres_formations_labels", "")

    itinerance = _vocabulary_values("itinerance", values.get("itinerance", ""), issues)
    data["itinerant"] = ITINERANT in itinerance
    for name, attribute in LIST_FIELDS.items():
        data[attribute] = _vocabulary_values(name, values.get(name, ""), issues)

    if values.get("date_maj"):
        try:
            datetime.date.fromisoformat(values["date_maj"])
        except ValueError:
            issues.warning(
                "date_maj",
                _("Date de mise à jour illisible (AAAA-MM-JJ attendu), ignorée : « %(value)s ».")
                % {"value": values["date_maj"]},
            )
    if values.get("prise_rdv"):
        issues.warning(
            "prise_rdv",
            _(
                "Le lien de prise de rendez-vous n'est pas encore pris "
                "en charge par Lien ; il est ignoré."
            ),
        )

    # The record describes the place entirely: no hours in it clears the place's hours.
    data["rules"], data["closed_on_public_holidays"] = [], True
    hours = values.get("horaires", "")
    if hours:
        report.hours_total += 1
        try:
            parsed = parse_osm(hours)
        except HoursError as exc:
            issues.error("horaires", exc.message)
        else:
            # Canonical rules: overlapping ranges are already merged (with a warning).
            report.hours_understood += 1
            data["rules"] = list(parsed.rules)
            data["closed_on_public_holidays"] = parsed.closed_on_public_holidays
            for message in parsed.warnings:
                issues.warning("horaires", message)
    return data


def _apply(place: Place, data: dict, *, is_new: bool) -> None:
    skip = {"rules", "closed_on_public_holidays", "external_id"}
    for attribute, value in data.items():
        if attribute not in skip:
            setattr(place, attribute, value)
    if not place.external_id:
        place.external_id = data["external_id"]
    if is_new:
        place.kind = _guess_kind(place.name, place.typology)


@cache
def _folded_vocabulary(field_name: str) -> dict[str, str]:
    return {fold(v): v for v in voc.FIELD_VOCABULARIES[field_name]}


@cache
def _typologies() -> dict[str, str]:
    codes = [item["value"] for item in json.loads(TYPOLOGIES_PATH.read_text(encoding="utf-8"))]
    return {code.casefold(): code for code in codes}


def _vocabulary_values(field_name: str, raw: str, issues: Issues) -> list[str]:
    allowed = voc.FIELD_VOCABULARIES[field_name]
    values: list[str] = []
    unknown: list[str] = []
    for item in split(raw):
        if field_name == "modalites_accompagnement":
            short = re.split(r" :| \(", item, maxsplit=1)[0].strip()
            item = ACCOMPANIMENT_ALIASES.get(short, short)
        if item in allowed:
            values.append(item)
            continue
        canonical = _folded_vocabulary(field_name).get(fold(item))
        if canonical:
            issues.warning(
                field_name,
                _("« %(value)s » corrigé en « %(canonical)s ».")
                % {"value": item, "canonical": canonical},
            )
            values.append(canonical)
        else:
            unknown.append(item)
    if unknown:
        issues.error(
            field_name,
            _(
                "Valeur(s) hors du référentiel national : %(values)s. Valeurs possibles : "
                "%(allowed)s."
            )
            % {"values": ", ".join(f"« {u} »" for u in unknown), "allowed": " ; ".join(allowed)},
        )
    order = {v: i for i, v in enumerate(allowed)}
    return sorted(dict.fromkeys(values), key=order.__getitem__)


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _with_value(exc: ValidationError, raw: str) -> str:
    return _("%(reason)s Valeur reçue : « %(value)s ».") % {"reason": _message(exc), "value": raw}


def _url(field_name: str, raw: str, issues: Issues) -> str:
    value = raw.strip()
    if not value:
        return ""
    if not re.match(r"^[a-z][a-z0-9+.-]*://", value, re.IGNORECASE):
        issues.warning(
            field_name, _("« %(value)s » complété en « https://%(value)s ».") % {"value": value}
        )
        value = f"https://{value}"
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        issues.error(field_name, _("Adresse web non valide : « %(value)s ».") % {"value": raw})
        return ""
    return value


def _first_only(field_name: str, values: list[str], issues: Issues) -> str:
    if len(values) > 1:
        issues.warning(
            field_name,
            _(
                "Lien ne conserve qu'une valeur pour ce champ : « %(kept)s » gardée, %(dropped)s "
                "ignorée(s)."
            )
            % {"kept": values[0], "dropped": ", ".join(f"« {v} »" for v in values[1:])},
        )
    return values[0] if values else ""


def _coordinate(field_name: str, raw: str, limit: int, issues: Issues) -> Decimal | None:
    text = raw.strip().replace(",", ".")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        issues.error(
            field_name, _("Nombre attendu, par exemple 45.68 : « %(value)s ».") % {"value": raw}
        )
        return None
    if not math.isfinite(number) or not -limit <= number <= limit:
        issues.error(
            field_name,
            _("Valeur hors limites (entre -%(limit)s et %(limit)s) : « %(value)s ».")
            % {"limit": limit, "value": raw},
        )
        return None
    return Decimal(str(round(number, 6)))


def _summary(raw: str, issues: Issues) -> str:
    text = raw.strip()
    if len(text) <= SUMMARY_MAX:
        return text
    cut = text[: SUMMARY_MAX - 1]
    if " " in cut[SUMMARY_MAX // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    issues.warning(
        "presentation_resume",
        _(
            "Présentation résumée de %(length)s caractères, limitée à %(max)s par le standard : "
            "elle a été raccourcie."
        )
        % {"length": len(text), "max": SUMMARY_MAX},
    )
    return cut.rstrip(" ,;.:") + "…"


def _typology(raw: str, issues: Issues) -> str:
    codes: list[str] = []
    for item in split(raw, "|;"):
        code = _typologies().get(item.casefold())
        if code is None:
            issues.warning(
                "typologie",
                _("Code de typologie inconnu, ignoré : « %(value)s ».") % {"value": item},
            )
        elif code not in codes:
            codes.append(code)
    kept: list[str] = []
    limit = Place._meta.get_field("typology").max_length
    for code in codes:
        if limit is not None and len(SEPARATOR.join([*kept, code])) > limit:
            issues.warning(
                "typologie", _("Trop de codes pour Lien, ignoré : « %(value)s ».") % {"value": code}
            )
        else:
            kept.append(code)
    return SEPARATOR.join(kept)


def _pivot(raw: str, structure: Structure, issues: Issues) -> str:
    value = re.sub(r"[\s.]", "", raw)
    if not value or value == structure.siret:
        return ""  # the structure's SIRET is published
    if not re.fullmatch(r"[a-zA-Z0-9]{9,14}", value):
        issues.error(
            "pivot",
            _("SIRET (14 chiffres), RNA ou RIDET attendu : « %(value)s ».") % {"value": raw},
        )
        return ""
    is_siret = value.isdigit() and len(value) == 14 and value.strip("0")
    if is_siret and not stdnum_siret.is_valid(value):
        issues.warning(
            "pivot",
            _("La clé de contrôle de ce SIRET ne correspond pas : « %(value)s ».")
            % {"value": value},
        )
    return value


def _guess_kind(name: str, typology: str) -> str:
    codes = set(typology.split(SEPARATOR))
    folded = fold(name)
    if "BIB" in codes or re.search(r"mediatheque|bibliotheque", folded):
        return PlaceKind.LIBRARY
    if "TIERS_LIEUX" in codes or re.search(r"tiers[- ]lieu", folded):
        return PlaceKind.TIERS_LIEU
    if "PIJ_BIJ" in codes or re.search(r"espace jeune", folded):
        return PlaceKind.YOUTH_CENTRE
    return PlaceKind.OTHER
