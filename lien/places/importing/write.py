"""Writing checked places: create or update each one and its opening hours, all or nothing.

One transaction for the whole file, through the places services (which validate again and
journal each change); a refusal by a service or the database rolls everything back and is
reported under the record's number. A dry run makes the writes, so that database checks run
too, then rolls them back.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from lien.accounts.models import Structure, User
from lien.places.importing.records import ImportReport, RowIssue
from lien.places.importing.validate import MODEL_TO_STANDARD, Prepared
from lien.places.services import opening_rules_replace, place_save, unique_place_slug


class _Rollback(Exception):
    pass


def write_places(
    structure: Structure,
    prepared: Iterable[Prepared],
    report: ImportReport,
    *,
    actor: User | None,
    actor_label: str,
) -> None:
    """Save the checked places and their hours in one transaction: nothing stays when one is
    refused, nor in a dry run. The report counts what was saved only when all of it was."""
    created = updated = 0
    try:
        with transaction.atomic():
            for item in prepared:
                place = item.place
                try:
                    if item.is_new:
                        place.slug = unique_place_slug(structure, place.name)
                    place_save(
                        structure=structure, place=place, actor=actor, actor_label=actor_label
                    )
                    if item.rules or not item.is_new:
                        opening_rules_replace(
                            place=place,
                            rules=item.rules,
                            closed_on_public_holidays=item.closed_on_public_holidays,
                            actor=actor,
                            actor_label=actor_label,
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
