"""Hostile or oversized files are refused whole, quickly, in French, and never as a 500.

Every file here is built in the test and small (a few KB at most, however much it would
expand). Timings are asserted with generous bounds only.
"""

import contextlib
import csv
import io
import itertools
import json
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from lien.accounts.models import Structure
from lien.beneficiaries import importer
from lien.beneficiaries.forms_gdpr import ImportForm
from lien.beneficiaries.models import Beneficiary, BeneficiaryImport, ImportState
from lien.core import limits
from lien.places import importer as places_importer
from lien.places.importer import import_places
from lien.places.models import Place
from lien.places.opendata import FIELDS
from tests.conftest import signed_in

PEOPLE_URL = "/equipe/ville-a/personnes/import/"
PLACES_URL = "/equipe/ville-a/lieux/importer/"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# "Billion laughs": 10 levels of 10 references, 10^9 "lol" once expanded; 1 KB as written.
BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + "]>"
)
ENTITIES_REFUSED = "déclarations XML (DOCTYPE, entités)"
UNREADABLE = "XLSX est illisible ou endommagé"
TOO_SLOW = "Le fichier est trop long à lire"


# --- Building workbooks -----------------------------------------------------------------------


def workbook(*rows) -> bytes:
    book = Workbook()
    for row in rows or (("Nom", "Prénom"), ("Martin", "Lucie")):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parts(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zipped(files: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def sheet(rows: str, dimension: str | None = None) -> bytes:
    size = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<worksheet xmlns="{MAIN}">{size}<sheetData>{rows}</sheetData></worksheet>'.encode()


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


HEADER_ROW = f'<row r="1">{text_cell("A1", "Nom")}{text_cell("B1", "Prénom")}</row>'


def with_sheet(xml: bytes, base: bytes | None = None) -> bytes:
    files = parts(base or workbook())
    files["xl/worksheets/sheet1.xml"] = xml
    return zipped(files)


def with_shared_strings(xml: bytes) -> bytes:
    """A workbook whose A2 is shared string 0, read from `xml` (openpyxl writes inline ones)."""
    files = parts(workbook())
    files["xl/sharedStrings.xml"] = xml
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    files["xl/_rels/workbook.xml.rels"] = files["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId9" Target="sharedStrings.xml" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
    )
    files["xl/worksheets/sheet1.xml"] = sheet(
        HEADER_ROW + '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>0</v></c></row>'
    )
    return zipped(files)


def bomb_in(part: str) -> bytes:
    if part == "sharedStrings":
        xml = (
            f'<?xml version="1.0"?>{BILLION_LAUGHS}<sst xmlns="{MAIN}"><si><t>&lol9;</t></si></sst>'
        )
        return with_shared_strings(xml.encode())
    if part == "sheet":
        row = f'<row r="2">{text_cell("A2", "&lol9;")}{text_cell("B2", "x")}</row>'
        return with_sheet(
            b'<?xml version="1.0"?>' + BILLION_LAUGHS.encode() + sheet(HEADER_ROW + row)
        )
    files = parts(workbook())
    files["xl/workbook.xml"] = BILLION_LAUGHS.encode() + files["xl/workbook.xml"]
    return zipped(files)


def refused(content: bytes) -> str:
    rows, errors = importer.check(content)
    assert rows == [] and len(errors) == 1, errors
    return errors[0]


def upload_people(personas, content: bytes, name: str = "personnes.xlsx"):
    client = signed_in(personas.advisor)
    response = client.post(PEOPLE_URL, {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    assert not BeneficiaryImport.objects.exists()
    return response.context["errors"]


def fake_clock(monkeypatch, step: float = 1.0) -> None:
    """Each clock read is `step` seconds after the previous one: the budget runs out after
    a known number of checks, whatever the machine's speed."""
    ticks = itertools.count(step=step)
    monkeypatch.setattr(limits, "_now", lambda: next(ticks))


# --- XLSX: entities, zip bombs, garbage -------------------------------------------------------


def test_openpyxl_parses_through_defusedxml():
    from defusedxml import ElementTree as defused
    from openpyxl.xml import DEFUSEDXML, functions

    assert DEFUSEDXML is True
    assert functions.iterparse is defused.iterparse
    assert functions.fromstring is defused.fromstring


@pytest.mark.django_db
@pytest.mark.parametrize("part", ["sheet", "sharedStrings", "workbook"])
def test_billion_laughs_is_refused_with_a_clear_message(personas, part):
    content = bomb_in(part)
    assert len(content) < 10_000
    before = Beneficiary.objects.count()
    started = time.monotonic()
    [error] = upload_people(personas, content)
    assert time.monotonic() - started < 5
    assert ENTITIES_REFUSED in error
    assert Beneficiary.objects.count() == before


@pytest.mark.parametrize("part", ["sheet", "sharedStrings", "workbook"])
def test_defusedxml_refuses_the_bomb_even_when_the_scan_misses_it(monkeypatch, part):
    monkeypatch.setattr(limits, "_DTD_MARKERS", ())  # the zip check no longer looks
    assert ENTITIES_REFUSED in refused(bomb_in(part))


def test_a_bomb_in_utf16_is_seen_too():
    xml = f'<?xml version="1.0" encoding="UTF-16"?>{BILLION_LAUGHS}<worksheet xmlns="{MAIN}"/>'
    assert ENTITIES_REFUSED in refused(with_sheet(xml.encode("utf-16")))


def test_xlsx_refused_when_openpyxl_would_not_use_defusedxml(monkeypatch):
    import openpyxl.xml

    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    assert "désactivée sur ce serveur" in refused(workbook())


def test_zip_bomb_is_refused_from_its_declared_size():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", parts(workbook())["[Content_Types].xml"])
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            for _ in range(limits.MAX_XLSX_UNCOMPRESSED // (1 << 20) + 1):
                entry.write(bytes(1 << 20))
    content = buffer.getvalue()
    assert len(content) < 100_000  # 51 MB once inflated
    started = time.monotonic()
    error = refused(content)
    assert time.monotonic() - started < 1  # sizes are read from the directory, nothing inflated
    assert "une fois décompressé (50 Mo au plus)" in error


def test_a_part_read_whole_by_openpyxl_is_capped():
    padding = b" " * (limits.MAX_XLSX_EAGER + 1)
    xml = f'<sst xmlns="{MAIN}">'.encode() + padding + b"<si><t>x</t></si></sst>"
    content = with_shared_strings(xml)
    assert len(content) < 100_000
    assert "trop lourd à ouvrir" in refused(content)


def test_a_streamed_worksheet_does_not_count_as_read_whole():
    padding = " " * (limits.MAX_XLSX_EAGER + 1)
    row = f'<row r="2">{text_cell("A2", "Martin")}{text_cell("B2", "Lucie")}</row>{padding}'
    rows, errors = importer.check(with_sheet(sheet(HEADER_ROW + row, dimension="A1:B2")))
    assert errors == [] and rows[0].values["last_name"] == "Martin"


def password_protected() -> bytes:
    content = bytearray(workbook())
    # General-purpose bit 0 ("encrypted") of the first local header and of its directory entry.
    content[6] |= 0x1
    content[content.index(b"PK\x01\x02") + 8] |= 0x1
    return bytes(content)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PK\x03\x04" + b"\x00" * 200, UNREADABLE),
        (zipped({"notes.txt": b"Nom;Pr\xc3\xa9nom\n"}), UNREADABLE),
        (workbook()[:1500], UNREADABLE),
        (zipped(parts(workbook()), zipfile.ZIP_BZIP2), UNREADABLE),
        (with_sheet(b"<worksheet><sheetData><row><c r="), UNREADABLE),
        (with_sheet(sheet(f'<row r="1">{text_cell("A1", "&lol;")}</row>')), UNREADABLE),
        (password_protected(), "protégé par un mot de passe"),
    ],
)
def test_garbage_workbooks_are_refused_in_french(content, expected):
    assert expected in refused(content)


def test_too_many_zip_entries():
    files = {f"xl/media/{i}.txt": b"" for i in range(limits.MAX_XLSX_ENTRIES)}
    content = zipped(parts(workbook()) | files)
    assert "fichiers internes" in refused(content)


# Built once: openpyxl stamps the time in a workbook, and hypothesis needs the same bytes.
DAMAGEABLE = {
    method: zipped(parts(workbook()), method)
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
}


@settings(max_examples=150, deadline=None)
@given(data=st.data(), method=st.sampled_from(sorted(DAMAGEABLE)))
def test_any_damaged_workbook_gives_rows_or_a_french_message(data, method):
    content = bytearray(DAMAGEABLE[method])
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    rows, errors = importer.check(bytes(content))
    assert rows or errors
    assert all(isinstance(e, str) and e for e in errors)


# --- XLSX and CSV: shape ----------------------------------------------------------------------


@pytest.mark.django_db
def test_16384_declared_columns_with_empty_rows_are_refused_at_once(personas):
    """The reviewer's file: 16,384 columns declared, thousands of empty rows (38 s before)."""
    empty_rows = "".join(f'<row r="{n}"/>' for n in range(2, 30_002))
    content = with_sheet(sheet(HEADER_ROW + empty_rows, dimension="A1:XFD30001"))
    assert len(content) < 300_000
    started = time.monotonic()
    [error] = upload_people(personas, content)
    elapsed = time.monotonic() - started
    print(f"\n16,384 declared columns refused in {elapsed * 1000:.0f} ms")
    assert elapsed < 5
    assert error.startswith("16\u202f384 colonnes, 60 au plus")


def test_a_far_cell_without_declared_size_is_refused_on_its_row():
    far = f'<row r="2">{text_cell("A2", "Martin")}<c r="XFD2"><v>1</v></c></row>'
    rows = "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>' for n in range(3, 5_000))
    started = time.monotonic()
    error = refused(with_sheet(sheet(HEADER_ROW + far + rows)))
    assert time.monotonic() - started < 5
    assert error.startswith("Ligne 2 : 16\u202f384 colonnes")


def test_declared_or_real_rows_past_the_cap_are_refused():
    declared = with_sheet(sheet(HEADER_ROW, dimension="A1:B1048576"))
    assert "1\u202f048\u202f576 lignes (25\u202f000 au plus)" in refused(declared)
    gap = with_sheet(sheet(HEADER_ROW + f'<row r="1000000">{text_cell("A1000000", "x")}</row>'))
    started = time.monotonic()
    assert "plus de 25\u202f000 lignes" in refused(gap)
    assert time.monotonic() - started < 5


def test_a_declared_size_smaller_than_the_data_loses_no_row():
    rows = "".join(
        f'<row r="{n}">{text_cell(f"A{n}", f"Nom{n}")}{text_cell(f"B{n}", "Lucie")}</row>'
        for n in range(2, 12)
    )
    checked, errors = importer.check(with_sheet(sheet(HEADER_ROW + rows, dimension="A1:A2")))
    assert errors == [] and len(checked) == 10


HEADER = "Nom;Prénom;Année de naissance"


def people_csv(*lines: str, header: str = HEADER) -> bytes:
    return "\r\n".join([header, *lines]).encode()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (people_csv("Martin;Lucie" + ";" * 59), "Ligne 2 : 61 colonnes, 60 au plus"),
        (
            people_csv("Martin;" + "L" * 10_001),
            "Ligne 2 : une valeur dépasse 10\u202f000 caractères",
        ),
        (people_csv('Martin;"' + "L" * 200_000 + '"'), "une valeur dépasse 10\u202f000 caractères"),
        (people_csv(*[""] * 25_000, "Martin;Lucie"), "plus de 25\u202f000 lignes"),
        (b"Nom;Pr\xc3\xa9nom\n" + b"x" * importer.MAX_BYTES, "trop volumineux (10 Mo au maximum)"),
    ],
)
def test_csv_shape_caps(content, expected):
    assert expected in refused(content)


def test_a_file_object_is_read_only_up_to_the_cap():
    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"x" * len(buffer)
            return len(buffer)

    assert "trop volumineux" in refused(io.BufferedReader(Endless()))


def test_upload_form_refuses_a_file_over_the_cap():
    upload = SimpleUploadedFile("gros.csv", b"x" * (importer.MAX_BYTES + 1))
    form = ImportForm({}, {"file": upload})
    assert not form.is_valid()
    assert form.errors["file"] == ["Fichier trop volumineux (10 Mo au maximum)."]


# --- Time budget ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_people_check_stops_when_the_time_budget_is_spent(personas, monkeypatch):
    fake_clock(monkeypatch)  # 1 s per row checked, 10 s allowed
    before = Beneficiary.objects.count()
    [error] = upload_people(
        personas, people_csv(*[f"Nom{i};Prénom;1960" for i in range(50)]), "lent.csv"
    )
    assert error.startswith(f"{TOO_SLOW} (plus de 10 secondes) : rien n’a été enregistré.")
    assert Beneficiary.objects.count() == before


@pytest.mark.django_db
def test_the_worker_has_a_larger_budget_than_the_page(personas, monkeypatch):
    monkeypatch.setattr(limits, "IMPORT_TIME_BUDGET", -1.0)
    assert TOO_SLOW in importer.check(people_csv("Martin;Lucie;1960"))[1][0]
    job = BeneficiaryImport.objects.create(
        structure=personas.a, filename="b.csv", content=people_csv("Martin;Lucie;1960"), total=1
    )
    importer.run_pending(job.pk)
    job.refresh_from_db()
    assert job.state == ImportState.DONE


# --- Places: JSON and CSV ---------------------------------------------------------------------


@pytest.fixture
def structure(db) -> Structure:
    return Structure.objects.create(
        name="Commune A",
        slug="commune-a",
        kind="commune",
        siret="21770284400010",
        insee_code="77284",
    )


def place(**changes) -> dict:
    values = {
        "id": "1",
        "nom": "Mairie",
        "adresse": "1 place de la Mairie",
        "commune": "Meaux",
        "code_postal": "77100",
    }
    return values | changes


def places_csv(records: list[dict], header=FIELDS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode()


DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE_NUMBER = b'[{"id": "1", "latitude": ' + b"1" * 5000 + b"}]"
HOSTILE_PLACES = [
    ("lieux.json", DEEP, "imbriqué sur plus de 10 niveaux"),
    ("lieux.json", b'[{"x": ' * 11 + b"1" + b"}" * 11 + b"]", "imbriqué sur plus de 10 niveaux"),
    ("lieux.json", HUGE_NUMBER, "un nombre de plus de 30 chiffres (« 111111111111… »)"),
    ("lieux.json", b'[{"latitude": -0.' + b"1" * 40 + b"}]", "un nombre de plus de 30 chiffres"),
    ("lieux.json", b'[{"latitude": NaN}]', "« NaN », qui n’est pas un nombre JSON"),
    ("lieux.json", json.dumps([place(nom="x" * 10_001)]).encode(), "Lieu n° 1 : une valeur"),
    ("lieux.json", json.dumps([place(**{f"c{i}": "" for i in range(61)})]).encode(), "colonnes"),
    (
        "lieux.csv",
        places_csv([place()], header=[*FIELDS, *(f"c{i}" for i in range(29))]),
        "61 colonnes, 60 au plus",
    ),
    ("lieux.csv", places_csv([place(nom="x" * 10_001)]), "ligne 2 du fichier) : une valeur"),
    ("lieux.csv", places_csv([place(nom="x" * 200_000)]), "Ligne 2 du fichier : une valeur"),
    ("lieux.csv", b"\n" * (places_importer.MAX_BYTES + 1), "trop volumineux (5 Mo au maximum)"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "expected"), HOSTILE_PLACES)
def test_hostile_place_files_are_refused_in_french(structure, name, content, expected):
    report = import_places(structure=structure, filename=name, content=content)
    assert not report.ok
    assert (report.errors[0].row, report.errors[0].field) == (0, "")
    assert expected in report.errors[0].message
    assert not Place.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [HOSTILE_PLACES[0], HOSTILE_PLACES[2], HOSTILE_PLACES[4]],
)
def test_hostile_place_files_get_a_page_not_a_500(personas, name, content, expected):
    client = signed_in(personas.coordinator)
    before = Place.objects.count()
    response = client.post(PLACES_URL, {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    page = response.content.decode().replace("\u00a0", " ").replace("\u202f", " ")
    assert expected in page  # typography aside: the message is the report's
    assert Place.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [HOSTILE_PLACES[0], HOSTILE_PLACES[2]],
)
def test_hostile_place_files_end_the_command_with_a_clear_error(
    structure, tmp_path, name, content, expected
):
    path = tmp_path / name
    path.write_bytes(content)
    out = io.StringIO()
    with pytest.raises(CommandError, match="Import refusé"):
        call_command("import_places", str(path), "--structure", "commune-a", stdout=out)
    assert expected in out.getvalue()
    assert "Traceback" not in out.getvalue()


@pytest.mark.django_db
def test_the_command_refuses_a_file_over_the_cap_before_reading_it(structure, tmp_path):
    path = tmp_path / "lieux.csv"
    with path.open("wb") as file:
        file.truncate(places_importer.MAX_BYTES + 1)  # sparse: nothing written
    with pytest.raises(CommandError, match="dépasse 5 Mo"):
        call_command("import_places", str(path), "--structure", "commune-a")


@pytest.mark.django_db
def test_brackets_and_escaped_quotes_inside_strings_do_not_count_as_depth(structure):
    text = '[[{"x": 1}]] \\" ' * 20 + "{[" * 20
    record = place(presentation_detail=text, source='"[{' * 5)
    report = import_places(
        structure=structure, filename="lieux.json", content=json.dumps([record]).encode()
    )
    assert report.ok, report.as_text()
    assert Place.objects.get().description == text


@pytest.mark.django_db
def test_places_check_stops_when_the_time_budget_is_spent(structure, monkeypatch):
    fake_clock(monkeypatch)
    records = [place(id=str(n), nom=f"Lieu {n}") for n in range(30)]
    report = import_places(structure=structure, filename="lieux.csv", content=places_csv(records))
    assert not report.ok
    assert report.errors[0].message.startswith(TOO_SLOW)
    assert not Place.objects.exists()


@pytest.mark.django_db
def test_the_places_command_has_a_larger_budget_than_the_page(structure, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "IMPORT_TIME_BUDGET", -1.0)
    content = places_csv([place()])
    assert (
        TOO_SLOW
        in import_places(structure=structure, filename="l.csv", content=content).errors[0].message
    )
    path = tmp_path / "lieux.csv"
    path.write_bytes(content)
    call_command("import_places", str(path), "--structure", "commune-a", stdout=io.StringIO())
    assert Place.objects.get().name == "Mairie"


# --- The depth scan itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[" * 10 + "]" * 10, False),
        ("[" * 11 + "]" * 11, True),
        ('["' + "[" * 50 + '"]', False),
        ('["\\"' + "[" * 50 + '"]', False),
        ('["\\\\"' + ", [" * 11 + "]" * 12, True),
        ('"unterminated ' + "[" * 50, False),
        ("{" * 11, True),
    ],
)
def test_json_depth_scan(text, deep):
    if deep:
        with pytest.raises(limits.FileRefused):
            limits.check_json_depth(text)
    else:
        limits.check_json_depth(text)


@pytest.mark.parametrize(
    "text",
    ['"' + '\\"' * 1_000_000, '["' * 1_000_000, "[1," * 1_000_000, '"' * 2_000_000],
)
def test_json_depth_scan_is_linear_on_pathological_text(text):
    started = time.monotonic()
    with contextlib.suppress(limits.FileRefused):
        limits.check_json_depth(text)
    assert time.monotonic() - started < 5
