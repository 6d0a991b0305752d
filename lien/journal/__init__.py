"""The one append-only journal of Lien. Write through `record()` only.

Each structure's entries form a hash chain (journal/chain.py), verified daily by the worker
and by `manage.py verify_journal` (journal/integrity.py). The database refuses to change or
delete a row (triggers on PostgreSQL and on SQLite, migrations 0004 and 0007; on PostgreSQL
TRUNCATE too) except through `shred()`, which overwrites the personal values of the entries
about the people being erased, and only theirs, and marks them shredded. The database knows
who is being erased from a transaction-local setting (PostgreSQL: `lien.shredding`, the ids
separated by commas) or, on SQLite, from a function of the connection (`lien_shred_allowed`)
that reads the same list: a stray UPDATE in a shell, or a shred aimed at someone else's
entries, fails. Personal values are outside the hashes: a shred leaves the chains intact.
"""

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lien.journal.models import JournalEntry

SHREDDING_SETTING = "lien.shredding"
# PostgreSQL: lets TRUNCATE empty the journal in this transaction. Only the test suite's
# flush of a test database sets it (tests/conftest.py); production code never does.
FLUSH_SETTING = "lien.journal_flush"

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
    return _append(
        JournalEntry(
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
    )


def _append(entry: "JournalEntry") -> "JournalEntry":
    """Insert `entry` as the next link of its structure's hash chain (journal/chain.py).

    The chain's last entry is read and the new one inserted in one transaction, during which
    no other writer may append to the same chain: on PostgreSQL an advisory lock on the
    structure, held until the transaction ends (so keep `record()` late in a transaction: a
    long transaction that journals early makes that structure's other writers wait); on
    SQLite the database's one writer (Lien's SQLite transactions are IMMEDIATE). So no number
    is taken twice, and an entry rolled back leaves no gap.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from lien.journal import chain
    from lien.journal.models import JournalEntry

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    [f"lien:journal:{entry.structure_id}"],
                )
        # The base manager: a chain is the structure's whole journal, whatever scope is active.
        last = (
            JournalEntry._base_manager.filter(structure_id=entry.structure_id)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        entry.seq, entry.prev_hash = (last[0] + 1, last[1]) if last else (1, chain.GENESIS)
        # Dated once the chain is held, so dates follow the numbers (clock changes aside).
        entry.at = timezone.now()
        entry.data = chain.stored_data(entry.data)
        entry.hash = chain.entry_hash(
            structure_id=entry.structure_id,
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            data=entry.data,
            subject_id=entry.subject_id,
            client_ip=entry.client_ip,
            prev_hash=entry.prev_hash,
        )
        entry.save(force_insert=True)
    return entry


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
        sqlite: Any = connection  # carries Lien's state for journal/sqlite.py's functions
        sqlite.lien_shredding = frozenset(int(pk) for pk in subject_ids)
        try:
            yield
        finally:
            sqlite.lien_shredding = frozenset()


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
    # The base manager: an erasure reaches every entry about the people, whatever scope is on.
    journal = JournalEntry._base_manager
    with transaction.atomic(), _shredding(subject_ids):
        entries = journal.filter(
            Q(subject_id__in=subject_ids) | Q(object_type="beneficiary", object_id__in=subject_ids),
            shredded=False,
        )
        for entry in entries.only("pk", "personal").iterator():
            blank = dict.fromkeys(entry.personal or {}, None)
            journal.filter(pk=entry.pk).update(personal=blank, shredded=True)
            count += 1
    return count


@contextlib.contextmanager
def allow_flush() -> Iterator[None]:
    """Tests only: let Django empty a SQLite test database (it flushes with DELETE).

    PostgreSQL flushes with TRUNCATE, which the test suite allows through FLUSH_SETTING;
    production code never deletes journal rows and has no reason to call this.
    """
    from django.db import connection

    sqlite: Any = connection  # carries Lien's state for journal/sqlite.py's functions
    previous = getattr(sqlite, "lien_allow_journal_delete", False)
    sqlite.lien_allow_journal_delete = True
    try:
        yield
    finally:
        sqlite.lien_allow_journal_delete = previous
