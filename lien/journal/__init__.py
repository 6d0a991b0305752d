"""The one append-only journal of Lien. Write through `record()` only.

The database refuses to change a row (a trigger on PostgreSQL and on SQLite; see migration
0002) except through `shred()`, which overwrites the personal values of the entries about one
person and marks them shredded. On PostgreSQL the shred must also run with the transaction-local
setting `lien.shredding` on, so a stray UPDATE in a shell fails as well.
"""

from typing import Any

SHREDDING_SETTING = "lien.shredding"


def record(
    *,
    structure,
    action: str,
    obj=None,
    actor=None,
    actor_label: str = "",
    data: dict[str, Any] | None = None,
    subject=None,
    personal: dict[str, Any] | None = None,
):
    """Append one entry.

    `actor` is the staff user, or None with an `actor_label` ("resident-link", "worker").
    `subject` is the Beneficiary the entry is about, if any; `personal` holds the values that
    identify someone (a search text, old contact details) and nothing else: they are shredded
    when that person is erased. `data` must never hold personal values.
    """
    from lien.journal.models import JournalEntry

    subject_id = getattr(subject, "pk", subject)
    return JournalEntry.objects.create(
        structure=structure,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        data=data or {},
        subject_id=subject_id,
        personal=personal or {},
    )


def record_listing(request, *, action: str, page) -> None:
    """A page listing people was shown: journal which page and filters, never the names."""
    record(
        structure=request.structure,
        action=action,
        actor=request.user,
        data={
            "page": page.number,
            "shown": len(page.object_list),
            "filters": {k: v[:40] for k, v in request.GET.items() if k != "page" and v},
        },
    )


def shred(*, subject_ids) -> int:
    """Overwrite the personal values of every entry about these people; returns the count.

    The rows stay (who did what, when) with `shredded = true` and each personal value null.
    """
    from django.db import connection, transaction
    from django.db.models import Q

    from lien.journal.models import JournalEntry

    subject_ids = list(subject_ids)
    if not subject_ids:
        return 0
    count = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', true)", [SHREDDING_SETTING])
        entries = JournalEntry.objects.filter(
            Q(subject_id__in=subject_ids) | Q(object_type="beneficiary", object_id__in=subject_ids),
            shredded=False,
        )
        for entry in entries.only("pk", "personal").iterator():
            blank = dict.fromkeys(entry.personal or {}, None)
            JournalEntry.objects.filter(pk=entry.pk).update(personal=blank, shredded=True)
            count += 1
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'off', true)", [SHREDDING_SETTING])
    return count
