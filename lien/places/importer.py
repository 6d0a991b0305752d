"""Import of places from a file in the national places standard, all or nothing.

Accepted files:
- v1.0.1 CSV (comma separated, UTF-8, with or without BOM), header in any order;
- v1.0.1 JSON: a list of records;
- legacy v0.1.x JSON or CSV (`;` inside multi-valued fields, `courriel`, `conditions_acces`,
  `labels_nationaux`, `publics_accueillis`, `accessibilite`…), converted to v1 first.

Every row is checked before anything is written; one error and nothing is saved. Rows are
numbered as records: row 1 is the first place (a CSV header is not counted; the CSV line is
given as well). Places are matched on (structure, record `id`) so a re-import updates them.

A file past the caps of `lien.core.limits` (size, records, columns, value length, JSON depth,
number length, time spent checking) is refused whole with a French message, never an exception.
CSV cells that Lien's export protected against formula injection (`'=…`) are read back as they
were (`lien.core.spreadsheet.unquote_cell`).
"""

import csv
import datetime
import io
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from stdnum.fr import siret as stdnum_siret

from lien.accounts.models import Structure
from lien.core import limits
from lien.core.spreadsheet import unquote_cell
from lien.core.validators import normalise_phone, validate_insee_code, validate_postcode
from lien.places import vocabularies as voc
from lien.places.hours import HoursError, WeeklyRule, parse_osm
from lien.places.models import Place, PlaceKind
from lien.places.opendata import FIELDS, ITINERANT, LIST_FIELDS, SEPARATOR
from lien.places.services import opening_rules_replace, place_save, unique_place_slug

MAX_BYTES = 5 * 1024 * 1024  # as the upload form (`places.forms.ImportForm`)
MAX_RECORDS = 20_000
SUMMARY_MAX = 280
REQUIRED_FIELDS = ("id", "nom", "adresse", "commune", "code_postal")
TYPOLOGIES_PATH = Path(__file__).resolve().parent / "standard" / "typologies-de-structures-v0.json"
# Only v0.1.x has these columns; any of them marks a legacy file.
LEGACY_ONLY_FIELDS = frozenset(
    {
        "courriel",
        "conditions_acces",
        "labels_nationaux",
        "labels_autres",
        "publics_accueillis",
        "accessibilite",
        "cle_ban",
    }
)
# Every column of the legacy schema (v0.1.1, copied in standard/).
LEGACY_FIELDS = frozenset(
    field["name"]
    for field in json.loads(
        (Path(__file__).resolve().parent / "standard" / "schema-v0.1.1.json").read_text("utf-8")
    )["fields"]
)

