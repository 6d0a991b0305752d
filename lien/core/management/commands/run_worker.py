from django.core.management.base import BaseCommand

from lien.core.worker import run_due_jobs, run_forever


class Command(BaseCommand):
    help = "Run Lien's background worker (periodic jobs from the database)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run due jobs once and exit.")
        parser.add_argument("--poll", type=float, default=30.0, help="Seconds between passes.")

    def handle(self, *args, once: bool = False, poll: float = 30.0, **options):
        if once:
            ran = run_due_jobs()
            self.stdout.write("Tâches exécutées : " + (", ".join(ran) or "aucune"))
            return
        run_forever(poll)
