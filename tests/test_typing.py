"""mypy, as CI runs it (`make typecheck`), catches a wrong type passed to a service.

The snippet is type-checked with the project's configuration (pyproject.toml, django-stubs
plugin); a correct call beside the wrong ones shows that mypy reports the mistakes, not
everything.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SNIPPET = """\
from lien.accounts.models import Membership, User
from lien.places.models import Place
from lien.places.services import place_save


def right(membership: Membership, place: Place, user: User) -> None:
    place_save(structure=membership.structure, place=place, actor=user)


def slug_for_structure(place: Place, user: User) -> None:
    place_save(structure="villebrie", place=place, actor=user)


def membership_for_structure(membership: Membership, place: Place, user: User) -> None:
    place_save(structure=membership, place=place, actor=user)
"""


@pytest.mark.slow
def test_mypy_reports_a_wrong_type_passed_to_a_service(tmp_path):
    snippet = tmp_path / "snippet.py"
    snippet.write_text(SNIPPET)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            "--hide-error-context",
            str(snippet),
        ],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true", "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(str(snippet)) and ": error:" in line
    ]
    by_line = {int(re.search(r":(\d+): error:", line)[1]): line for line in errors}
    assert sorted(by_line) == [11, 15], result.stdout + result.stderr
    assert 'Argument "structure" to "place_save" has incompatible type "str"' in by_line[11]
    assert 'incompatible type "Membership"; expected "Structure"' in by_line[15]
    assert result.returncode == 1