# --- Legacy (0.1.x) vocabularies mapped onto v1.0.1 ------------------------------------------
# 15 services → 9. Grouping of the v1.0.1 documentation: administrative and health procedures
# become "Aide aux démarches administratives"; first steps with devices "Maîtrise des outils
# numériques du quotidien"; digital citizenship (healthy, safe use) "Utilisation sécurisée du
# numérique"; starting a business joins professional integration.
LEGACY_SERVICES = {
    "Devenir autonome dans les démarches administratives": "Aide aux démarches administratives",
    "Réaliser des démarches administratives avec un accompagnement": (
        "Aide aux démarches administratives"
    ),
    "Accompagner les démarches de santé": "Aide aux démarches administratives",
    "Prendre en main un smartphone ou une tablette": "Maîtrise des outils numériques du quotidien",
    "Prendre en main un ordinateur": "Maîtrise des outils numériques du quotidien",
    "Utiliser le numérique au quotidien": "Maîtrise des outils numériques du quotidien",
    "Approfondir ma culture numérique": "Compréhension du monde numérique",
    "Promouvoir la citoyenneté numérique": "Utilisation sécurisée du numérique",
    "Favoriser mon insertion professionnelle": "Insertion professionnelle via le numérique",
    "Créer et développer mon entreprise": "Insertion professionnelle via le numérique",
    "Créer avec le numérique": "Loisirs et créations numériques",
    "Soutenir la parentalité et l'éducation avec le numérique": (
        "Parentalité et éducation avec le numérique"
    ),
    "Accéder à une connexion internet": "Accès internet et matériel informatique",
    "Accéder à du matériel": "Accès internet et matériel informatique",
    "S'équiper en matériel informatique": "Acquisition de matériel informatique à prix solidaire",
}
# publics_accueillis → (publics_specifiquement_adresses, prise_en_charge_specifique).
# "Adultes" is everybody, which v1 expresses by leaving both fields empty.
LEGACY_PUBLICS = {
    "Seniors (+ 65 ans)": ("Seniors", None),
    "Familles/enfants": ("Familles et/ou enfants", None),
    "Adultes": (None, None),
    "Jeunes (16-26 ans)": ("Jeunes", None),
    "Uniquement femmes": ("Femmes", None),
    "Public langues étrangères": (None, "Langues étrangères (autres)"),
    "Déficience visuelle": (None, "Déficience visuelle"),
    "Surdité": (None, "Surdité"),
    # v1 has no psychic disabilities; the nearest specific support is kept.
    "Handicaps psychiques": (None, "Handicaps mentaux"),
    "Handicaps mentaux": (None, "Handicaps mentaux"),
    "Personnes en situation d'illettrisme": (None, "Illettrisme"),
}
# conditions_acces labels (the text before " :") that are not v1 fees.
LEGACY_FEES = {
    "Adhésion": "Payant",
    "Accepte le Pass numérique": "Gratuit sous condition",
}
# labels_nationaux → (field, v1 value). Absent labels go to autres_formations_labels.
LEGACY_LABELS = {
    "France Services": ("dispositif_programmes_nationaux", "France Services"),
    "CNFS": ("dispositif_programmes_nationaux", "Conseillers numériques"),
    "Aidants Connect": ("dispositif_programmes_nationaux", "Aidants Connect"),
    "Grandes écoles du numérique": ("dispositif_programmes_nationaux", "Grande école du numérique"),
    "Point relais CAF": ("dispositif_programmes_nationaux", "Point d'accès numérique CAF"),
    "Point numérique CAF": ("dispositif_programmes_nationaux", "Point d'accès numérique CAF"),
    "Fabriques de Territoire": ("formations_labels", "Fabriques de Territoire"),
}
# modalites_accompagnement: legacy labels (text before " :") and the long v1 description forms.
ACCOMPANIMENT_ALIASES = {
    "Seul": "En autonomie",
    "Avec de l'aide": "Accompagnement individuel",
    "Dans un atelier": "Dans un atelier collectif",
    "A ma place": "Accompagnement individuel",
    "À ma place": "Accompagnement individuel",
}


@dataclass(frozen=True)
class RowIssue:
    """A problem found in one record. `row` counts records from 1 (0: the whole file);
    `line` is the CSV line where the record starts (the header is line 1)."""

    row: int
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        if self.row == 0:
            where = _("Fichier")
        elif self.line:
            where = _("Lieu n° %(row)s (ligne %(line)s du fichier)") % {
                "row": self.row,
                "line": self.line,
            }
        else:
            where = _("Lieu n° %(row)s") % {"row": self.row}
        if self.field:
            where += _(", champ « %(field)s »") % {"field": self.field}
        return f"{where} : {self.message}"


