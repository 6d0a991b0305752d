"""Is the journal intact? The verification of its hash chains and its stored results.

`latest_check(structure)` is what a page shows: the last daily verification of that
structure's chain (a `JournalCheck`), or None before the first one.
"""

from lien.journal.models import JournalCheck


def latest_check(structure) -> JournalCheck | None:
    """The most recent verification of this structure's journal, or None if never checked."""
    # The base manager, filtered explicitly: the result is the same under any scope.
    return JournalCheck._base_manager.filter(structure=structure).order_by("-at", "-pk").first()
