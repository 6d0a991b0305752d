"""The one append-only journal of Lien. Write through `record()` only.

The database refuses to change or delete a row (a trigger on PostgreSQL and on SQLite; see
migration 0004) except through `shred()`, which overwrites the personal values of the entries
about the people being erased, and only theirs, and marks them shredded. The database knows
who is being erased from a transaction-local setting (PostgreSQL: `lien.shredding`, the ids
separated by commas) or, on SQLite, from a function of the connection (`lien_shred_allowed`)
that reads the same list: a stray UPDATE in a shell, or a shred aimed at someone else's
entries, fails.
"""

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from typing import Any

SHREDDING_SETTING = "lien.shredding"

# The client address of the request being served (set by JournalClientMiddleware), recorded
# on the entries written by a staff member.
_client_ip: contextvars.ContextVar[str] = contextvars.ContextVar("lien_client_ip", default="")


@contextlib.contextmanager
def client_address(address: str) -> Iterator[None]:
    """Entries written inside this block record `address` as the staff member's address."""
    token = _client_ip.set(address or "")
    try:
        yield
    finally:
        _client_ip.reset(token)


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
    identify someone (old contact details) and nothing else: they are shredded when that
    person is erased, so `personal` needs a `subject`. `data` must never hold personal
    values (no search words, no names). `action` must be registered in journal/actions.py.
    """
    from lien.journal.actions import is_registered
    from lien.journal.models import JournalEntry

    if not is_registered(action):
        raise ValueError(f"unregistered journal action {action!r}: add it to journal/actions.py")
    subject_id = getattr(subject, "pk", subject)
    if personal and subject_id is None:
        raise ValueError("personal values need a subject, or they could never be shredded")
    staff = getattr(actor, "is_authenticated", False)
    return JournalEntry.objects.create(
        structure=structure,
        actor=actor if staff else None,
        actor_label=actor_label,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        data=data or {},
        subject_id=subject_id,
        personal=personal or {},
        # A resident's address would be personal data of someone without a record to
        # shred it with: only staff members' addresses are kept.
        client_ip=(_client_ip.get() or None) if staff else None,
    )


def record_listing(request, *, action: str, page, filters: dict[str, Any]) -> None:
    """A page listing people was shown: journal which page and filters, never the names.

    `filters` are the list's validated filter values (a date, a code, an id), never free text
    typed by the user: a search box is journalled as a search, without its words.
    """
    record(
        structure=request.structure,
        action=action,
        actor=request.user,
        data={
            "page": page.number,
            "shown": len(page.object_list),
            "filters": {k: str(v)[:40] for k, v in filters.items() if v not in (None, "")},
        },
    )


def record_search(request, *, action: str, results: int, **data: Any) -> None:
    """A search for people happened: by whom, how many it found, never the words typed."""
    record(
        structure=request.structure,
        action=action,
        actor=request.user,
        data={"results": results, "role": request.membership.role, **data},
    )


@contextlib.contextmanager
def _shredding(subject_ids: list[int]) -> Iterator[None]:
    """Tell the database whose entries this transaction may shred, then forget it."""
    from django.db import connection

    scope = ",".join(str(int(pk)) for pk in subject_ids)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [SHREDDING_SETTING, scope])
        try:
            yield
        finally:
            # After an error the transaction (or savepoint) is rolled back, and the setting
            # with it; only a transaction that goes on needs it cleared.
            if not connection.needs_rollback:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, '', true)", [SHREDDING_SETTING])
    else:
        connection.lien_shredding = frozenset(int(pk) for pk in subject_ids)
        try:
            yield
        finally:
            connection.lien_shredding = frozenset()


def shred(*, subject_ids: Iterable[int]) -> int:
    """Overwrite the personal values of every entry about these people; returns the count.

    The rows stay (who did what, when) with `shredded = true` and each personal value null.
    """
    from django.db import transaction
    from django.db.models import Q

    from lien.journal.models import JournalEntry

    subject_ids = [int(pk) for pk in subject_ids]
    if not subject_ids:
        return 0
    count = 0
    with transaction.atomic(), _shredding(subject_ids):
        entries = JournalEntry.objects.filter(
            Q(subject_id__in=subject_ids) | Q(object_type="beneficiary", object_id__in=subject_ids),
            shredded=False,
        )
        for entry in entries.only("pk", "personal").iterator():
            blank = dict.fromkeys(entry.personal or {}, None)
            JournalEntry.objects.filter(pk=entry.pk).update(personal=blank, shredded=True)
            count += 1
    return count


@contextlib.contextmanager
def allow_flush() -> Iterator[None]:
    """Tests only: let Django empty a SQLite test database (it flushes with DELETE).

    PostgreSQL flushes with TRUNCATE, which row triggers do not see; production code never
    deletes journal rows and has no reason to call this.
    """
    from django.db import connection

    previous = getattr(connection, "lien_allow_journal_delete", False)
    connection.lien_allow_journal_delete = True
    try:
        yield
    finally:
        connection.lien_allow_journal_delete = previous
