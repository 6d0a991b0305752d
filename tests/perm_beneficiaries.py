"""Permission matrix rows for the beneficiaries URLs (merged into tests/test_permissions.py).

MATRIX maps a URL name to the status each persona gets (coordinator, advisor, reception,
outsider, anonymous); url_kwargs(p, which) builds its kwargs for structure A ("a") or for
B's objects ("b"): staff URLs always name A's slug, objects vary.
"""

MATRIX: dict[str, dict[str, int]] = {}


def url_kwargs(p, which: str) -> dict[str, dict]:
    return {}