@dataclass
class ImportReport:
    filename: str = ""
    file_format: str = ""
    dry_run: bool = False
    records: int = 0
    created: int = 0
    updated: int = 0
    hours_total: int = 0
    hours_understood: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_text(self) -> str:
        """A French summary for people: outcome, then errors, then warnings."""
        lines = [
            _("Import de « %(name)s »") % {"name": self.filename}
            + (f" ({self.file_format})" if self.file_format else "")
        ]
        if self.ok and self.dry_run:
            created = ngettext(
                "%(count)s lieu serait créé", "%(count)s lieux seraient créés", self.created
            ) % {"count": self.created}
            updated = ngettext(
                "%(count)s serait mis à jour", "%(count)s seraient mis à jour", self.updated
            ) % {"count": self.updated}
            lines.append(
                _("Simulation, rien n'a été enregistré : %(created)s, %(updated)s.")
                % {"created": created, "updated": updated}
            )
        elif self.ok:
            created = ngettext("%(count)s lieu créé", "%(count)s lieux créés", self.created) % {
                "count": self.created
            }
            updated = ngettext(
                "%(count)s lieu mis à jour", "%(count)s lieux mis à jour", self.updated
            ) % {"count": self.updated}
            lines.append(_("%(created)s, %(updated)s.") % {"created": created, "updated": updated})
        else:
            lines.append(
                ngettext(
                    "Aucun lieu n'a été enregistré : %(count)s erreur à corriger.",
                    "Aucun lieu n'a été enregistré : %(count)s erreurs à corriger.",
                    len(self.errors),
                )
                % {"count": len(self.errors)}
            )
        if self.hours_total:
            lines.append(
                _("Horaires : %(ok)s compris sur %(total)s.")
                % {"ok": self.hours_understood, "total": self.hours_total}
            )
        if self.errors:
            lines.append(_("Erreurs :"))
            lines.extend(f"- {issue}" for issue in self.errors)
        if self.warnings:
            lines.append(_("Avertissements :"))
            lines.extend(f"- {issue}" for issue in self.warnings)
        return "\n".join(lines)


class _FileError(limits.FileRefused):
    """The file as a whole cannot be read; carries a French message."""


class _Rollback(Exception):
    pass


@dataclass
class _Row:
    number: int
    line: int | None
    values: dict[str, str]


@dataclass
class _Prepared:
    row: _Row
    place: Place
    is_new: bool
    rules: list[WeeklyRule]
    closed_on_public_holidays: bool


class _Issues:
    """Collects the issues of one record."""

    def __init__(self, report: ImportReport, row: _Row):
        self.report, self.row = report, row
        self.failed_fields: set[str] = set()

    def error(self, field_name: str, message: str) -> None:
        self.failed_fields.add(field_name)
        self.report.errors.append(RowIssue(self.row.number, field_name, message, self.row.line))

    def warning(self, field_name: str, message: str) -> None:
        self.report.warnings.append(RowIssue(self.row.number, field_name, message, self.row.line))


# --- Public entry point --------------------------------------------------------------------


def import_places(
    *,
    structure: Structure,
    filename: str,
    content: bytes,
    dry_run: bool = False,
    time_budget: float | None = None,
) -> ImportReport:
    """Create or update `structure`'s places from a places-standard file, all or nothing.

    Nothing is written when the report has an error, nor in a dry run (the writes are then
    made and rolled back, so that database checks run too). Reading and checking the file
    stop with an error after `time_budget` seconds (`limits.IMPORT_TIME_BUDGET` by default).
    """
    report = ImportReport(filename=filename, dry_run=dry_run)
    deadline = limits.Deadline(time_budget)
    try:
        rows, legacy = _read(filename, content, report, deadline)
        report.records = len(rows)
        prepared = _prepare(structure, rows, legacy, report, deadline)
    except limits.FileRefused as exc:
        report.errors.insert(0, RowIssue(0, "", str(exc)))
        return report
    if report.errors:
        return report
    _write(structure, prepared, report)
    return report


# --- Reading -------------------------------------------------------------------------------


