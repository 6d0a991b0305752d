"""Permission matrix rows for the beneficiaries URLs (merged into tests/test_permissions.py).

MATRIX maps a URL name to the status each persona gets (coordinator, advisor, reception,
outsider, anonymous); url_kwargs(p, which) builds its kwargs for structure A ("a") or for
B's objects ("b"): staff URLs always name A's slug, objects vary.

Advisors see and edit people; reception opens a person's contact (to book) but never edits;
coordinators get aggregates on the list page and nothing about one person.
"""

ALL_STAFF = {
    "coordinator": 200,
    "advisor": 200,
    "reception": 200,
    "outsider": 404,
    "anonymous": 302,
}
READERS = {"coordinator": 403, "advisor": 200, "reception": 200, "outsider": 404, "anonymous": 302}
ADVISOR_ONLY = {
    "coordinator": 403,
    "advisor": 200,
    "reception": 403,
    "outsider": 404,
    "anonymous": 302,
}
POST_ONLY_ADVISOR = {
    "coordinator": 403,
    "advisor": 405,
    "reception": 403,
    "outsider": 404,
    "anonymous": 302,
}

MATRIX: dict[str, dict[str, int]] = {
    "beneficiaries:list": ALL_STAFF,
    "beneficiaries:notice": ALL_STAFF,
    "beneficiaries:create": ADVISOR_ONLY,
    "beneficiaries:detail": READERS,
    "beneficiaries:edit": ADVISOR_ONLY,
    "beneficiaries:merge": ADVISOR_ONLY,
    "beneficiaries:notice_given": POST_ONLY_ADVISOR,
    # The person picker of booking on behalf and walk-ins (htmx partial): who may search.
    "beneficiaries:pick": READERS,
}


def url_kwargs(p, which: str) -> dict[str, dict]:
    slug = {"structure_slug": p.a.slug}
    s = p.a if which == "a" else p.b
    person = p.beneficiary_a if which == "a" else p.beneficiary_b
    return {
        "beneficiaries:list": {"structure_slug": s.slug},
        "beneficiaries:notice": {"structure_slug": s.slug},
        "beneficiaries:create": {"structure_slug": s.slug},
        "beneficiaries:detail": {**slug, "pk": person.pk},
        "beneficiaries:edit": {**slug, "pk": person.pk},
        "beneficiaries:merge": {**slug, "pk": person.pk},
        "beneficiaries:notice_given": {**slug, "pk": person.pk},
        "beneficiaries:pick": {"structure_slug": s.slug},
    }
