"""What every step of a places import shares: a record as read, a multi-valued cell split into
its values, and the French report with each record's issues.

Records are numbered from 1 (a CSV header is not counted; the CSV line is given as well), and
every issue names its record, its column and says what is wrong in French.
"""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def split(value: str, separators: str = "|") -> list[str]:
    """The values of a multi-valued cell, in order, without blanks or repeats."""
    parts = re.split("[" + re.escape(separators) + "]", value or "")
    out: list[str] = []
    for part in (p.strip() for p in parts):
        if part and part not in out:
            out.append(part)
    return out


@dataclass
class Row:
    """A record as read: its number (from 1), the CSV line where it starts (None in
    JSON), its values by column."""

    number: int
    line: int | None
    values: dict[str, str]


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


class Issues:
    """Collects the issues of one record."""

    def __init__(self, report: ImportReport, row: Row):
        self.report, self.row = report, row
        self.failed_fields: set[str] = set()

    def error(self, field_name: str, message: str) -> None:
        self.failed_fields.add(field_name)
        self.report.errors.append(RowIssue(self.row.number, field_name, message, self.row.line))

    def warning(self, field_name: str, message: str) -> None:
        self.report.warnings.append(RowIssue(self.row.number, field_name, message, self.row.line))
