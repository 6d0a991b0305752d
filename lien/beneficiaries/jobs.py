"""Periodic jobs of the beneficiaries app, run by the worker (`make worker`)."""

import datetime as dt

from lien.core.worker import periodic


@periodic("beneficiaries.retention", every=dt.timedelta(days=1))
def retention() -> None:
    """Anonymise the people of every structure inactive for its retention period."""
    from lien.beneficiaries import gdpr

    gdpr.apply_retention()


@periodic("beneficiaries.imports", every=dt.timedelta(seconds=5))
def imports() -> None:
    """Write the beneficiary files that were uploaded and checked."""
    from lien.beneficiaries import importer

    importer.run_pending()