def _read(
    filename: str, content: bytes, report: ImportReport, deadline: limits.Deadline
) -> tuple[list[_Row], bool]:
    if len(content) > MAX_BYTES:
        raise _FileError(
            _("Fichier trop volumineux (%(max)s Mo au maximum).")
            % {"max": MAX_BYTES // (1024 * 1024)}
        )
    text = _decode(content)
    if not text.strip():
        raise _FileError(_("Le fichier est vide."))
    suffix = Path(filename).suffix.lower()
    if suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in "[{"):
        records = _read_json(text)
        kind = "JSON"
    else:
        records = _read_csv(text, deadline)
        kind = "CSV"
    deadline.check()
    if not records:
        raise _FileError(_("Le fichier ne contient aucun lieu."))
    if len(records) > MAX_RECORDS:
        raise _refuse_too_many()
    keys = set().union(*(r.values.keys() for r in records))
    if len(keys) > limits.MAX_COLUMNS:
        raise limits.refuse_wide(len(keys))
    legacy = bool(keys & LEGACY_ONLY_FIELDS) or _has_legacy_values(records)
    if not keys & (set(FIELDS) | LEGACY_FIELDS) - {"id"}:
        raise _FileError(
            _(
                "Les colonnes ne correspondent pas au standard des lieux de "
                "médiation numérique (par exemple nom, adresse, commune, "
                "code_postal)."
            )
        )
    missing = [f for f in REQUIRED_FIELDS if f not in keys]
    if missing:
        raise _FileError(
            _("Colonne(s) obligatoire(s) absente(s) : %(fields)s.") % {"fields": ", ".join(missing)}
        )
    known = LEGACY_FIELDS if legacy else set(FIELDS)
    unknown = sorted(keys - known - set(FIELDS))
    if unknown:
        report.warnings.append(
            RowIssue(
                0,
                "",
                _("Colonne(s) ignorée(s), hors du standard : %(fields)s.")
                % {"fields": ", ".join(unknown)},
            )
        )
    version = _("ancien format 0.1, converti") if legacy else _("format 1.0")
    report.file_format = f"{kind}, {version}"
    return records, legacy


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _FileError(
            _(
                "Le fichier n'est pas encodé en UTF-8 (octet illisible à la position %(pos)s). "
                "Enregistrez-le en UTF-8 (« CSV UTF-8 » dans un tableur) puis recommencez."
            )
            % {"pos": exc.start + 1}
        ) from exc


def _read_json(text: str) -> list[_Row]:
    try:
        data = limits.load_json(text)  # depth, number length and NaN refused
    except json.JSONDecodeError as exc:
        raise _FileError(
            _("Le fichier JSON est mal formé (ligne %(line)s, colonne %(col)s).")
            % {"line": exc.lineno, "col": exc.colno}
        ) from exc
    if not isinstance(data, list):
        raise _FileError(
            _(
                "Le fichier JSON doit contenir une liste de lieux ([ {…}, {…} ]), "
                "pas un objet ou une valeur seule."
            )
        )
    if len(data) > MAX_RECORDS:
        raise _refuse_too_many()
    rows = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise _FileError(
                _("L'élément n° %(row)s de la liste n'est pas un lieu (objet JSON attendu).")
                % {"row": number}
            )
        if len(item) > limits.MAX_COLUMNS:
            raise limits.refuse_wide(len(item))
        values = {str(k).strip(): _json_value(k, v) for k, v in item.items()}
        if any(len(v) > limits.MAX_CELL_CHARS for v in values.values()):
            raise limits.refuse_long_cell(_("Lieu n° %(row)s") % {"row": number})
        rows.append(_Row(number, None, values))
    return rows


def _refuse_too_many() -> _FileError:
    return _FileError(
        _("Le fichier contient plus de %(max)s lieux ; découpez-le.") % {"max": MAX_RECORDS}
    )


