from django.contrib import admin

from lien.core.admin import ReadOnlyAdmin
from lien.journal.models import JournalEntry


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    """Read-only: the journal is append-only. Its personal values (a person's former contact
    details, shredded on erasure) are never shown here: the person's access export shows
    them to the advisor who exports it, journalled."""

    list_display = ["at", "structure", "action", "object_type", "object_id", "actor"]
    list_filter = ["structure", "action"]
    exclude = ["personal"]
