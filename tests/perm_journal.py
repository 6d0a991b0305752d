"""Permission matrix rows for the journal page (merged into tests/test_permissions.py)."""

# Coordinators run the service: they read the journal (no person's name on it).
COORD_ONLY = {
    "coordinator": 200,
    "advisor": 403,
    "reception": 403,
    "outsider": 404,
    "anonymous": 302,
}

MATRIX: dict[str, dict[str, int]] = {"journal:list": COORD_ONLY}


def url_kwargs(p, which: str) -> dict[str, dict]:
    s = p.a if which == "a" else p.b
    return {"journal:list": {"structure_slug": s.slug}}
