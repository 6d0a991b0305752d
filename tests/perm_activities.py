"""Permission matrix rows for the activities URLs (merged into tests/test_permissions.py).

MATRIX maps a URL name to the status each persona gets (coordinator, advisor, reception,
outsider, anonymous); url_kwargs(p, which) builds its kwargs for structure A ("a") or for
B's objects ("b"): staff URLs always name A's slug, objects vary.
"""

# The list: advisors and coordinators (without names); reception has no business there.
LIST = {"coordinator": 200, "advisor": 200, "reception": 403, "outsider": 404, "anonymous": 302}
# Writing and reading one report (names, notes): advisors only.
ADVISOR_ONLY = {
    "coordinator": 403,
    "advisor": 200,
    "reception": 403,
    "outsider": 404,
    "anonymous": 302,
}

MATRIX: dict[str, dict[str, int]] = {
    "activities:list": LIST,
    "activities:create": ADVISOR_ONLY,
    "activities:people": ADVISOR_ONLY,  # the report form's person search (htmx partial)
    "activities:detail": ADVISOR_ONLY,
    "activities:edit": ADVISOR_ONLY,
    "activities:duplicate": ADVISOR_ONLY,
    "activities:delete": ADVISOR_ONLY,
}


def url_kwargs(p, which: str) -> dict[str, dict]:
    structure = p.a if which == "a" else p.b
    activity = p.activity_a if which == "a" else p.activity_b
    slug = {"structure_slug": p.a.slug}
    return {
        "activities:list": {"structure_slug": structure.slug},
        "activities:create": {"structure_slug": structure.slug},
        "activities:people": {"structure_slug": structure.slug},
        "activities:detail": {**slug, "pk": activity.pk},
        "activities:edit": {**slug, "pk": activity.pk},
        "activities:duplicate": {**slug, "pk": activity.pk},
        "activities:delete": {**slug, "pk": activity.pk},
    }
