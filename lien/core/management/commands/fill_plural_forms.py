"""Copy msgid/msgid_plural into the French catalogue's plural entries.

The source strings are already French; the catalogue exists so that French plural rules
apply (0 and 1 are singular). Run after makemessages: `make messages`.
"""

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

ENTRY = re.compile(
    r'(msgid (?P<one>"(?:[^"\\]|\\.)*"(?:\n"(?:[^"\\]|\\.)*")*)\n'
    r'msgid_plural (?P<many>"(?:[^"\\]|\\.)*"(?:\n"(?:[^"\\]|\\.)*")*)\n)'
    r'msgstr\[0\] ""\nmsgstr\[1\] ""'
)


class Command(BaseCommand):
    help = "Fill the French catalogue's plural entries with their source strings."

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES" / "django.po"
        text = path.read_text(encoding="utf-8")
        filled, count = ENTRY.subn(
            lambda m: f"{m.group(1)}msgstr[0] {m.group('one')}\nmsgstr[1] {m.group('many')}",
            text,
        )
        path.write_text(filled, encoding="utf-8")
        self.stdout.write(f"{count} entrées au pluriel complétées.")
