"""Import places of one structure from a file of the national places standard.

A refused file (bad, too big, too deep, too long to check) ends with a French report and a
`CommandError`, never a traceback. Nobody waits on a web request here, so checking may take
`limits.OFFLINE_TIME_BUDGET` rather than the web pages' `IMPORT_TIME_BUDGET`.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lien.accounts.models import Structure
from lien.core import limits
from lien.core.scopes import scopes_disabled
from lien.places.importer import MAX_BYTES, import_places


class Command(BaseCommand):
    help = _(
        "Importe des lieux (standard des lieux de médiation numérique, CSV ou JSON, "
        "version 1.0 ou ancien format 0.1) dans une structure. Tout ou rien."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", metavar="CHEMIN", help=_("Fichier CSV ou JSON à importer."))
        parser.add_argument(
            "--structure",
            metavar="SLUG",
            required=True,
            help=_("Identifiant de la structure qui reçoit les lieux."),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Vérifier le fichier sans rien enregistrer.")
        )

    def handle(self, *args, **options) -> None:
        # A command works across structures: it says so (core/scopes.py).
        with scopes_disabled():
            structure = Structure.objects.filter(slug=options["structure"]).first()
            if structure is None:
                raise CommandError(
                    _("Aucune structure ne porte l'identifiant « %(slug)s ».")
                    % {"slug": options["structure"]}
                )
            path = Path(options["path"])
            try:
                if path.stat().st_size > MAX_BYTES:
                    raise CommandError(
                        _("« %(path)s » dépasse %(max)s Mo : découpez-le.")
                        % {"path": path, "max": MAX_BYTES // (1024 * 1024)}
                    )
                content = path.read_bytes()
            except OSError as exc:
                raise CommandError(
                    _("Impossible de lire « %(path)s » : %(error)s")
                    % {"path": path, "error": exc.strerror}
                ) from exc
            report = import_places(
                structure=structure,
                filename=path.name,
                content=content,
                dry_run=options["dry_run"],
                time_budget=limits.OFFLINE_TIME_BUDGET,
            )
            self.stdout.write(report.as_text())
            if not report.ok:
                raise CommandError(
                    _("Import refusé : corrigez les erreurs ci-dessus, rien n'a été enregistré.")
                )
