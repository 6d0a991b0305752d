"""The registry of journal actions: every name the code journals is registered with a label.

The names are found statically (ast): every call to `record`, `record_listing`,
`record_search`, and to any helper that passes its own `action` parameter on to one of them
(such as appointments/services._journal), anywhere in lien/.
"""

import ast
import pathlib

import pytest

from lien import journal
from lien.journal import actions
from lien.journal.models import JournalEntry

LIEN = pathlib.Path(__file__).resolve().parent.parent / "lien"
ENTRY_POINTS = frozenset({"record", "record_listing", "record_search"})


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _action_argument(node: ast.Call, position: int | None) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg == "action":
            return keyword.value
    if position is not None and position < len(node.args):
        return node.args[position]
    return None


def _wrappers(tree: ast.Module) -> dict[str, int | None]:
    """Functions that take an `action` parameter and hand it to a journal call: name →
    the parameter's position (None when it is keyword-only)."""
    found: dict[str, int | None] = {}
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        positional = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
        keyword_only = [a.arg for a in fn.args.kwonlyargs]
        if "action" not in positional + keyword_only:
            continue
        forwards = any(
            isinstance(call, ast.Call)
            and _called(call) in ENTRY_POINTS
            and isinstance(_action_argument(call, None), ast.Name)
            and _action_argument(call, None).id == "action"
            for call in ast.walk(fn)
        )
        if forwards:
            found[fn.name] = positional.index("action") if "action" in positional else None
    return found


def journalled_names(root: pathlib.Path = LIEN) -> tuple[dict[str, list[str]], list[str]]:
    """(action name → where it is journalled, calls whose action is not a literal)."""
    trees = {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(root.rglob("*.py"))
        if "migrations" not in path.parts
    }
    callables: dict[str, int | None] = dict.fromkeys(ENTRY_POINTS)
    for tree in trees.values():
        callables.update(_wrappers(tree))
    names: dict[str, list[str]] = {}
    unknown: list[str] = []
    for path, tree in trees.items():
        forwarders = {
            (fn.lineno, fn.end_lineno)
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef) and fn.name in callables
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called(node) not in callables:
                continue
            value = _action_argument(node, callables[_called(node)])
            where = f"{path.relative_to(root.parent)}:{node.lineno}"
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                names.setdefault(value.value, []).append(where)
            elif (
                isinstance(value, ast.Name)
                and value.id == "action"
                and any(start <= node.lineno <= end for start, end in forwarders)
            ):
                continue  # a wrapper forwarding its parameter: its callers are checked
            elif value is not None:
                unknown.append(f"{where}: action={ast.unparse(value)}")
    return names, unknown


def test_the_scan_finds_the_journal_calls():
    names, _unknown = journalled_names()
    # Direct calls, a listing, a search, and a helper of appointments/services.py.
    for expected in (
        "beneficiary.viewed",
        "activity.listed",
        "beneficiary.searched",
        "appointment.booked",
    ):
        assert expected in names, expected
    assert len(names) >= 29


def test_every_journalled_action_is_registered():
    names, unknown = journalled_names()
    missing = {name: where for name, where in names.items() if not actions.is_registered(name)}
    assert not missing, f"register these actions in lien/journal/actions.py: {missing}"
    assert not unknown, f"journal calls must name their action literally: {unknown}"


def test_the_scan_catches_an_unregistered_action(tmp_path):
    module = tmp_path / "lien" / "thing" / "services.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from lien import journal\n"
        "def _log(thing, action, actor):\n"
        "    journal.record(structure=thing.structure, action=action, actor=actor)\n"
        "def thing_frobbed(thing, actor):\n"
        "    _log(thing, 'thing.frobbed', actor)\n"
        "def thing_listed(request, page):\n"
        "    journal.record_listing(request, action='thing.listed', page=page, filters={})\n"
        "def thing_guessed(thing, verb):\n"
        "    journal.record(structure=thing.structure, action=f'thing.{verb}')\n"
    )
    names, unknown = journalled_names(tmp_path / "lien")
    assert set(names) == {"thing.frobbed", "thing.listed"}
    assert not any(actions.is_registered(name) for name in names)
    assert len(unknown) == 1 and "thing.{verb}" in unknown[0]


def test_every_registered_action_has_a_french_label_and_a_known_family():
    assert len(actions.ACTIONS) == len(actions._ALL), "an action is registered twice"
    for name, action in actions.ACTIONS.items():
        assert name.count(".") == 1 and name == name.lower(), name
        assert action.kind in (actions.READ, actions.CHANGE), name
        label = str(action.label).strip()
        assert label and label != name and "." not in label, f"{name} needs a French label"
        assert action.family in actions.FAMILIES, f"add the family of {name} to FAMILIES"


def test_reads_and_changes():
    assert actions.ACTIONS["beneficiary.viewed"].is_read
    assert actions.ACTIONS["beneficiary.exported"].is_read
    assert not actions.ACTIONS["appointment.booked"].is_read
    assert "appointment.booked" in actions.names(family="appointment", kind=actions.CHANGE)
    assert "appointment.viewed" not in actions.names(kind=actions.CHANGE)


def test_label_is_french_and_an_unknown_name_is_shown_as_it_is():
    assert actions.label("appointment.booked") == "Rendez-vous pris"
    assert actions.label("beneficiary.viewed") == "Fiche consultée"
    assert actions.label("legacy.thing") == "legacy.thing"


@pytest.mark.django_db
def test_record_refuses_an_unregistered_action(personas):
    with pytest.raises(ValueError, match="unregistered journal action"):
        journal.record(structure=personas.a, action="beneficiary.peeked", actor=personas.advisor)
    assert not JournalEntry.objects.filter(action="beneficiary.peeked").exists()
    entry = journal.record(structure=personas.a, action="motif.saved", actor=personas.advisor)
    assert entry.action == "motif.saved"


@pytest.mark.django_db
def test_the_template_filter_shows_the_label():
    from django.template import Context, Template

    rendered = Template("{{ a|action_label }}").render(Context({"a": "appointment.cancelled"}))
    assert rendered == "Rendez-vous annulé"


def test_every_actor_label_the_code_writes_has_words():
    """An entry written without a staff member says who acted (`actor_label`); each value the
    code writes is shown in French on staff pages and in the admin."""
    import re
    from pathlib import Path

    from lien.journal import actions as registry

    root = Path(__file__).resolve().parent.parent / "lien"
    pattern = re.compile(
        r'(?:actor_label(?:: str)?\s*=\s*|^(?:ADMIN|RESIDENT_LINK|WORKER)\s*=\s*)"([a-z-]+)"', re.M
    )
    written = {
        value
        for path in root.rglob("*.py")
        if "migrations" not in path.parts
        for value in pattern.findall(path.read_text(encoding="utf-8"))
    }
    assert {"resident-link", "admin", "worker"} <= written, written
    assert sorted(written - set(registry.ACTORS)) == []
    assert registry.actor_label("resident-link") == "la personne, par son lien privé"
    assert registry.actor_label("unknown-label") == "unknown-label"
