from django.contrib import admin

from lien.core.admin import ReadOnlyAdmin
from lien.journal import actions
from lien.journal.models import JournalEntry


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    """Read-only: the journal is append-only. Its personal values (a person's former contact
    details, shredded on erasure) are never shown here: the person's access export shows
    them to the advisor who exports it, journalled."""

    list_display = ["at", "structure", "what", "object_type", "object_id", "who"]
    list_filter = ["structure", "action"]
    exclude = ["personal"]

    @admin.display(description="action", ordering="action")
    def what(self, entry: JournalEntry) -> str:
        return actions.label(entry.action)

    @admin.display(description="auteur")
    def who(self, entry: JournalEntry) -> str:
        return str(entry.actor) if entry.actor_id else actions.actor_label(entry.actor_label)
