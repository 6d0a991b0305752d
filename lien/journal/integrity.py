"""Is the journal intact? The verification of its hash chains and its stored results.

`verify()` walks each structure's chain in the database (journal/chain.py says how an entry
is hashed and where a chain breaks) and returns the first broken link of each;
`run_check()` does the same and stores one `JournalCheck` per structure (the worker's daily
`journal.verify`, `manage.py verify_journal`); `latest_check(structure)` is what a page
shows. The head a check found intact anchors the next one: the chain must still reach it,
with the same hash, so a deleted tail or a chain rewritten and re-hashed up to that head is
caught too. Each check also logs every head (`lien.journal` logger): a copy outside the
database that an operator can compare with later.
"""

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from lien.journal import chain
from lien.journal.models import JournalCheck, JournalEntry

log = logging.getLogger("lien.journal")

READ_CHUNK = 2000


class JournalBroken(Exception):
    """A verification found a broken chain (raised by the worker's job, after storing it)."""


@dataclass(frozen=True)
class ChainResult:
    """One structure's chain as verified: `walk` holds the count, head and first break."""

    structure_id: int
    walk: chain.Walk
    anchor: chain.Anchor | None

    @property
    def ok(self) -> bool:
        return self.walk.ok

    @property
    def broken(self) -> chain.Break | None:
        return self.walk.broken


@dataclass(frozen=True)
class Result:
    chains: list[ChainResult]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.chains)

    @property
    def entries(self) -> int:
        return sum(c.walk.entries for c in self.chains)

    @property
    def broken(self) -> list[ChainResult]:
        return [c for c in self.chains if not c.ok]


def latest_check(structure) -> JournalCheck | None:
    """The most recent verification of this structure's journal, or None if never checked."""
    # The base manager, filtered explicitly: the result is the same under any scope.
    return JournalCheck._base_manager.filter(structure=structure).order_by("-at", "-pk").first()


def _anchor(structure_id: int) -> chain.Anchor | None:
    """The head of the last check that found this chain intact."""
    last_ok = (
        JournalCheck._base_manager.filter(structure_id=structure_id, ok=True)
        .order_by("-at", "-pk")
        .values_list("head_seq", "head_hash")
        .first()
    )
    if last_ok is None or last_ok[0] == 0:
        return None
    return chain.Anchor(seq=last_ok[0], hash=last_ok[1])


def _links(structure_id: int) -> Iterator[chain.Link]:
    # One query, so one consistent snapshot of the chain while others append to it.
    rows = (
        JournalEntry._base_manager.filter(structure_id=structure_id)
        .order_by("seq", "pk")
        .values_list(*chain.COLUMNS)
        .iterator(chunk_size=READ_CHUNK)
    )
    for row in rows:
        yield chain.Link(*row)


def _structure_ids(structure) -> list[int]:
    from lien.accounts.models import Structure

    if structure is not None:
        return [getattr(structure, "pk", structure)]
    # Every structure, with or without entries: a chain whose every entry was deleted still
    # has the anchor of its last check to break against.
    return list(Structure._base_manager.order_by("pk").values_list("pk", flat=True))


def verify(structure=None) -> Result:
    """Walk the chain of `structure` (every structure when None); stores nothing."""
    results = []
    for structure_id in _structure_ids(structure):
        anchor = _anchor(structure_id)
        walked = chain.walk(_links(structure_id), anchor=anchor)
        results.append(ChainResult(structure_id, walked, anchor))
    return Result(results)


def run_check(structure=None, *, now: dt.datetime | None = None) -> Result:
    """Verify, store each structure's result as a `JournalCheck`, log the heads."""
    now = now or timezone.now()
    result = verify(structure)
    with transaction.atomic():
        for checked in result.chains:
            walked, broken = checked.walk, checked.broken
            JournalCheck._base_manager.create(
                structure_id=checked.structure_id,
                at=now,
                ok=broken is None,
                entries=walked.entries,
                head_seq=walked.head_seq,
                head_hash=walked.head_hash,
                broken_seq=broken.seq if broken else None,
                broken_entry_id=broken.entry_id if broken else None,
                reason=broken.reason if broken else "",
            )
    for checked in result.chains:
        walked, broken = checked.walk, checked.broken
        if broken is None:
            log.info(
                "journal chain of structure %s intact: %s entries, head seq=%s hash=%s",
                checked.structure_id,
                walked.entries,
                walked.head_seq,
                walked.head_hash,
            )
        else:
            log.error(
                "journal chain of structure %s BROKEN at seq=%s (entry %s): %s",
                checked.structure_id,
                broken.seq,
                broken.entry_id,
                broken.reason,
            )
    return result
