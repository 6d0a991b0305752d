"""Reading a places file: size, encoding, CSV or JSON, the caps, the columns.

Accepted: v1.0.1 CSV (comma separated, UTF-8, with or without BOM, header in any order),
v1.0.1 JSON (a list of records), and the legacy v0.1.x in either form (`legacy.py`). A file
past the caps of `lien.core.limits` (size, records, columns, value length, JSON depth, number
length, time spent reading) is refused whole with a French message (`FileError` or another
`limits.FileRefused`). CSV cells that Lien's export protected against formula injection
(`'=…`) are read back as they were (`lien.core.spreadsheet.unquote_cell`).
"""

import csv
import io
import json
from pathlib import Path

from django.utils.translation import gettext as _

from lien.core import limits
from lien.core.spreadsheet import unquote_cell
from lien.places.importing.legacy import LEGACY_FIELDS, LEGACY_ONLY_FIELDS, has_legacy_values
from lien.places.importing.records import ImportReport, Row, RowIssue
from lien.places.importing.validate import REQUIRED_FIELDS
from lien.places.opendata import FIELDS, SEPARATOR

MAX_BYTES = 5 * 1024 * 1024  # as the upload form (`places.forms.ImportForm`)

MAX_RECORDS = 20_000


class FileError(limits.FileRefused):
    """The file as a whole cannot be read; carries a French message."""


def read_records(
    filename: str, content: bytes, report: ImportReport, deadline: limits.Deadline
) -> tuple[list[Row], bool]:
    """The file's records and whether it is in the legacy v0.1.x schema; its format and the
    columns it ignores go in the report. A file refused whole raises `limits.FileRefused`
    with a French message."""
    if len(content) > MAX_BYTES:
        raise FileError(
            _("Fichier trop volumineux (%(max)s Mo au maximum).")
            % {"max": MAX_BYTES // (1024 * 1024)}
        )
    text = _decode(content)
    if not text.strip():
        raise FileError(_("Le fichier est vide."))
    suffix = Path(filename).suffix.lower()
    if suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in "[{"):
        records = _read_json(text)
        kind = "JSON"
    else:
        records = _read_csv(text, deadline)
        kind = "CSV"
    deadline.check()
    if not records:
        raise FileError(_("Le fichier ne contient aucun lieu."))
    if len(records) > MAX_RECORDS:
        raise _refuse_too_many()
    keys = set().union(*(r.values.keys() for r in records))
    if len(keys) > limits.MAX_COLUMNS:
        raise limits.refuse_wide(len(keys))
    legacy = bool(keys & LEGACY_ONLY_FIELDS) or has_legacy_values(records)
    if not keys & (set(FIELDS) | LEGACY_FIELDS) - {"id"}:
        raise FileError(
            _(
                "Les colonnes ne correspondent pas au standard des lieux de "
                "médiation numérique (par exemple nom, adresse, commune, "
                "code_postal)."
            )
        )
    missing = [f for f in REQUIRED_FIELDS if f not in keys]
    if missing:
        raise FileError(
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
        raise FileError(
            _(
                "Le fichier n'est pas encodé en UTF-8 (octet illisible à la position %(pos)s). "
                "Enregistrez-le en UTF-8 (« CSV UTF-8 » dans un tableur) puis recommencez."
            )
            % {"pos": exc.start + 1}
        ) from exc


def _read_json(text: str) -> list[Row]:
    try:
        data = limits.load_json(text)  # depth, number length and NaN refused
    except json.JSONDecodeError as exc:
        raise FileError(
            _("Le fichier JSON est mal formé (ligne %(line)s, colonne %(col)s).")
            % {"line": exc.lineno, "col": exc.colno}
        ) from exc
    if not isinstance(data, list):
        raise FileError(
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
            raise FileError(
                _("L'élément n° %(row)s de la liste n'est pas un lieu (objet JSON attendu).")
                % {"row": number}
            )
        if len(item) > limits.MAX_COLUMNS:
            raise limits.refuse_wide(len(item))
        values = {str(k).strip(): _json_value(k, v) for k, v in item.items()}
        if any(len(v) > limits.MAX_CELL_CHARS for v in values.values()):
            raise limits.refuse_long_cell(_("Lieu n° %(row)s") % {"row": number})
        rows.append(Row(number, None, values))
    return rows


def _refuse_too_many() -> FileError:
    return FileError(
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


def _read_csv(text: str, deadline: limits.Deadline) -> list[Row]:
    first_line = text.lstrip().split("\n", 1)[0]
    if first_line.count(";") > first_line.count(","):
        raise FileError(
            _(
                "Le fichier CSV doit utiliser la virgule comme séparateur, comme le "
                "prévoit le standard ; celui-ci semble utiliser le point-virgule."
            )
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FileError(_("La ligne d'en-tête du fichier CSV est illisible.")) from exc
    header = [h.strip() for h in header]
    if len(header) > limits.MAX_COLUMNS:
        raise limits.refuse_wide(len(header))
    duplicates = sorted({h for h in header if header.count(h) > 1 and h})
    if duplicates:
        raise FileError(_("Colonne(s) en double : %(fields)s.") % {"fields": ", ".join(duplicates)})
    rows: list[Row] = []
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
                raise FileError(
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
            rows.append(Row(number, line, values))
            line = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise limits.refuse_long_cell(
                _("Ligne %(line)s du fichier") % {"line": reader.line_num}
            ) from exc
        raise FileError(
            _("Le fichier CSV est mal formé près de la ligne %(line)s (guillemet non fermé ?).")
            % {"line": reader.line_num}
        ) from exc
    return rows
