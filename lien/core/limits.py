"""What reading an uploaded file may cost: size, shape, nesting and time.

Imports read files that anyone with a staff account can upload, in a web process. A file past
one of these caps is refused as a whole with a French message (`FileRefused`, which each
importer turns into its own report); imports are all-or-nothing, so nothing is written.

Two kinds of caps, because two kinds of work:
- what a library reads whole, which cannot be interrupted (openpyxl's shared strings and styles,
  `json.loads`), is capped *before* it starts: bytes, declared sizes, nesting depth;
- what is read row by row is checked against a wall-clock `Deadline` between rows.

The per-import caps (upload size, rows) live in each importer; the ones they share are here.
"""

import io
import itertools
import json
import re
import time
import zipfile
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

# Wall time a web request may spend checking one file; the worker and the management commands,
# which nobody waits on, get `OFFLINE_TIME_BUDGET` (a file still cannot hold them forever).
IMPORT_TIME_BUDGET = 10.0
OFFLINE_TIME_BUDGET = 300.0
# Columns of a table: the national beneficiary export has 13, the places standard 32 (39 with
# the legacy ones). Checked before a row is looked at, so 16,384 empty columns cost nothing.
MAX_COLUMNS = 60
# Characters in one cell or JSON value: a place's detailed presentation, a person's notes
# (5,000 at most) fit; the default `csv` field limit (131,072) would be a confusing error.
MAX_CELL_CHARS = 10_000
# JSON: a list of records is 2 levels deep, a legacy value holding an object 3 or 4.
MAX_JSON_DEPTH = 10
# Characters in a JSON number literal: coordinates need about 20. Python refuses int strings
# over 4,300 digits with a ValueError, and a 1 MB integer would take seconds to convert.
MAX_NUMBER_CHARS = 30
# XLSX (a zip of XML parts). A 20,000-row export is about 15 MB of XML and 10 parts.
MAX_XLSX_ENTRIES = 1_000
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024  # every part, decompressed: the zip-bomb cap
# Parts openpyxl parses whole while opening the workbook (shared strings, styles, workbook,
# a worksheet that does not declare its size first): parsed at about 3 MB/s, uninterruptible.
MAX_XLSX_EAGER = 20 * 1024 * 1024


class FileRefused(Exception):
    """The file as a whole is refused; the message says why, in French."""


def _refuse_too_slow(budget: float) -> FileRefused:
    return FileRefused(
        _(
            "Le fichier est trop long à lire (plus de %(seconds)s secondes) : rien n’a été "
            "enregistré. Découpez-le en plusieurs fichiers plus petits."
        )
        % {"seconds": f"{budget:g}"}
    )


def _now() -> float:
    return time.monotonic()


class Deadline:
    """A wall-clock budget; `check()` raises `FileRefused` once it is spent.

    Cheap enough to call for every row (one clock read).
    """

    def __init__(self, seconds: float | None = None, *, clock: Callable[[], float] | None = None):
        self.seconds = IMPORT_TIME_BUDGET if seconds is None else seconds
        self._clock = clock or _now
        self._end = self._clock() + self.seconds

    def check(self) -> None:
        if self._clock() > self._end:
            raise _refuse_too_slow(self.seconds)


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def refuse_wide(columns: int, line: int | None = None) -> FileRefused:
    where = _("Ligne %(line)s : ") % {"line": line} if line else ""
    return FileRefused(
        where
        + _(
            "%(count)s colonnes, %(max)s au plus. Ne gardez que les colonnes attendues, "
            "ou enregistrez le fichier en CSV."
        )
        % {"count": _thousands(columns), "max": MAX_COLUMNS}
    )


def refuse_long_cell(where: str) -> FileRefused:
    return FileRefused(
        _("%(where)s : une valeur dépasse %(max)s caractères.")
        % {"where": where, "max": _thousands(MAX_CELL_CHARS)}
    )


# --- JSON ----------------------------------------------------------------------------------

# A string (to its closing quote, or to the end of the text if unterminated, so that every
# search starting at a quote succeeds and the scan stays linear), or a run of anything but
# quotes and brackets: removing both leaves the brackets outside strings.
_NOT_A_BRACKET = re.compile(r'"[^"\\]*+(?:\\(?:.|\Z)[^"\\]*+)*+(?:"|\Z)|[^"\[\]{}]++', re.DOTALL)
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def check_json_depth(text: str, limit: int | None = None) -> None:
    """Refuse JSON nested deeper than `limit`, before parsing it: linear, no recursion, and
    the loops run in C (one regular expression, then a running sum over the brackets).

    Brackets inside strings do not count. A malformed text is left for `json.loads` to report.
    """
    limit = MAX_JSON_DEPTH if limit is None else limit
    brackets = _NOT_A_BRACKET.sub("", text)
    if max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit:
        raise _refuse_deep(limit)


def _refuse_deep(limit: int) -> FileRefused:
    return FileRefused(
        _(
            "Le fichier JSON est imbriqué sur plus de %(max)s niveaux : ce n’est pas une liste "
            "de lieux."
        )
        % {"max": limit}
    )