def _json_value(key: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and key in {"code_postal", "code_insee"}:
        # A spreadsheet export turned 01000 into 1000.
        return str(value).zfill(5)
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return SEPARATOR.join(str(v).strip() for v in value if v is not None)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _read_csv(text: str, deadline: limits.Deadline) -> list[_Row]:
    first_line = text.lstrip().split("\n", 1)[0]
    if first_line.count(";") > first_line.count(","):
        raise _FileError(
            _(
                "Le fichier CSV doit utiliser la virgule comme séparateur, comme le "
                "prévoit le standard ; celui-ci semble utiliser le point-virgule."
            )
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise _FileError(_("La ligne d'en-tête du fichier CSV est illisible.")) from exc
    header = [h.strip() for h in header]
    if len(header) > limits.MAX_COLUMNS:
        raise limits.refuse_wide(len(header))
    duplicates = sorted({h for h in header if header.count(h) > 1 and h})
    if duplicates:
        raise _FileError(
            _("Colonne(s) en double : %(fields)s.") % {"fields": ", ".join(duplicates)}
        )
    rows: list[_Row] = []
    line = reader.line_num + 1
    try:
        for cells in reader:
            deadline.check()
            if not any(c.strip() for c in cells):
                line = reader.line_num + 1
                continue
            number = len(rows) + 1
            if number > MAX_RECORDS:
                raise _refuse_too_many()
            if len(cells) != len(header):
                raise _FileError(
                    _(
                        "Lieu n° %(row)s (ligne %(line)s du fichier) : %(found)s valeurs au lieu "
                        "de %(expected)s, comme dans l'en-tête."
                    )
                    % {"row": number, "line": line, "found": len(cells), "expected": len(header)}
                )
            if any(len(c) > limits.MAX_CELL_CHARS for c in cells):
                raise limits.refuse_long_cell(
                    _("Lieu n° %(row)s (ligne %(line)s du fichier)") % {"row": number, "line": line}
                )
            values = dict(zip(header, map(unquote_cell, cells), strict=True))
            rows.append(_Row(number, line, values))
            line = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise limits.refuse_long_cell(
                _("Ligne %(line)s du fichier") % {"line": reader.line_num}
            ) from exc
        raise _FileError(
            _("Le fichier CSV est mal formé près de la ligne %(line)s (guillemet non fermé ?).")
            % {"line": reader.line_num}
        ) from exc
    return rows


def _has_legacy_values(rows: list[_Row]) -> bool:
    for row in rows[:50]:
        services = row.values.get("services", "")
        if any(s.strip() in LEGACY_SERVICES for s in re.split(r"[;|]", services)):
            return True
        if ";" in services:
            return True
    return False


# --- Legacy conversion ---------------------------------------------------------------------


def _split(value: str, separators: str = "|") -> list[str]:
    parts = re.split("[" + re.escape(separators) + "]", value or "")
    out: list[str] = []
    for part in (p.strip() for p in parts):
        if part and part not in out:
            out.append(part)
    return out


def _label(value: str) -> str:
    """The short label of a legacy long value: "Gratuit : Je peux…" → "Gratuit"."""
    return value.split(" :", 1)[0].strip()


def legacy_to_v1(values: dict[str, str], warn: Callable[[str, str], None]) -> dict[str, str]:
    """Convert a v0.1.x record to v1.0.1 field names and vocabularies.

    Values the mapping does not know are passed on unchanged, so that v1 validation reports
    them. v1 columns found in the same record are kept alongside the converted ones.
    """

    def listed(name: str, separators: str = ";|") -> list[str]:
        return _split(values.get(name, ""), separators)

    def joined(items: Iterable[str]) -> str:
        return SEPARATOR.join(dict.fromkeys(items))

    out = {k: v for k, v in values.items() if k in FIELDS}
    out["typologie"] = joined(listed("typologie"))
    out["courriels"] = joined(listed("courriels") + listed("courriel", ";|,"))
    # Legacy site_web was documented as comma-, then semicolon-separated.
    out["site_web"] = joined(listed("site_web", ";|, "))
    out["fiche_acces_libre"] = values.get("fiche_acces_libre") or values.get("accessibilite", "")
    out["services"] = joined(
        LEGACY_SERVICES.get(item.replace("’", "'"), item) for item in listed("services")
    )

    publics = listed("publics_specifiquement_adresses")
    support = listed("prise_en_charge_specifique")
    for item in listed("publics_accueillis"):
        public, specific = LEGACY_PUBLICS.get(item, LEGACY_PUBLICS.get(_label(item), (item, None)))
        publics += [public] if public else []
        support += [specific] if specific else []
    out["publics_specifiquement_adresses"] = joined(publics)
    out["prise_en_charge_specifique"] = joined(support)

    fees = listed("frais_a_charge")
    for item in listed("conditions_acces"):
        label = _label(item)
        if label in LEGACY_FEES:
            warn(
                "frais_a_charge",
                _("« %(old)s » n'existe plus dans le standard 1.0 : converti en « %(new)s ».")
                % {"old": label, "new": LEGACY_FEES[label]},
            )
            label = LEGACY_FEES[label]
        fees.append(label)
    out["frais_a_charge"] = joined(fees)

    programmes = listed("dispositif_programmes_nationaux")
    trainings = listed("formations_labels")
    other_labels = listed("autres_formations_labels", "|") + listed("labels_autres")
    for item in listed("labels_nationaux"):
        target = LEGACY_LABELS.get(item)
        if target is None:
            warn(
                "autres_formations_labels",
                _(
                    "Le label « %(label)s » n'a pas d'équivalent dans le standard 1.0 : "
                    "reporté dans les autres formations et labels."
                )
                % {"label": item},
            )
            other_labels.append(item)
        elif target[0] == "formations_labels":
            trainings.append(target[1])
        else:
            programmes.append(target[1])
    out["dispositif_programmes_nationaux"] = joined(programmes)
    out["formations_labels"] = joined(trainings)
    out["autres_formations_labels"] = joined(other_labels)

    modes = (_label(m) for m in listed("modalites_accompagnement"))
    out["modalites_accompagnement"] = joined(ACCOMPANIMENT_ALIASES.get(m, m) for m in modes)
    return out


# --- Validation ----------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case-, accent- and space-insensitive form, for forgiving vocabulary matches."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain).strip().casefold()


@cache
def _folded_vocabulary(field_name: str) -> dict[str, str]:
    return {_fold(v): v for v in voc.FIELD_VOCABULARIES[field_name]}


@cache
def _typologies() -> dict[str, str]:
    codes = [item["value"] for item in json.loads(TYPOLOGIES_PATH.read_text(encoding="utf-8"))]
    return {code.casefold(): code for code in codes}


def _vocabulary_values(field_name: str, raw: str, issues: _Issues) -> list[str]:
    allowed = voc.FIELD_VOCABULARIES[field_name]
    values: list[str] = []
    unknown: list[str] = []
    for item in _split(raw):
        if field_name == "modalites_accompagnement":
            short = re.split(r" :| \(", item, maxsplit=1)[0].strip()
            item = ACCOMPANIMENT_ALIASES.get(short, short)
        if item in allowed:
            values.append(item)
            continue
        canonical = _folded_vocabulary(field_name).get(_fold(item))
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


def _url(field_name: str, raw: str, issues: _Issues) -> str:
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


def _first_only(field_name: str, values: list[str], issues: _Issues) -> str:
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


def _coordinate(field_name: str, raw: str, limit: int, issues: _Issues) -> Decimal | None:
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


def _summary(raw: str, issues: _Issues) -> str:
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


def _typology(raw: str, issues: _Issues) -> str:
    codes: list[str] = []
    for item in _split(raw, "|;"):
        code = _typologies().get(item.casefold())
        if code is None:
            issues.warning(
                "typologie",
                _("Code de typologie inconnu, ignoré : « %(value)s ».") % {"value": item},
            )
        elif code not in codes:
            codes.append(code)
    kept: list[str] = []
    for code in codes:
        if len(SEPARATOR.join([*kept, code])) > Place._meta.get_field("typology").max_length:
            issues.warning(
                "typologie", _("Trop de codes pour Lien, ignoré : « %(value)s ».") % {"value": code}
            )
        else:
            kept.append(code)
    return SEPARATOR.join(kept)


def _pivot(raw: str, structure: Structure, issues: _Issues) -> str:
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
    folded = _fold(name)
    if "BIB" in codes or re.search(r"mediatheque|bibliotheque", folded):
        return PlaceKind.LIBRARY
    if "TIERS_LIEUX" in codes or re.search(r"tiers[- ]lieu", folded):
        return PlaceKind.TIERS_LIEU
    if "PIJ_BIJ" in codes or re.search(r"espace jeune", folded):
        return PlaceKind.YOUTH_CENTRE
    return PlaceKind.OTHER


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


def _prepare(
    structure: Structure,
    rows: list[_Row],
    legacy: bool,
    report: ImportReport,
    deadline: limits.Deadline,
) -> list[_Prepared]:
    by_external_id: dict[str, Place] = {}
    by_slug: dict[str, Place] = {}
    for place in structure.places.all():
        by_slug[place.slug] = place
        if place.external_id:
            by_external_id[place.external_id] = place
    seen_ids: dict[str, int] = {}
    matched: dict[int, int] = {}
    prepared: list[_Prepared] = []
    for row in rows:
        deadline.check()  # about 15 ms a record (hours, database constraints)
        issues = _Issues(report, row)
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
            _Prepared(
                row, place, existing is None, item["rules"], item["closed_on_public_holidays"]
            )
        )
    return prepared


def _prepare_row(
    structure: Structure, row: _Row, values: dict[str, str], issues: _Issues, report: ImportReport
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

    phones = _split(values.get("telephone", ""), "|;,/")
    data["phone"] = ""
    if phones:
        try:
            data["phone"] = normalise_phone(_first_only("telephone", phones, issues))
        except ValidationError as exc:
            issues.error("telephone", _message(exc))
    emails = _split(values.get("courriels", ""), "|;")
    for email in emails:
        try:
            validate_email(email)
        except ValidationError:
            issues.error(
                "courriels", _("Adresse e-mail non valide : « %(value)s ».") % {"value": email}
            )
    data["email"] = _first_only("courriels", emails, issues)
    websites = [_url("site_web", u, issues) for u in _split(values.get("site_web", ""))]
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


# --- Writing -------------------------------------------------------------------------------


def _write(structure: Structure, prepared: Iterable[_Prepared], report: ImportReport) -> None:
    created = updated = 0
    try:
        with transaction.atomic():
            for item in prepared:
                place = item.place
                try:
                    if item.is_new:
                        place.slug = unique_place_slug(structure, place.name)
                    place_save(structure=structure, place=place)
                    if item.rules or not item.is_new:
                        opening_rules_replace(
                            place=place,
                            rules=item.rules,
                            closed_on_public_holidays=item.closed_on_public_holidays,
                        )
                except ValidationError as exc:
                    for model_field, messages in _message_dict(exc).items():
                        report.errors.append(
                            RowIssue(
                                item.row.number,
                                MODEL_TO_STANDARD.get(model_field, ""),
                                " ".join(messages),
                                item.row.line,
                            )
                        )
                    raise _Rollback from exc
                except DatabaseError as exc:
                    report.errors.append(
                        RowIssue(
                            item.row.number,
                            "",
                            _("Enregistrement refusé par la base de données (%(error)s).")
                            % {"error": exc},
                            item.row.line,
                        )
                    )
                    raise _Rollback from exc
                if item.is_new:
                    created += 1
                else:
                    updated += 1
            if report.dry_run:
                raise _Rollback
    except _Rollback:
        pass
    if not report.errors:
        report.created, report.updated = created, updated


def _message_dict(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"": exc.messages}
