"""Periodic jobs of the journal, run by the worker (`make worker`)."""

import datetime as dt

from lien.core.worker import periodic


@periodic("journal.verify", every=dt.timedelta(days=1))
def verify() -> None:
    """Verify every structure's hash chain and store the result (the coordinator's journal
    page shows it); a break also fails the job, so it shows in the task's last error."""
    from lien.journal import integrity

    result = integrity.run_check()
    if not result.ok:
        where = ", ".join(
            f"structure {c.structure_id} at seq {c.broken.seq} ({c.broken.reason})"
            for c in result.broken
            if c.broken is not None
        )
        raise integrity.JournalBroken(f"journal chain broken: {where}")
