"""PostgreSQL: give the application's database role its privileges (run as the owner)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils.translation import gettext as _

from lien.journal import app_role


class Command(BaseCommand):
    help = _(
        "PostgreSQL : donne au rôle avec lequel l'application se connecte les droits dont elle "
        "a besoin, sans posséder aucune table (lecture et ajout seulement dans le journal). "
        "À lancer avec le rôle propriétaire, après chaque « migrate »."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help=_("Le rôle de connexion de l'application."))
        parser.add_argument(
            "--sql",
            action="store_true",
            help=_("Afficher les instructions sans les exécuter."),
        )

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(_("Cette commande ne concerne que PostgreSQL."))
        role = options["role"]
        with transaction.atomic(), connection.cursor() as cursor:
            owner, errors = app_role.problems(cursor, role)
            if errors or owner is None:
                raise CommandError("\n".join(errors))
            cursor.execute("SELECT current_database(), current_schema()")
            database, schema = cursor.fetchone()
            statements = app_role.grant_statements(
                role=role, owner=owner, database=database, schema=schema
            )
            for statement in statements:
                self.stdout.write(statement)
                if not options["sql"]:
                    cursor.execute(statement)
        if not options["sql"]:
            self.stdout.write(
                _("Droits donnés à « %(role)s » (propriétaire des tables : « %(owner)s »).")
                % {"role": role, "owner": owner}
            )
