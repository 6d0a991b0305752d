"""Permission matrix rows for the gdpr URLs (merged into tests/test_permissions.py).

MATRIX maps a URL name to the status each persona gets (coordinator, advisor, reception,
outsider, anonymous); url_kwargs(p, which) builds its kwargs for structure A ("a") or for
B's objects ("b"): staff URLs always name A's slug, objects vary.
"""

# A person's data: advisors only (coordinators never see names, reception only books).
ADVISOR_ONLY = {
    "coordinator": 403,
    "advisor": 200,
    "reception": 403,
    "outsider": 404,
    "anonymous": 302,
}
# Counts for coordinators, and the names of who is due for advisors.
CARE = {"coordinator": 200, "advisor": 200, "reception": 403, "outsider": 404, "anonymous": 302}

MATRIX: dict[str, dict[str, int]] = {
    "gdpr:export": ADVISOR_ONLY,
    "gdpr:export_json": ADVISOR_ONLY,
    "gdpr:erase": ADVISOR_ONLY,
    "gdpr:import": ADVISOR_ONLY,
    "gdpr:import_status": ADVISOR_ONLY,
    "gdpr:retention": CARE,
}


def _import(structure):
    from lien.beneficiaries.models import BeneficiaryImport

    job, _created = BeneficiaryImport.objects.get_or_create(
        structure=structure,
        filename="x.csv",
        defaults={"state": "done", "total": 1, "done": 1, "content": b""},
    )
    return job


def url_kwargs(p, which: str) -> dict[str, dict]:
    s = p.a if which == "a" else p.b
    person = p.beneficiary_a if which == "a" else p.beneficiary_b
    slug = {"structure_slug": p.a.slug}  # staff URLs always name A; objects vary
    return {
        "gdpr:export": {**slug, "pk": person.pk},
        "gdpr:export_json": {**slug, "pk": person.pk},
        "gdpr:erase": {**slug, "pk": person.pk},
        "gdpr:import": {"structure_slug": s.slug},
        "gdpr:import_status": {**slug, "pk": _import(s).pk},
        "gdpr:retention": {"structure_slug": s.slug},
    }
