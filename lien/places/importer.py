"""Import of places from a file in the national places standard, all or nothing.

The steps, each in `lien.places.importing` with its own reason to change:
- `read.py`: size, encoding, CSV or JSON, the caps of `lien.core.limits`, the columns;
- `legacy.py`: the v0.1.x schema and its conversion to v1.0.1;
- `validate.py`: every record checked against the standard v1.0.1 and the `Place` model;
- `write.py`: one transaction through the places services, rolled back on any refusal;
- `records.py`: the records and the French report they all share.

Every row is checked before anything is written; one error and nothing is saved. Rows are
numbered as records: row 1 is the first place (a CSV header is not counted; the CSV line is
given as well). Places are matched on (structure, record `id`) so a re-import updates them.
A file past the caps is refused whole with a French message, never an exception.
"""

from lien.accounts.models import Structure, User
from lien.core import limits
from lien.places.importing.legacy import LEGACY_SERVICES, legacy_to_v1
from lien.places.importing.read import MAX_BYTES, read_records
from lien.places.importing.records import ImportReport, RowIssue
from lien.places.importing.validate import prepare_places
from lien.places.importing.write import write_places

# What callers use: the entry point, its report, the upload cap, the legacy mapping.
__all__ = [
    "LEGACY_SERVICES",
    "MAX_BYTES",
    "ImportReport",
    "RowIssue",
    "import_places",
    "legacy_to_v1",
]


def import_places(
    *,
    structure: Structure,
    filename: str,
    content: bytes,
    dry_run: bool = False,
    time_budget: float | None = None,
    actor: User | None = None,
    actor_label: str = "import",
) -> ImportReport:
    """Create or update `structure`'s places from a places-standard file, all or nothing.

    Each place created or changed is journalled as made by `actor` (the staff member who
    sent the file), or by `actor_label` when a command imports it.

    Nothing is written when the report has an error, nor in a dry run (the writes are then
    made and rolled back, so that database checks run too). Reading and checking the file
    stop with an error after `time_budget` seconds (`limits.IMPORT_TIME_BUDGET` by default).
    """
    report = ImportReport(filename=filename, dry_run=dry_run)
    deadline = limits.Deadline(time_budget)
    try:
        rows, legacy = read_records(filename, content, report, deadline)
        report.records = len(rows)
        prepared = prepare_places(structure, rows, legacy, report, deadline)
    except limits.FileRefused as exc:
        report.errors.insert(0, RowIssue(0, "", str(exc)))
        return report
    if report.errors:
        return report
    write_places(structure, prepared, report, actor=actor, actor_label=actor_label)
    return report
