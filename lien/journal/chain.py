"""The journal's hash chains, as plain values: how an entry is hashed, where a chain breaks.

Each structure has its own chain (writers of different structures never wait for each
other). Its entries are numbered 1, 2, 3… (`seq`); each stores the hash of the one before
(`prev_hash`, GENESIS for the first) and its own `hash`: the SHA-256 of a canonical
serialisation of everything it says except the shreddable personal values (`personal`,
`shredded`), so erasing a person leaves every chain intact.

The hashed fields (version 1): structure, seq, at (UTC, to the microsecond), actor,
actor_label, action, object type and id, data, subject, client address, prev_hash, in a JSON
array with sorted keys and no spaces. `data` is hashed as the database gives it back:
PostgreSQL's jsonb keeps numbers as decimals, so an integral float (2.0, 1e20) is hashed as
the integer it equals. Nothing here touches the database; `lien.journal.record()` and
`lien.journal.integrity` do.
"""

import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

VERSION = "lien-journal-1"
GENESIS = "0" * 64

# The columns a verification reads, in the order `Link` takes them.
COLUMNS = (
    "pk",
    "structure_id",
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "data",
    "subject_id",
    "client_ip",
    "prev_hash",
    "hash",
)

# Why a chain breaks (JournalCheck.Reason holds their French labels).
HASH = "hash"  # the entry's content no longer matches its hash: it was edited
PREV = "prev"  # its prev_hash is not the previous entry's hash: replaced or inserted
GAP = "gap"  # entries are missing just before it: deleted
SEQ = "seq"  # its number repeats or goes backwards
TAIL = "tail"  # the last entries seen by the previous check are gone
ANCHOR = "anchor"  # the previous check's last entry has another hash now: chain rewritten


def _plain(value: Any) -> Any:
    """`value` as the database returns it: integral floats as integers, keys as strings."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("journal data cannot hold NaN or infinity")
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def stored_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """`data` as it will be stored and read back (JSON round trip): what the hash covers."""
    return json.loads(json.dumps(data or {}, allow_nan=False))


def _address(value: str | None) -> str | None:
    # PostgreSQL's inet and Django may spell an IPv6 address differently: hash the address.
    return str(ipaddress.ip_address(value)) if value else None


def _instant(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("a journal instant must be aware")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(
    *,
    structure_id: int,
    seq: int,
    at: dt.datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: int | None,
    data: Mapping[str, Any] | None,
    subject_id: int | None,
    client_ip: str | None,
    prev_hash: str,
) -> bytes:
    """The bytes an entry's hash is computed over."""
    fields = [
        VERSION,
        int(structure_id),
        int(seq),
        _instant(at),
        None if actor_id is None else int(actor_id),
        actor_label or "",
        action,
        object_type or "",
        None if object_id is None else int(object_id),
        _plain(data or {}),
        None if subject_id is None else int(subject_id),
        _address(client_ip),
        prev_hash,
    ]
    text = json.dumps(
        fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return text.encode()


def entry_hash(**fields: Any) -> str:
    """The SHA-256 (hex) of an entry: `canonical()`'s keyword arguments."""
    return hashlib.sha256(canonical(**fields)).hexdigest()


@dataclass(frozen=True)
class Link:
    """One entry as read for a verification (the columns of COLUMNS)."""

    pk: int
    structure_id: int
    seq: int
    at: dt.datetime
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: int | None
    data: Any
    subject_id: int | None
    client_ip: str | None
    prev_hash: str
    hash: str

    def computed_hash(self) -> str:
        return entry_hash(
            structure_id=self.structure_id,
            seq=self.seq,
            at=self.at,
            actor_id=self.actor_id,
            actor_label=self.actor_label,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            data=self.data,
            subject_id=self.subject_id,
            client_ip=self.client_ip,
            prev_hash=self.prev_hash,
        )


@dataclass(frozen=True)
class Anchor:
    """The last entry a previous verification saw intact."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Break:
    """The first broken link: the number where the chain breaks, the entry found there
    (None when it is missing) and why (HASH, PREV, GAP, SEQ, TAIL, ANCHOR)."""

    seq: int
    entry_id: int | None
    reason: str


@dataclass(frozen=True)
class Walk:
    """What walking one chain found: how many entries were checked, the last one (its
    number and hash; 0 and "" for an empty chain) and the first broken link, if any."""

    entries: int
    head_seq: int
    head_hash: str
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def walk(links: Iterable[Link], *, anchor: Anchor | None = None) -> Walk:
    """Check one structure's chain, `links` in the order of their numbers; stop at the
    first broken link.

    `anchor` is the head a previous verification found intact: the entry with its number
    must still have its hash (else the chain was rewritten from some point on), and the
    chain must still reach it (else its tail was deleted).
    """
    expected_seq, prev_hash, entries = 1, GENESIS, 0
    head_seq, head_hash = 0, ""
    for link in links:
        broken = None
        if link.seq > expected_seq:
            broken = Break(link.seq, link.pk, GAP)
        elif link.seq < expected_seq:
            broken = Break(link.seq, link.pk, SEQ)
        elif link.prev_hash != prev_hash:
            broken = Break(link.seq, link.pk, PREV)
        elif link.hash != link.computed_hash():
            broken = Break(link.seq, link.pk, HASH)
        elif anchor is not None and link.seq == anchor.seq and link.hash != anchor.hash:
            broken = Break(link.seq, link.pk, ANCHOR)
        if broken is not None:
            return Walk(entries, head_seq, head_hash, broken)
        entries += 1
        head_seq, head_hash = link.seq, link.hash
        expected_seq, prev_hash = link.seq + 1, link.hash
    if anchor is not None and head_seq < anchor.seq:
        return Walk(entries, head_seq, head_hash, Break(head_seq + 1, None, TAIL))
    return Walk(entries, head_seq, head_hash, None)
