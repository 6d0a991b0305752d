"""Lien benchmarks: `make bench` (SQLite) or `DATABASE_URL=postgres://… make bench`.

Each benchmark prints medians over several runs beside a baseline measured in the same run,
with the machine facts, and the results replace the matching section of docs/PERFORMANCE.md.
The database is a throw-away one (a temporary SQLite file, or a `<name>_bench` PostgreSQL
database created and dropped here).
"""

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lien.settings")

_tmp = tempfile.TemporaryDirectory()
_url = os.environ.get("DATABASE_URL", "")
if _url.startswith("postgres"):
    base, _, name = _url.rpartition("/")
    os.environ["DATABASE_URL"] = f"{base}/{name or 'lien'}_bench"
    _ADMIN_URL = f"{base}/postgres"
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp.name}/bench.sqlite3"
    _ADMIN_URL = ""


def _recreate_postgres_db() -> None:
    import psycopg

    name = os.environ["DATABASE_URL"].rpartition("/")[2]
    with psycopg.connect(
        _ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


if _ADMIN_URL:
    _recreate_postgres_db()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))


def timed(func, runs: int = RUNS) -> list[float]:
    func()  # warm-up
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000)
    return out


def fmt(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(samples):8.1f} ms   p95 {p95:8.1f} ms"


def machine() -> str:
    vendor = connection.vendor
    version = ""
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"{vendor} {version}, {RUNS} runs after a warm-up"
    )


def main() -> None:
    from django_scopes import scopes_disabled

    from bench import (
        bench_activities,
        bench_http,
        bench_journal,
        bench_opendata,
        bench_public,
        bench_slots,
    )

    call_command("migrate", verbosity=0)
    facts = machine()
    print(f"Machine: {facts}")
    sections = []
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    modules = (
        bench_opendata,
        bench_public,
        bench_slots,
        bench_http,
        bench_activities,
        bench_journal,
    )
    for module in modules:
        if only and module.__name__.rpartition("_")[2] not in only:
            continue
        # Set-up and direct calls read across structures, as tests do; requests made by a
        # benchmark still start from an empty scope (ScopeMiddleware).
        with scopes_disabled():
            title, lines = module.run(timed, fmt)
        print(f"\n## {title}")
        print("\n".join(lines))
        sections.append((title, lines))
    write_results(facts, sections)


def write_results(facts: str, sections) -> None:
    path = ROOT / "docs" / "PERFORMANCE.md"
    vendor = connection.vendor
    header = (
        "# Performance\n\nFigures written by `make bench` (bench/run.py). "
        "Each section keeps the latest run per database.\n"
    )
    text = path.read_text() if path.exists() else header
    for title, lines in sections:
        key = f"## {title} ({vendor})"
        stamp = time.strftime("%Y-%m-%d")
        body = f"{key}\n\n_{stamp} — {facts}_\n\n```\n" + "\n".join(lines) + "\n```\n"
        if key in text:
            start = text.index(key)
            end = text.find("\n## ", start + len(key))
            text = text[:start] + body + (text[end + 1 :] if end != -1 else "")
        else:
            text = text.rstrip() + "\n\n" + body
    path.write_text(text)


if __name__ == "__main__":
    main()
