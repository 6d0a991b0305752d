"""Cells of the CSV and XLSX files Lien writes, neutralised against formula injection.

A spreadsheet that opens a CSV file runs a cell starting with `=`, `+`, `-` or `@` as a
formula: `=HYPERLINK("http://x","Cliquez ici")` becomes a link, `-2+3+cmd|' /C calc'!A0` a
command on old Excel (DDE). openpyxl, likewise, writes a text starting with `=` as a formula.
A tab or a carriage return first is on OWASP's list too ("CSV injection"): some programs drop it
and read what follows. Anyone may put such text in Lien (a place's name, a person's notes), and
the public places CSV is opened by strangers, so every cell Lien writes goes through
`safe_cell`.

The rule:
- a text whose first character is `=`, `+`, `-`, `@`, tab or carriage return gets an apostrophe
  first (`'=HYPERLINK(…)`): spreadsheets show it as text, it runs nothing;
- except a plain number: at most one leading sign, then only digits, spaces, dots and commas,
  with one digit at least (`+33 1 23 45 67 89`, `+33164123456`, `-12.5`, `-1 234,5`). Such a
  cell holds no function, reference or operator, so the worst a spreadsheet does is compute a
  number or show an error; and the national places standard wants phone numbers as `+33…` and
  allows negative coordinates, so they must be written as they are;
- a text that already starts with apostrophes before such a character gets one more, so that
  `unquote_cell` (used when Lien reads its own files back) returns exactly what was written;
- anything else, and every value that is not text (numbers, dates, None), is left unchanged.
"""

import csv
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import SupportsWrite
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# Spaces: the ordinary one, and the no-break ones French number formatting uses.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9 .,\u00a0\u202f]*[0-9][0-9 .,\u00a0\u202f]*")


def _formula_like(text: str) -> bool:
    return text[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(text)


def safe_cell(value: Any) -> Any:
    """The value to write in a CSV or XLSX cell: a text a spreadsheet would run as a formula
    gets a leading apostrophe; everything else is returned unchanged (see the module)."""
    if isinstance(value, str) and value and _formula_like(value.lstrip(QUOTE)):
        return QUOTE + value
    return value


def unquote_cell(text: str) -> str:
    """The text `safe_cell` was given: `unquote_cell(safe_cell(text)) == text`."""
    if text.startswith(QUOTE) and _formula_like(text.lstrip(QUOTE)):
        return text[1:]
    return text


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


def safe_record(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: safe_cell(value) for key, value in record.items()}


class SafeDictWriter(csv.DictWriter):
    """`csv.DictWriter` whose every cell goes through `safe_cell` (the header too)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow(safe_record(rowdict))

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        return super().writerows(safe_record(r) for r in rowdicts)


class SafeWriter:
    """`csv.writer(file, …)` whose every cell goes through `safe_cell`."""

    def __init__(self, file: "SupportsWrite[str]", *args: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(file, *args, **kwargs)

    @property
    def dialect(self) -> Any:
        return self._writer.dialect

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        return self._writer.writerows(safe_row(r) for r in rows)


def append_xlsx_row(sheet: "Worksheet", values: Iterable[Any]) -> None:
    """`sheet.append(values)` for an openpyxl worksheet, every cell through `safe_cell`:
    openpyxl would store a text starting with `=` as a formula."""
    sheet.append(safe_row(values))
