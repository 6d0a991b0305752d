"""Import of beneficiaries from the national tool's export (XLSX or CSV), all or nothing.

Columns are those of La Coop de la médiation numérique's beneficiary export
(`buildBeneficiairesWorksheet.ts`): Nom, Prénom, Année de naissance, Nom de la commune,
Code INSEE, Code postal, N° de téléphone, E-mail, Genre, Tranche d'âge, Statut,
Nombre d'accompagnements (ignored), Notes supplémentaires. A few usual spellings are accepted
too; headers match whatever their accents, case and punctuation. The national XLSX starts
with a few metadata rows: the header row is the first one naming "Nom" and "Prénom".
"-" means empty, as in the national export.

`check()` parses and validates every row; one error and nothing is saved. Bad or hostile files
are refused whole, with a French message, before they cost much: size, lines, columns, cell
length, a zip bomb or XML entities in an XLSX, and a time budget (`lien.core.limits`). The
upload view checks, then stores a `BeneficiaryImport` (pending); `run_pending()` (worker job,
or the status page itself) claims it and writes every row in one transaction. Progress cannot
be committed from inside that transaction, so it is published in a small file cache
(`progress()`), which every process on the machine can read; the file itself is dropped once
written (data minimisation).
"""

import csv
import datetime as dt
import hashlib
import io
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.cache.backends.filebased import FileBasedCache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lien import journal
from lien.accounts.models import Structure, User
from lien.beneficiaries.models import Beneficiary, BeneficiaryImport, ImportState
from lien.core import limits, taxonomy
from lien.core.text import fold
from lien.core.validators import normalise_phone, validate_insee_code, validate_postcode

log = logging.getLogger("lien.imports")

MAX_BYTES = 10 * 1024 * 1024  # the upload form says "10 Mo"
MAX_ROWS = 20_000
# Lines read at most, blank ones and the export's metadata rows included.
MAX_LINES = 25_000
BATCH_SIZE = 500
HEADER_SEARCH_ROWS = 30
# An import left "running" this long was interrupted (its transaction rolled back).
STALE_AFTER = dt.timedelta(minutes=30)
EMPTY_MARKERS = {"", "-"}


def _key(text: str) -> str:
    """ "Tranche d’âge " → "tranche d age": headers and labels compared loosely."""
    return re.sub(r"[^a-z0-9]+", " ", fold(str(text))).strip()


# field → accepted headers; the first one is the national export's.
COLUMNS: dict[str, tuple[str, ...]] = {
    "last_name": ("Nom",),
    "first_name": ("Prénom",),
    "birth_year": ("Année de naissance",),
    "commune": ("Nom de la commune", "Commune", "Commune du bénéficiaire"),
    "commune_insee": ("Code INSEE", "Code INSEE du bénéficiaire"),
    "postcode": ("Code postal", "Code postal du bénéficiaire"),
    "phone": ("N° de téléphone", "Numéro de téléphone", "Téléphone"),
    "email": ("E-mail", "Email", "Courriel"),
    "gender": ("Genre",),
    "age_band": ("Tranche d’âge",),
    "social_status": ("Statut",),
    "notes": ("Notes supplémentaires", "Notes"),
}
IGNORED_COLUMNS = ("Nombre d’accompagnements",)
REQUIRED = ("last_name", "first_name")
HEADERS = {_key(h): name for name, spellings in COLUMNS.items() for h in spellings}
HEADERS.update({_key(h): "" for h in IGNORED_COLUMNS})
MAX_LENGTHS = {"first_name": 80, "last_name": 80, "commune": 120, "notes": 5000, "email": 254}


def _vocabulary(key: str) -> dict[str, str]:
    """Folded labels and codes of a national vocabulary → code."""
    found = {}
    for code, label in taxonomy.choices(key):
        found[_key(code)] = code
        found[_key(label)] = code
    found[_key("Non communiqué")] = taxonomy.NOT_GIVEN
    return found


VOCABULARIES = {
    "gender": ("beneficiary_gender", _vocabulary("beneficiary_gender")),
    "age_band": ("beneficiary_age_band", _vocabulary("beneficiary_age_band")),
    "social_status": ("beneficiary_social_status", _vocabulary("beneficiary_social_status")),
}


