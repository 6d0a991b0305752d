"""The one append-only journal of Lien. Write through `record()` only."""

from typing import Any


def record(
    *,
    structure,
    action: str,
    obj=None,
    actor=None,
    actor_label: str = "",
    data: dict[str, Any] | None = None,
):
    """Append one entry. `actor` is the staff user, or None with an `actor_label`."""
    from lien.journal.models import JournalEntry

    return JournalEntry.objects.create(
        structure=structure,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        data=data or {},
    )
