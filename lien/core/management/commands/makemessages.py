"""Django's makemessages without fuzzy matching.

Lien's source strings are already French and the catalogue only brings French plural rules
(`fill_plural_forms`): a "fuzzy" guess copied from a similar string ("Fiche mise à jour." →
"%(count)s lieu mis à jour") is never right, so new strings start empty.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
