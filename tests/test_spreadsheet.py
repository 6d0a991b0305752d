"""Cells Lien writes to CSV and XLSX files cannot run as formulas (OWASP CSV injection)."""

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from lien.core.spreadsheet import (
    FORMULA_TRIGGERS,
    SafeDictWriter,
    SafeWriter,
    append_xlsx_row,
    safe_cell,
    unquote_cell,
)

LIEN = Path(__file__).resolve().parent.parent / "lien"
ATTACKS = [
    '=HYPERLINK("http://x","y")',
    "+SUM(1)",
    "-2+3+cmd|' /C calc'!A0",
    "@cmd",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
    "-",
    "+",
    "@",
    "-1e3",
    "+33 (0)1 23 45 67 89",
]
PLAIN_NUMBERS = ["+33 1 23 45 67 89", "+33164123456", "-12.5", "-1 234,5", "+0", "-0.000001"]
PLAIN_NUMBER = re.compile(r"[+-]?[0-9 .,\u00a0\u202f]*[0-9][0-9 .,\u00a0\u202f]*")


@pytest.mark.parametrize("text", ATTACKS)
def test_a_formula_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text
    assert unquote_cell(safe_cell(text)) == text


@pytest.mark.parametrize("text", PLAIN_NUMBERS)
def test_plain_numbers_and_phones_stay_as_they_are(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize(
    "value", ["", "Médiathèque", "a=b", " =1", "'quoted", "12", 12, -3.5, None, True]
)
def test_other_values_are_unchanged(value):
    assert safe_cell(value) == value


def test_an_apostrophe_already_there_gets_one_more_so_reading_back_is_exact():
    assert safe_cell("'=1+1") == "''=1+1"
    assert unquote_cell("''=1+1") == "'=1+1"
    assert unquote_cell("'Aujourd'hui") == "'Aujourd'hui"  # nothing safe_cell would write


TEXT = st.text(
    alphabet=st.sampled_from("=+-@\t\r'0123456789 .,aZ|!(\"\u00a0"), max_size=12
) | st.text(max_size=20)


@given(TEXT)
@example("-")
@example("'-")
@example("+33 1 23 45 67 89")
def test_no_cell_starts_with_a_trigger_unless_a_plain_number(text):
    cell = safe_cell(text)
    if cell[:1] in FORMULA_TRIGGERS:
        assert PLAIN_NUMBER.fullmatch(cell), cell
        assert cell == text
    assert cell in (text, "'" + text)
    assert unquote_cell(cell) == text


def test_csv_writers_neutralise_every_cell_and_keep_the_header():
    out = io.StringIO()
    writer = SafeDictWriter(out, fieldnames=["nom", "telephone"], lineterminator="\n")
    writer.writeheader()
    writer.writerow({"nom": "=1+1", "telephone": "+33164123456"})
    writer.writerows([{"nom": "@cmd", "telephone": "-1"}])
    plain = SafeWriter(out, lineterminator="\n")
    plain.writerow(["+SUM(1)", 3, None])
    plain.writerows([["\tx"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["nom", "telephone"],
        ["'=1+1", "+33164123456"],
        ["'@cmd", "-1"],
        ["'+SUM(1)", "3", ""],
        ["'\tx"],
    ]


def test_xlsx_rows_are_text_not_formulas():
    workbook = Workbook()
    append_xlsx_row(workbook.active, ['=HYPERLINK("http://x","y")', "+33164123456", -12.5, "ok"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    cells = next(sheet.iter_rows())
    assert [c.value for c in cells] == ['\'=HYPERLINK("http://x","y")', "+33164123456", -12.5, "ok"]
    assert [c.data_type for c in cells] == ["s", "s", "n", "s"]


def test_every_csv_or_xlsx_writer_of_lien_goes_through_safe_cell():
    """A new export must use `SafeDictWriter`, `SafeWriter` or `append_xlsx_row`."""
    raw = re.compile(r"csv\.(writer|DictWriter)\(|\bWorkbook\(|\bDictWriter\(")
    offenders = [
        f"{path.relative_to(LIEN.parent)}:{number}"
        for path in LIEN.rglob("*.py")
        if path.name != "spreadsheet.py"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if raw.search(line)
    ]
    assert offenders == []
