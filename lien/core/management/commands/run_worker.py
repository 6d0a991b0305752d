"""`manage.py run_worker`: the background worker (see lien/core/worker.py).

SIGTERM or SIGINT stops it gracefully: the job step in progress (for message delivery, the
message being sent) is finished and recorded, nothing more is started, and it exits with 0.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from lien.core.scopes import scopes_disabled
from lien.core.worker import run_due_jobs, run_forever, stop_on_signals, stop_requested


class Command(BaseCommand):
    help = "Run Lien's background worker (periodic jobs from the database)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run due jobs once and exit.")
        parser.add_argument("--poll", type=float, default=30.0, help="Seconds between passes.")

    def handle(self, *args: Any, once: bool = False, poll: float = 30.0, **options: Any) -> None:
        # A command works across structures: it says so (core/scopes.py).
        with scopes_disabled(), stop_on_signals():
            if once:
                ran = run_due_jobs()
                self.stdout.write("Tâches exécutées : " + (", ".join(ran) or "aucune"))
                if stop_requested():
                    self.stdout.write("Arrêt demandé : les autres tâches attendront.")
                return
            run_forever(poll)
