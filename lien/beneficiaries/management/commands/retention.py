"""Anonymise the people inactive for their structure's retention period (or only report)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lien.accounts.models import Structure
from lien.beneficiaries import gdpr
from lien.core.scopes import scopes_disabled


class Command(BaseCommand):
    help = _(
        "Anonymise les personnes sans activité depuis la durée de conservation de leur "
        "structure (le worker le fait chaque jour)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Compter seulement, sans rien effacer.")
        )
        parser.add_argument("--structure", metavar="SLUG", help=_("Une seule structure."))

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
            dry_run = options["dry_run"]
            report = gdpr.apply_retention(dry_run=dry_run, structure=structure)
            if dry_run:
                self.stdout.write(_("Simulation : rien n'a été effacé."))
            total = 0
            for line in report:
                verb = _("à anonymiser") if dry_run else _("anonymisée(s)")
                self.stdout.write(
                    _(
                        "%(name)s (%(slug)s, conservation %(months)s mois) : "
                        "%(count)s personne(s) %(verb)s"
                    )
                    % {
                        "name": line.name,
                        "slug": line.slug,
                        "months": line.months,
                        "count": len(line.pks),
                        "verb": verb,
                    }
                    + (f" — n° {', '.join(map(str, line.pks))}" if line.pks else "")
                )
                if line.failed:
                    self.stderr.write(
                        _("  échec pour les n° %(pks)s (voir le journal d'erreurs)")
                        % {"pks": ", ".join(map(str, line.failed))}
                    )
                total += len(line.pks)
            self.stdout.write(_("Total : %(total)s personne(s).") % {"total": total})
