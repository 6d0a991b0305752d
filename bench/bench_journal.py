"""Journal appends: `journal.record` (registry check, per-structure lock, previous hash read,
SHA-256 chain, insert) against a raw SQL INSERT of the same number of rows into a table of
the same shape, in the same run; and a scoped page read against the same read unscoped."""

from statistics import median

from django.db import connection, transaction

from bench import fixtures
from lien import journal
from lien.beneficiaries.models import Beneficiary
from lien.core.scopes import scopes_disabled, structure_scope
from lien.journal import integrity

APPENDS = 200
PEOPLE = 2000


def run(timed, fmt) -> tuple[str, list[str]]:
    structure = fixtures.town("bench-journal", "21779988100024")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_journal")
        cursor.execute(
            "CREATE TABLE bench_raw_journal (id bigserial primary key, structure_id bigint, "
            "action varchar(80), object_type varchar(40), object_id bigint, data text, "
            "at timestamp with time zone)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE bench_raw_journal (id integer primary key, structure_id bigint, "
            "action varchar(80), object_type varchar(40), object_id bigint, data text, "
            "at datetime)"
        )

    def appends():
        for n in range(APPENDS):
            with transaction.atomic():
                journal.record(
                    structure=structure,
                    action="place.updated",
                    data={"fields": ["name"], "n": n},
                )

    def raw():
        with connection.cursor() as cursor:
            for n in range(APPENDS):
                with transaction.atomic():
                    cursor.execute(
                        "INSERT INTO bench_raw_journal (structure_id, action, object_type, "
                        "object_id, data, at) VALUES (%s, %s, %s, %s, %s, CURRENT_TIMESTAMP)",
                        [structure.pk, "place.updated", "place", n, '{"fields": ["name"]}'],
                    )

    Beneficiary.objects.bulk_create(
        Beneficiary(structure=structure, first_name=f"P{i}", last_name="Banc", phone="")
        for i in range(PEOPLE)
    )

    def scoped_read():
        with structure_scope(structure):
            list(Beneficiary.objects.order_by("pk")[:50])

    def unscoped_read():
        with scopes_disabled():
            list(Beneficiary.objects.filter(structure=structure).order_by("pk")[:50])

    chained = timed(appends)
    baseline = timed(raw)
    scoped = timed(scoped_read)
    plain = timed(unscoped_read)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw_journal")
    verified = integrity.verify(structure=structure)
    return f"Journal appends ({APPENDS} entries, one transaction each) and scoped reads", [
        f"journal.record x{APPENDS}, hash-chained   {fmt(chained)}",
        f"raw INSERT x{APPENDS} baseline          {fmt(baseline)}",
        f"ratio chained / raw                {median(chained) / median(baseline):.1f}x",
        f"chain verifies after the run       {'yes' if verified.ok else 'NO'}"
        f" ({verified.entries} entries)",
        f"50 people, scoped manager          {fmt(scoped)}",
        f"50 people, explicit filter (base)  {fmt(plain)}",
        f"ratio scoped / base                {median(scoped) / median(plain):.2f}x",
    ]