def _number(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(literal: str) -> Any:
        if len(literal) > MAX_NUMBER_CHARS:
            raise FileRefused(
                _(
                    "Le fichier JSON contient un nombre de plus de %(max)s chiffres "
                    "(« %(start)s… »)."
                )
                % {"max": MAX_NUMBER_CHARS, "start": literal[:12]}
            )
        return convert(literal)

    return parse


def _constant(name: str) -> Any:
    raise FileRefused(
        _("Le fichier JSON contient « %(value)s », qui n’est pas un nombre JSON.") % {"value": name}
    )


def load_json(text: str) -> Any:
    """`json.loads` with the caps: depth checked first, number literals and NaN refused.

    Raises `FileRefused`; a malformed text still raises `json.JSONDecodeError`.
    """
    check_json_depth(text)
    try:
        return json.loads(
            text, parse_int=_number(int), parse_float=_number(float), parse_constant=_constant
        )
    except RecursionError as exc:  # not reachable past the depth check; kept as a backstop
        raise _refuse_deep(MAX_JSON_DEPTH) from exc


# --- XLSX ----------------------------------------------------------------------------------

# A DTD is what entity bombs ("billion laughs") and external entities need; no spreadsheet
# writes one. Searched in UTF-8 and UTF-16 (the two encodings an XML part may use).
_DTD_MARKERS = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))
_OVERLAP = max(len(m) for m in _DTD_MARKERS) - 1
_SIZE_OR_DATA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(dimension|sheetData)\b")
_HEAD_MAX = 4 * 1024 * 1024
_CHUNK = 1024 * 1024


def refuse_unreadable_xlsx() -> FileRefused:
    return FileRefused(
        _("Ce classeur XLSX est illisible ou endommagé. Enregistrez-le de nouveau en XLSX.")
    )


def refuse_xml_entities() -> FileRefused:
    return FileRefused(
        _(
            "Ce classeur XLSX contient des déclarations XML (DOCTYPE, entités) qu’aucun tableur "
            "n’écrit : il est refusé. Enregistrez-le de nouveau depuis votre tableur."
        )
    )


def _scan_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bool:
    """Read one part through; refuse a DTD. True when it is a worksheet that declares its
    size before its rows (openpyxl then streams it instead of reading it whole)."""
    tail = b""
    head = b""
    streamed: bool | None = None
    with archive.open(entry) as part:
        while chunk := part.read(_CHUNK):
            window = tail + chunk
            if any(marker in window for marker in _DTD_MARKERS):
                raise refuse_xml_entities()
            tail = window[-_OVERLAP:]
            if streamed is None:
                head += chunk
                found = _SIZE_OR_DATA.search(head)
                if found:
                    streamed = found.group(1) == b"dimension"
                elif len(head) > _HEAD_MAX:
                    streamed = False
                if streamed is not None:
                    head = b""
    return bool(streamed)


def check_xlsx(content: bytes) -> None:
    """Refuse a workbook that is not a sound zip, or would cost too much to open.

    Looks only at the zip: entry count, declared sizes (`zipfile` never inflates an entry past
    its declared `file_size`, so the sum bounds the work), encryption, compression method, and
    every part read through once (zlib is fast) for a DTD. openpyxl opens it afterwards; it uses
    defusedxml as well when installed (`openpyxl.xml.DEFUSEDXML`), which refuses entities too.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise refuse_unreadable_xlsx() from exc
    if len(entries) > MAX_XLSX_ENTRIES:
        raise FileRefused(
            _("Ce classeur XLSX contient %(count)s fichiers internes (%(max)s au plus).")
            % {"count": _thousands(len(entries)), "max": _thousands(MAX_XLSX_ENTRIES)}
        )
    total = sum(entry.file_size for entry in entries)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise FileRefused(
            _(
                "Ce classeur XLSX occuperait %(size)s Mo une fois décompressé (%(max)s Mo au "
                "plus) : découpez-le, ou enregistrez-le en CSV."
            )
            % {
                "size": _thousands(-(-total // (1024 * 1024))),
                "max": MAX_XLSX_UNCOMPRESSED // (1024 * 1024),
            }
        )
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise FileRefused(
                _("Ce classeur XLSX est protégé par un mot de passe : enregistrez-le sans.")
            )
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refuse_unreadable_xlsx()
    eager = 0
    try:
        with archive:
            for entry in entries:
                if not _scan_part(archive, entry):
                    eager += entry.file_size
    except FileRefused:
        raise
    except Exception as exc:  # CRC mismatch, truncated stream, zlib error…
        raise refuse_unreadable_xlsx() from exc
    if eager > MAX_XLSX_EAGER:
        raise FileRefused(
            _(
                "Ce classeur XLSX est trop lourd à ouvrir (%(size)s Mo à lire d’un bloc, "
                "%(max)s Mo au plus) : enregistrez-le de nouveau depuis un tableur, ou en CSV."
            )
            % {
                "size": _thousands(-(-eager // (1024 * 1024))),
                "max": MAX_XLSX_EAGER // (1024 * 1024),
            }
        )


def check_sheet_size(columns: int | None, rows: int | None, max_rows: int) -> None:
    """Refuse a worksheet whose declared size (`<dimension ref="A1:XFD9">`) is past the caps,
    before any row is read. The declaration may be absent or wrong: rows are checked again."""
    if columns and columns > MAX_COLUMNS:
        raise refuse_wide(columns)
    if rows and rows > max_rows:
        raise FileRefused(
            _("Le classeur compte %(count)s lignes (%(max)s au plus) : découpez-le.")
            % {"count": _thousands(rows), "max": _thousands(max_rows)}
        )
