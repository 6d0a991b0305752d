"""Write the published places in the national places standard v1.0.1 (CSV or JSON)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lien.accounts.models import Structure
from lien.core.scopes import scopes_disabled
from lien.places.opendata import dated_filename, export_csv, export_json, export_queryset


class Command(BaseCommand):
    help = _("Exporte les lieux publiés au standard national des lieux de médiation numérique.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            choices=["csv", "json"],
            default="csv",
            help=_("Format du fichier (csv par défaut)."),
        )
        parser.add_argument(
            "--output",
            metavar="CHEMIN",
            help=_(
                "Fichier à écrire (sortie standard par défaut). Un dossier "
                "existant reçoit un fichier nommé selon la convention "
                "AAAA-MM-JJ_<producteur>_lieux-de-mediation-numerique_"
                "<territoire>."
            ),
        )
        parser.add_argument(
            "--structure", metavar="SLUG", help=_("N'exporter que les lieux de cette structure.")
        )
        parser.add_argument(
            "--producer",
            default="lien",
            help=_("Producteur, pour le nom de fichier (lien par défaut)."),
        )
        parser.add_argument(
            "--territory",
            default="france",
            help=_("Territoire, pour le nom de fichier (france par défaut)."),
        )

    def handle(self, *args, **options) -> None:
        # A command works across structures: it says so (core/scopes.py).
        with scopes_disabled():
            structure = None
            if options["structure"]:
                structure = Structure.objects.filter(slug=options["structure"]).first()
                if structure is None:
                    raise CommandError(
                        _("Aucune structure ne porte l'identifiant « %(slug)s ».")
                        % {"slug": options["structure"]}
                    )
            places = export_queryset(structure=structure)
            if options["format"] == "json":
                text = json.dumps(export_json(places), ensure_ascii=False, indent=2) + "\n"
            else:
                text = export_csv(places)
            if not options["output"]:
                self.stdout.write(text, ending="")
                return
            path = Path(options["output"])
            if path.is_dir():
                producer = options["producer"]
                if structure is not None and options["producer"] == "lien":
                    producer = structure.slug
                path = path / dated_filename(
                    producer, options["territory"], extension=options["format"]
                )
            try:
                path.write_text(text, encoding="utf-8", newline="")
            except OSError as exc:
                raise CommandError(
                    _("Impossible d'écrire « %(path)s » : %(error)s")
                    % {"path": path, "error": exc.strerror}
                ) from exc
            self.stderr.write(
                ngettext(
                    "%(count)s lieu exporté dans « %(path)s ».",
                    "%(count)s lieux exportés dans « %(path)s ».",
                    len(places),
                )
                % {"count": len(places), "path": path}
            )
