"""Verify the journal's hash chains; exit with status 1 at the first broken link."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lien.accounts.models import Structure
from lien.journal import integrity
from lien.journal.models import JournalCheck


class Command(BaseCommand):
    help = _(
        "Vérifie la chaîne d'empreintes du journal de chaque structure et signale le premier "
        "maillon rompu (le worker le fait chaque jour). Code de sortie 1 si une chaîne est "
        "rompue."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--structure", metavar="SLUG", help=_("Une seule structure."))
        parser.add_argument(
            "--no-record",
            action="store_true",
            help=_("Vérifier sans enregistrer le résultat (la page du journal ne change pas)."),
        )

    def handle(self, *args, **options) -> None:
        structures = {s.pk: s for s in Structure._base_manager.all()}
        structure = None
        if options["structure"]:
            structure = next(
                (s for s in structures.values() if s.slug == options["structure"]), None
            )
            if structure is None:
                raise CommandError(
                    _("Aucune structure ne porte l'identifiant « %(slug)s ».")
                    % {"slug": options["structure"]}
                )
        if options["no_record"]:
            result = integrity.verify(structure)
        else:
            result = integrity.run_check(structure)
        reasons = dict(JournalCheck.Reason.choices)
        for checked in result.chains:
            known = structures.get(checked.structure_id)
            name = f"{known.name} ({known.slug})" if known else f"#{checked.structure_id}"
            walked, broken = checked.walk, checked.broken
            if broken is None:
                self.stdout.write(
                    _(
                        "%(name)s : intact, %(count)s entrée(s) ; dernière n° %(seq)s, "
                        "empreinte %(hash)s"
                    )
                    % {
                        "name": name,
                        "count": walked.entries,
                        "seq": walked.head_seq,
                        "hash": walked.head_hash or "-",
                    }
                )
            else:
                self.stderr.write(
                    _(
                        "%(name)s : chaîne ROMPUE à l'entrée n° %(seq)s (id %(id)s) : "
                        "%(reason)s. %(count)s entrée(s) intacte(s) avant elle."
                    )
                    % {
                        "name": name,
                        "seq": broken.seq,
                        "id": broken.entry_id if broken.entry_id is not None else "-",
                        "reason": reasons.get(broken.reason, broken.reason),
                        "count": walked.entries,
                    }
                )
        if not result.ok:
            raise CommandError(
                _("Journal rompu dans %(count)s structure(s) sur %(total)s.")
                % {"count": len(result.broken), "total": len(result.chains)}
            )
        self.stdout.write(
            _("Journal intact : %(structures)s structure(s), %(entries)s entrée(s) vérifiée(s).")
            % {"structures": len(result.chains), "entries": result.entries}
        )