class ImportFileError(limits.FileRefused):
    """The file as a whole cannot be read; the message says why, in French."""


@dataclass
class Row:
    line: int
    values: dict[str, Any]

    @property
    def name_key(self) -> str:
        return fold(f"{self.values['first_name']} {self.values['last_name']}")


# --- Reading ----------------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _decode(content: bytes) -> str:
    if b"\x00" in content:
        raise ImportFileError(
            _(
                "Ce fichier n’est ni un CSV ni un classeur XLSX lisible (encodage UTF-16 ou "
                "fichier binaire ?). Enregistrez-le au format CSV UTF-8 ou XLSX."
            )
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = content.decode("latin-1")
    if _CONTROL.search(text):
        raise ImportFileError(
            _(
                "Le fichier contient des caractères illisibles : enregistrez-le au format "
                "CSV UTF-8 ou XLSX."
            )
        )
    return text


def _csv_rows(content: bytes):
    text = _decode(content)
    lines = text.splitlines()
    if lines and lines[0].strip().lower().startswith("sep="):  # Excel's delimiter hint
        text = "\n".join(lines[1:])
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise limits.refuse_long_cell(
                _("Ligne %(line)s") % {"line": reader.line_num}
            ) from error
        raise ImportFileError(
            _("CSV mal formé vers la ligne %(line)s : guillemet non fermé ou mal placé.")
            % {"line": reader.line_num}
        ) from error


def _xlsx_rows(content: bytes, deadline: limits.Deadline):
    """Rows of the first worksheet, after the zip itself was checked (`limits.check_xlsx`).

    The declared size is checked before any row is read, then forgotten: rows are read as
    they are (openpyxl would otherwise pad each one to the declared width, and cut rows and
    columns past it), each checked by `check()` as it comes.
    """
    limits.check_xlsx(content)
    from defusedxml import DefusedXmlException
    from openpyxl import load_workbook
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # defusedxml missing, or OPENPYXL_DEFUSEDXML=False in the environment
        log.error("openpyxl does not use defusedxml: XLSX imports are refused")
        raise ImportFileError(
            _("La lecture des classeurs XLSX est désactivée sur ce serveur : envoyez un CSV.")
        )
    workbook = None
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        deadline.check()
        sheet = workbook.worksheets[0]
        limits.check_sheet_size(sheet.max_column, sheet.max_row, MAX_LINES)
        sheet.reset_dimensions()
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    except limits.FileRefused:
        raise
    except Exception as error:  # openpyxl on a crafted or damaged file: anything may come
        if _caused_by(error, DefusedXmlException):  # openpyxl wraps it in a ValueError
            raise limits.refuse_xml_entities() from error
        log.info("unreadable XLSX: %r", error)
        raise limits.refuse_unreadable_xlsx() from error
    finally:
        if workbook is not None:
            workbook.close()


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _records(content: bytes, deadline: limits.Deadline):
    if not content or not content.strip():
        raise ImportFileError(_("Le fichier est vide."))
    if len(content) > MAX_BYTES:
        raise ImportFileError(
            _("Fichier trop volumineux (%(max)s Mo au maximum).")
            % {"max": MAX_BYTES // (1024 * 1024)}
        )
    if content.startswith(b"PK\x03\x04"):
        return _xlsx_rows(content, deadline)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("L’ancien format Excel (.xls) n’est pas pris en charge : enregistrez en XLSX ou CSV.")
        )
    return _csv_rows(content)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return "" if text in EMPTY_MARKERS else text


def _expected() -> str:
    return ", ".join(spellings[0] for spellings in COLUMNS.values())


def _columns(header: list) -> list[str]:
    """Field of each column ("" to ignore), or the reason the header is wrong."""
    fields: list[str] = []
    unknown: list[str] = []
    for cell in header:
        title = _cell(cell)
        if not title:
            fields.append("")
            continue
        name = HEADERS.get(_key(title))
        if name is None:
            unknown.append(title)
        elif name and name in fields:
            raise ImportFileError(_("La colonne « %(column)s » est en double.") % {"column": title})
        fields.append(name or "")
    if unknown:
        raise ImportFileError(
            _("Colonne(s) inconnue(s) : %(unknown)s. Colonnes attendues : %(expected)s.")
            % {"unknown": ", ".join(f"« {u} »" for u in unknown), "expected": _expected()}
        )
    return fields


# --- Checking ---------------------------------------------------------------------------------


def _clean(line: int, raw: dict[str, str], errors: list[str], this_year: int) -> dict[str, Any]:
    def fail(message: str) -> None:
        errors.append(_("Ligne %(line)s : %(message)s") % {"line": line, "message": message})

    values: dict[str, Any] = {name: raw.get(name, "") for name in COLUMNS}
    if not values["first_name"] and not values["last_name"]:
        fail(_("nom et prénom vides"))
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            fail(_("%(field)s trop long (%(limit)s caractères au plus)") % {
                "field": COLUMNS[name][0], "limit": limit})  # fmt: skip
            values[name] = values[name][:limit]
    year = values["birth_year"]
    values["birth_year"] = None
    if year:
        if not re.fullmatch(r"\d{4}", year):
            fail(_("année de naissance « %(value)s » illisible") % {"value": year})
        elif not 1900 <= int(year) <= this_year:
            fail(_("année de naissance « %(value)s » impossible") % {"value": year})
        else:
            values["birth_year"] = int(year)
    phone = values["phone"]
    if phone:
        digits = re.sub(r"\D", "", phone)
        if len(digits) == 9 and not phone.startswith("+"):
            phone = "0" + digits  # a spreadsheet dropped the leading zero
        try:
            values["phone"] = normalise_phone(phone)
        except ValidationError:
            fail(_("numéro de téléphone « %(value)s » invalide") % {"value": values["phone"]})
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            fail(_("e-mail « %(value)s » invalide") % {"value": values["email"]})
    for name, validator, label in (
        ("commune_insee", validate_insee_code, _("code INSEE")),
        ("postcode", validate_postcode, _("code postal")),
    ):
        if values[name]:
            try:
                validator(values[name])
            except ValidationError:
                fail(
                    _("%(field)s « %(value)s » invalide") % {"field": label, "value": values[name]}
                )
    for name, (vocabulary, known) in VOCABULARIES.items():
        text = values[name]
        code = known.get(_key(text)) if text else taxonomy.NOT_GIVEN
        if code is None:
            labels = ", ".join(label for _code, label in taxonomy.choices(vocabulary))
            fail(
                _("%(field)s « %(value)s » inconnu (valeurs possibles : %(labels)s)")
                % {"field": COLUMNS[name][0].lower(), "value": text, "labels": labels}
            )
            code = taxonomy.NOT_GIVEN
        values[name] = code
    return values


def check(file, *, time_budget: float | None = None) -> tuple[list[Row], list[str]]:
    """Read and validate every row of a CSV or XLSX file: (rows, French error messages).

    `file` is bytes or a file-like object. Any error means nothing may be saved. Checking
    stops with an error after `time_budget` seconds (`limits.IMPORT_TIME_BUDGET` by default).
    """
    content = file if isinstance(file, bytes | bytearray) else file.read(MAX_BYTES + 1)
    content = bytes(content)
    errors: list[str] = []
    rows: list[Row] = []
    this_year = timezone.localdate().year
    deadline = limits.Deadline(time_budget)
    try:
        records = _records(content, deadline)
        fields: list[str] | None = None
        for line, record in records:
            deadline.check()
            if line > MAX_LINES:
                raise ImportFileError(
                    _("Le fichier compte plus de %(max)s lignes : découpez-le.")
                    % {"max": _thousands(MAX_LINES)}
                )
            if len(record) > limits.MAX_COLUMNS:
                raise limits.refuse_wide(len(record), line)
            cells = [_cell(c) for c in record]
            if any(len(c) > limits.MAX_CELL_CHARS for c in cells):
                raise limits.refuse_long_cell(_("Ligne %(line)s") % {"line": line})
            if fields is None:
                keys = {HEADERS.get(_key(c)) for c in cells if c}
                if set(REQUIRED) <= keys:
                    fields = _columns(record)
                elif line >= HEADER_SEARCH_ROWS:
                    break
                continue
            if not any(cells):
                continue  # blank lines, e.g. at the end of a spreadsheet
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(
                    _("Le fichier compte plus de %(max)s personnes : découpez-le.")
                    % {"max": _thousands(MAX_ROWS)}
                )
            if len(cells) > len(fields) and any(cells[len(fields) :]):
                errors.append(
                    _("Ligne %(line)s : plus de valeurs que de colonnes") % {"line": line}
                )
                continue
            raw = {name: cells[i] for i, name in enumerate(fields) if name and i < len(cells)}
            rows.append(Row(line, _clean(line, raw, errors, this_year)))
        if fields is None:
            raise ImportFileError(
                _(
                    "Colonnes « Nom » et « Prénom » introuvables : ce fichier n’est pas un "
                    "export de bénéficiaires. Colonnes attendues : %(expected)s."
                )
                % {"expected": _expected()}
            )
        if not rows and not errors:
            raise ImportFileError(_("Le fichier ne contient aucune personne."))
    except limits.FileRefused as error:
        return [], [str(error)]
    return rows, errors


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


# --- Queueing ---------------------------------------------------------------------------------


@transaction.atomic
def import_queue(
    *, structure: Structure, actor: User, filename: str, content: bytes, total: int
) -> BeneficiaryImport:
    """Keep a checked file to be written by the worker (or by its status page)."""
    job = BeneficiaryImport(
        structure=structure,
        created_by=actor,
        filename=filename[:200],
        content=content,
        total=total,
    )
    job.full_clean(exclude=["content"])
    job.save()
    journal.record(
        structure=structure,
        action="beneficiary.import_queued",
        obj=job,
        actor=actor,
        data={"rows": total},
    )
    return job


# --- Progress ---------------------------------------------------------------------------------


def _progress_cache() -> FileBasedCache:
    # One directory per database, so test runs and instances on one machine never mix.
    name = str(connection.settings_dict.get("NAME"))
    digest = hashlib.sha256(f"{connection.vendor}:{name}".encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"lien-import-progress-{digest}"
    return FileBasedCache(str(folder), {"TIMEOUT": 24 * 3600})


def _progress_key(pk: int) -> str:
    return f"import-progress-{pk}"


def progress(job: BeneficiaryImport) -> int:
    """Rows written so far (committed or not) by the run of this import."""
    if job.state == ImportState.DONE:
        return job.total
    if job.state == ImportState.RUNNING:
        return min(int(_progress_cache().get(_progress_key(job.pk), 0)), job.total)
    return job.done


# --- Running ----------------------------------------------------------------------------------


def _claim(import_pk: int | None) -> BeneficiaryImport | None:
    """Move one pending import to running in a committed transaction; None if none is free."""
    with transaction.atomic():
        pending = BeneficiaryImport.objects.filter(state=ImportState.PENDING).order_by("pk")
        if import_pk is not None:
            pending = pending.filter(pk=import_pk)
        job = pending.select_for_update(skip_locked=True).first()
        if job is None:
            return None
        job.state = ImportState.RUNNING
        job.save(update_fields=["state"])
    _progress_cache().set(_progress_key(job.pk), 0)
    return job


def _fail_stale(now: dt.datetime) -> None:
    """Mark failed the imports whose writer died (its transaction rolled back: nothing saved).

    A live writer holds its import's row lock for the whole write (see `_run`), so on
    PostgreSQL SKIP LOCKED leaves it alone; the age condition covers the instant between a
    claim and that lock, and SQLite, where writers are serialised anyway.
    """
    with transaction.atomic():
        stale = list(
            BeneficiaryImport.objects.select_for_update(skip_locked=True)
            .filter(state=ImportState.RUNNING, created_at__lt=now - STALE_AFTER)
            .values_list("pk", flat=True)
        )
        BeneficiaryImport.objects.filter(pk__in=stale).update(
            state=ImportState.FAILED,
            finished_at=now,
            content=b"",
            report=[{"row": None, "message": _("Import interrompu : rien n’a été enregistré.")}],
        )
        for job in BeneficiaryImport.objects.filter(pk__in=stale).select_related("structure"):
            _journal_failure(job, "interrupted", actor_label="worker")


def run_pending(import_pk: int | None = None) -> int:
    """Write the pending imports (only `import_pk` if given); returns how many ran.

    The worker calls it without argument (and cleans up interrupted imports); the status
    page with its import, so that imports work without a worker too.
    """
    if import_pk is None:
        _fail_stale(timezone.now())
    ran = 0
    while (job := _claim(import_pk)) is not None:
        _run(job)
        ran += 1
        if import_pk is not None:
            break
    return ran


def _finish(job: BeneficiaryImport, state: str, report: list[dict], done: int) -> None:
    BeneficiaryImport.objects.filter(pk=job.pk).update(
        state=state, report=report, done=done, finished_at=timezone.now(), content=b""
    )


def _journal_failure(job: BeneficiaryImport, reason: str, *, actor_label: str = "") -> None:
    """An import ended without writing anything: `reason` is a code, never a row's values."""
    journal.record(
        structure=job.structure,
        action="beneficiary.import_failed",
        obj=job,
        actor=job.created_by if not actor_label else None,
        actor_label=actor_label or ("" if job.created_by else "worker"),
        data={"reason": reason},
    )


def _run(job: BeneficiaryImport) -> None:
    """Check the file again and write every row in one transaction (all or nothing)."""
    try:
        with transaction.atomic():
            # Held until commit: tells `_fail_stale` of other workers that this one is alive.
            job = BeneficiaryImport.objects.select_for_update().get(pk=job.pk)
            # The file passed the upload page's budget already; a busier machine must not
            # fail it now (this may run in the worker or in the status page's request).
            rows, errors = check(bytes(job.content), time_budget=limits.OFFLINE_TIME_BUDGET)
            if errors:
                report = [{"row": None, "message": e} for e in errors]
                _finish(job, ImportState.FAILED, report, 0)
                _journal_failure(job, "invalid")
                return
            created, report = _write(job, rows)
            journal.record(
                structure=job.structure,
                action="beneficiary.imported",
                obj=job,
                actor=job.created_by,
                actor_label="" if job.created_by else "worker",
                data={"count": created, "skipped": len(report)},
            )
            _finish(job, ImportState.DONE, report, len(rows))
    except DatabaseError:
        log.exception("import %s failed", job.pk)
        message = _("Import refusé par la base de données : rien n’a été enregistré.")
        with transaction.atomic():
            _finish(job, ImportState.FAILED, [{"row": None, "message": message}], 0)
            _journal_failure(job, "database")


def _write(job: BeneficiaryImport, rows: list[Row]) -> tuple[int, list[dict]]:
    """Create the people, skipping those already known; returns (created, report)."""
    known_years: set[tuple[str, int]] = set()
    known_phones: set[tuple[str, str]] = set()
    existing = Beneficiary.objects.of_structure(job.structure).identified()
    for name, year, phone in existing.values_list("search_name", "birth_year", "phone"):
        if year:
            known_years.add((name, year))
        if phone:
            known_phones.add((name, phone))
    report: list[dict] = []
    people: list[Beneficiary] = []
    for row in rows:
        values, name = row.values, row.name_key
        year, phone = values["birth_year"], values["phone"]
        if (year and (name, year) in known_years) or (phone and (name, phone) in known_phones):
            report.append({"row": row.line, "message": _("personne déjà connue, non importée")})
            continue
        if year:
            known_years.add((name, year))
        if phone:
            known_phones.add((name, phone))
        people.append(
            Beneficiary(
                structure=job.structure,
                created_by=job.created_by,
                search_name=name,  # bulk_create does not call save()
                age_band=taxonomy.age_band(year) if year else values["age_band"],
                **{k: v for k, v in values.items() if k != "age_band"},
            )
        )
    cache = _progress_cache()
    skipped = len(report)
    for start in range(0, len(people), BATCH_SIZE):
        Beneficiary.objects.bulk_create(people[start : start + BATCH_SIZE])
        done = min(skipped + start + BATCH_SIZE, len(rows))
        cache.set(_progress_key(job.pk), done)
    cache.set(_progress_key(job.pk), len(rows))
    return len(people), report
