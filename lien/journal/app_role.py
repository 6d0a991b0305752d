"""PostgreSQL: the privileges of the role the application connects as.

Migrations run as the role that owns the tables; the web and worker processes connect as
another role, which owns nothing. The owner could TRUNCATE the journal, disable or drop its
triggers; the application role can do none of that: it may read and append to the journal,
and change only the two columns a shred changes (`personal`, `shredded`), which the trigger
still restricts to the entries of a person being erased. Everywhere else it has ordinary
reads and writes. docs/DEPLOYMENT.md shows these statements; `manage.py grant_app_role`
runs them (as the owner, after each `migrate`).
"""

import re

from django.utils.translation import gettext as _

JOURNAL = "journal_journalentry"
CHECKS = "journal_journalcheck"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def grant_statements(*, role: str, owner: str, database: str, schema: str = "public") -> list[str]:
    """The statements that give `role` what the application needs, and no more."""
    role_, owner_, schema_ = _q(role), _q(owner), _q(schema)
    dml = "SELECT, INSERT, UPDATE, DELETE"
    return [
        f"GRANT CONNECT ON DATABASE {_q(database)} TO {role_};",
        f"GRANT USAGE ON SCHEMA {schema_} TO {role_};",
        f"GRANT {dml} ON ALL TABLES IN SCHEMA {schema_} TO {role_};",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_} TO {role_};",
        # The journal: read and append; UPDATE of the shredded columns only (the trigger
        # still allows it only for a person being erased); no DELETE, no TRUNCATE.
        f"REVOKE ALL ON {schema_}.{_q(JOURNAL)} FROM {role_};",
        f"GRANT SELECT, INSERT ON {schema_}.{_q(JOURNAL)} TO {role_};",
        f'GRANT UPDATE ("personal", "shredded") ON {schema_}.{_q(JOURNAL)} TO {role_};',
        # The verifications' results, whose heads anchor the next check: append only.
        f"REVOKE ALL ON {schema_}.{_q(CHECKS)} FROM {role_};",
        f"GRANT SELECT, INSERT ON {schema_}.{_q(CHECKS)} TO {role_};",
        # Tables and sequences the owner creates in later migrations: ordinary reads and
        # writes straight away (run this again after each migrate all the same).
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_} IN SCHEMA {schema_} "
        f"GRANT {dml} ON TABLES TO {role_};",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_} IN SCHEMA {schema_} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {role_};",
    ]


def problems(cursor, role: str) -> tuple[str | None, list[str]]:
    """The journal table's owner, and why `role` cannot be the application's role (French)."""
    names = {"role": role, "owner": ""}
    if not ROLE_NAME.match(role):
        return None, [_("« %(role)s » n'est pas un nom de rôle simple (a-z, 0-9, _).") % names]
    cursor.execute(
        "SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = %s",
        [JOURNAL],
    )
    row = cursor.fetchone()
    if row is None:
        return None, [_("La table du journal n'existe pas : lancez d'abord « migrate ».")]
    owner = names["owner"] = row[0]
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
    found = cursor.fetchone()
    if found is None:
        return owner, [
            _("Le rôle « %(role)s » n'existe pas (CREATE ROLE %(role)s LOGIN …).") % names
        ]
    errors = []
    if found[0]:
        errors.append(
            _("Le rôle « %(role)s » est superutilisateur : il passerait outre tout.") % names
        )
    if role == owner:
        errors.append(_("Le rôle « %(role)s » possède les tables : il faut un autre rôle.") % names)
    else:
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])
        if cursor.fetchone()[0]:
            errors.append(
                _(
                    "Le rôle « %(role)s » est membre de « %(owner)s », propriétaire des tables : "
                    "il en aurait les droits."
                )
                % names
            )
    return owner, errors
