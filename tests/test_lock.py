"""The lock files agree with pyproject.toml: `make install` installs what pyproject.toml pins.

`make lock` writes requirements-dev.lock and requirements.lock; a dependency added, removed or
moved in pyproject.toml without running it fails here, before an install silently differs.
"""

import re
import tomllib
from pathlib import Path

import pytest

# Left out of CI's date matrix: the lock files, not the date.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
FROM_PYPROJECT = "lien (pyproject.toml)"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_pins(*, dev: bool) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    if dev:
        specs += project["optional-dependencies"]["dev"]
    pins = {}
    for spec in specs:
        match = re.fullmatch(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^\s;]+)", spec.strip())
        assert match, f"{spec!r} in pyproject.toml is not pinned with =="
        pins[normalise(match[1])] = match[3]
    return pins


def read_lock(name: str) -> dict[str, dict]:
    """Each package of a lock file written by `uv pip compile`: version, hashes, what needs it."""
    entries: dict[str, dict] = {}
    current = None
    for line in (ROOT / name).read_text().splitlines():
        requirement = re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line)
        if requirement:
            current = {"version": requirement[2], "hashes": [], "via": []}
            entries[normalise(requirement[1])] = current
        elif current is not None and line.strip().startswith("--hash=sha256:"):
            current["hashes"].append(line.strip())
        elif current is not None and line.startswith("    #"):
            via = line.strip().lstrip("#").strip()
            current["via"].append(via.removeprefix("via").strip())
    return entries


@pytest.mark.parametrize(
    ("lock_name", "dev"), [("requirements.lock", False), ("requirements-dev.lock", True)]
)
def test_lock_pins_what_pyproject_pins(lock_name, dev):
    lock = read_lock(lock_name)
    wanted = pyproject_pins(dev=dev)
    locked_direct = {name: e["version"] for name, e in lock.items() if FROM_PYPROJECT in e["via"]}
    assert locked_direct == wanted, f"{lock_name} disagrees with pyproject.toml: run `make lock`"


@pytest.mark.parametrize("lock_name", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_has_hashes(lock_name):
    lock = read_lock(lock_name)
    assert len(lock) > 20
    unhashed = [name for name, entry in lock.items() if not entry["hashes"]]
    assert unhashed == []


def test_runtime_lock_holds_the_dev_lock_versions():
    dev = read_lock("requirements-dev.lock")
    runtime = read_lock("requirements.lock")
    differ = {
        name: (entry["version"], dev.get(name, {}).get("version"))
        for name, entry in runtime.items()
        if dev.get(name, {}).get("version") != entry["version"]
    }
    assert differ == {}
