"""No role is compared outside lien/accounts/permissions.py.

What a role may do is written once, as named permissions (`can(membership, "place.edit")`,
`@staff_view("place.edit")`, `|can:"place.edit"`, `roles_with("presence.hold")` in queries).
This test reads every Python module under lien/ (with `ast`) and every template, and fails on:
- `Role.<MEMBER>` (`Role.ADVISOR`…); `Role.choices`, the field's vocabulary, is allowed;
- reading `<anything>.role`, except as a value in a dict literal: data recorded, e.g. in a
  journal entry (`data={"role": membership.role}`);
- a comparison, `match` or subscript on `.role`, or comparing a name `role` to a role's value
  (`role == "advisor"`; a PostgreSQL role in journal/app_role.py is not a Lien role);
- a query lookup on a role (`role=`, `role__in=`, `memberships__role__in=` in `filter`,
  `exclude`, `get`, `Q`…) whose value is not a `roles_with(...)` call;
- in a template, `.role` anywhere (display is `get_role_display`) or `role` in an `{% if %}`.
Exempt: permissions.py (the table), migrations (history), the demo data command (it creates
memberships with a role: data, not a check), and the `Meta` classes of accounts/models.py
(the database constraint listing the valid roles). Creating a membership with `role=` is data
and allowed anywhere.
"""

import ast
import re
from pathlib import Path

import pytest

from lien.accounts import permissions as perms
from lien.accounts.models import Role

# Left out of CI's date matrix: a scan of the source code.
pytestmark = pytest.mark.slow

LIEN = Path(__file__).resolve().parent.parent / "lien"
EXEMPT_FILES = {
    "accounts/permissions.py",
    "core/management/commands/load_demo.py",
}
# Files whose `class Meta:` bodies may name roles (database constraints).
META_MAY_NAME_ROLES = {"accounts/models.py"}
ROLE_ATTRIBUTES_ALLOWED = {"choices"}
QUERY_CALLS = {"filter", "exclude", "get", "get_or_create", "update_or_create", "Q", "When"}
ROLE_LOOKUP = re.compile(r"(^|__)role(__[a-z]+)?$")
ROLE_VALUES = {value for value, _label in Role.choices}
HOW = "ask lien/accounts/permissions.py: can(membership, name), @staff_view(name), roles_with(name)"


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _inside_meta(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.ClassDef) and node.name == "Meta":
            return True
    return False


def _is_role_read(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "role"
        and not isinstance(node.ctx, ast.Store | ast.Del)
    )


def _mentions_role(node: ast.AST) -> bool:
    return any(_is_role_read(n) for n in ast.walk(node))


def _compares_a_role(node: ast.Compare) -> bool:
    parts = (node.left, *node.comparators)
    if any(_mentions_role(part) for part in parts):
        return True
    named = any(isinstance(part, ast.Name) and part.id == "role" for part in parts)
    values = {n.value for part in parts for n in ast.walk(part) if isinstance(n, ast.Constant)}
    return named and bool(values & ROLE_VALUES)


def _recorded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """`{"role": membership.role}`: the role is recorded (journal data), not compared."""
    dictionary = parents.get(node)
    return isinstance(dictionary, ast.Dict) and node in dictionary.values


def _call_name(node: ast.AST) -> str:
    if not isinstance(node, ast.Call):
        return ""
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def python_violations(source: str, relative: str = "snippet.py") -> list[str]:
    """Each role comparison in `source` as "file:line: what" (empty when it follows the rule)."""
    tree = ast.parse(source)
    parents = _parents(tree)
    meta_exempt = relative in META_MAY_NAME_ROLES
    found: list[str] = []

    def flag(node: ast.AST, what: str) -> None:
        if meta_exempt and _inside_meta(node, parents):
            return
        found.append(f"{relative}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner = node.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if owner_name == "Role" and node.attr not in ROLE_ATTRIBUTES_ALLOWED:
                flag(node, f"Role.{node.attr}")
            elif _is_role_read(node) and not _recorded(node, parents):
                flag(node, "reads .role")
        elif isinstance(node, ast.Compare):
            if _compares_a_role(node):
                flag(node, "compares a role")
        elif isinstance(node, ast.Match):
            if _mentions_role(node.subject):
                flag(node, "matches on a role")
        elif isinstance(node, ast.Subscript):
            if _mentions_role(node.slice):
                flag(node, "looks up by role")
        elif isinstance(node, ast.Call) and _call_name(node) in QUERY_CALLS:
            for keyword in node.keywords:
                lookup = keyword.arg or ""
                if ROLE_LOOKUP.search(lookup) and _call_name(keyword.value) != "roles_with":
                    flag(node, f"queries {lookup}= without roles_with()")
    return found


# `.role` anywhere, and `role` inside an {% if %} / {% elif %} (a role compared by name).
TEMPLATE_ROLE_READ = re.compile(r"\.role\b")
TEMPLATE_IF = re.compile(r"{%-?\s*(?:el)?if\b(.*?)-?%}", re.S)
ROLE_WORD = re.compile(r"\brole\b")


def template_violations(text: str, relative: str = "snippet.html") -> list[str]:
    found = []
    for match in TEMPLATE_ROLE_READ.finditer(text):
        found.append(f"{relative}:{text.count(chr(10), 0, match.start()) + 1}: reads .role")
    for match in TEMPLATE_IF.finditer(text):
        if ROLE_WORD.search(match.group(1)):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{relative}:{line}: compares a role in {{% if %}}")
    return found


def _python_files() -> list[Path]:
    return sorted(
        path
        for path in LIEN.rglob("*.py")
        if "migrations" not in path.parts and path.relative_to(LIEN).as_posix() not in EXEMPT_FILES
    )


def _templates() -> list[Path]:
    return sorted(LIEN.rglob("*.html"))


def test_no_role_is_compared_in_python():
    files = _python_files()
    assert len(files) > 50  # the walk really found the code
    found = [
        violation
        for path in files
        for violation in python_violations(path.read_text(), path.relative_to(LIEN).as_posix())
    ]
    assert not found, f"{HOW}:\n" + "\n".join(found)


def test_no_role_is_compared_in_templates():
    templates = _templates()
    assert len(templates) > 50
    found = [
        violation
        for path in templates
        for violation in template_violations(path.read_text(), path.relative_to(LIEN).as_posix())
    ]
    assert not found, f"{HOW}:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "snippet",
    [
        "if request.membership.role == Role.ADVISOR:\n    pass",
        "allowed = m.role in ('advisor', 'reception')",
        "show = membership.role != 'coordinator'",
        "def f(role):\n    return role in ('advisor', 'coordinator')",
        "EDITORS = (Role.COORDINATOR, Role.ADVISOR)",
        "role = membership.role",
        "if role == 'advisor':\n    pass",
        "match membership.role:\n    case 'advisor':\n        pass",
        "columns = {'advisor': 3}[membership.role]",
        "User.objects.filter(memberships__role__in=['advisor', 'coordinator'])",
        "Membership.objects.filter(structure=s, role='advisor')",
        "q = Q(role='reception')",
        "journal.record(action='x', label=membership.role)",
    ],
)
def test_the_rule_catches_a_role_comparison(snippet):
    assert python_violations(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "if can(request.membership, 'place.edit'):\n    pass",
        "User.objects.filter(memberships__role__in=roles_with('presence.hold'))",
        "Membership.objects.filter(role__in=perms.roles_with('account.two_factor'))",
        "Membership.objects.create(user=u, structure=s, role=role)",
        "journal.record(action='beneficiary.viewed', data={'role': membership.role})",
        "def _data(m):\n    return {'user': m.user_id, 'role': m.role}",
        "role = models.CharField(choices=Role.choices, max_length=20)",
        "membership.role = 'advisor'",
        "label = membership.get_role_display()",
        "if role == owner:\n    errors.append('owns the tables')",
    ],
)
def test_the_rule_lets_permissions_and_data_through(snippet):
    assert python_violations(snippet) == [], snippet


def test_a_meta_constraint_may_name_roles_only_in_accounts_models():
    snippet = (
        "class Membership:\n"
        "    class Meta:\n"
        "        constraints = [Q(role__in=['coordinator', 'advisor', 'reception'])]\n"
    )
    assert python_violations(snippet, "accounts/models.py") == []
    assert python_violations(snippet, "places/models.py")


@pytest.mark.parametrize(
    "snippet",
    [
        '{% if request.membership.role != "reception" %}<a>x</a>{% endif %}',
        '{% if role == "advisor" %}x{% endif %}',
        "{% if x %}{% elif role in roles %}y{% endif %}",
        "{{ membership.role }}",
    ],
)
def test_the_template_rule_catches_a_role_comparison(snippet):
    assert template_violations(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        '{% if request.membership|can:"activity.view" %}<a>x</a>{% endif %}',
        "{{ request.membership.get_role_display }}",
        '<nav role="navigation">{% if nav == "places" %}x{% endif %}</nav>',
    ],
)
def test_the_template_rule_lets_permissions_through(snippet):
    assert template_violations(snippet) == [], snippet


# --- Every permission named in the code is in the table, and every entry is used -----------

CALLS_NAMING_A_PERMISSION = {"can", "staff_view", "roles_with", "check"}
TEMPLATE_CAN = re.compile(r"""\|\s*can\s*:\s*["']([^"']+)["']""")


def _named_in_python(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _call_name(node) in CALLS_NAMING_A_PERMISSION:
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names.add(arg.value)
    return names


def _named_everywhere() -> set[str]:
    names = set()
    for path in LIEN.rglob("*.py"):
        if path.name != "permissions.py" and "migrations" not in path.parts:
            names |= _named_in_python(path.read_text())
    for path in _templates():
        names |= set(TEMPLATE_CAN.findall(path.read_text()))
    return names


def test_every_permission_named_in_the_code_is_in_the_table():
    named = _named_everywhere()
    assert {"place.edit", "beneficiary.view_identity"} <= named  # the scan reads both kinds
    assert named <= perms.ALL, f"not in permissions.py: {sorted(named - perms.ALL)}"


def test_every_permission_in_the_table_is_asked_somewhere():
    unused = perms.ALL - _named_everywhere()
    assert not unused, f"dead entries in permissions.py: {sorted(unused)}"


def test_the_scan_sees_a_typo():
    assert _named_in_python("can(m, 'place.edti')") == {"place.edti"}
    assert "place.edti" not in perms.ALL


DOC = LIEN.parent / "docs" / "ARCHITECTURE.md"
DOC_ROW = re.compile(r"^\| `([a-z_]+\.[a-z_]+)` \|([^|]*)\|([^|]*)\|([^|]*)\|", re.M)


def test_the_architecture_document_shows_the_table():
    """docs/ARCHITECTURE.md lists every permission with the roles that carry it."""
    text = DOC.read_text()
    section = text[text.index("## Who sees what of a person") :]
    section = section[: section.index("\n## ", 1)]
    documented = {
        name: {
            role
            for role, mark in zip(("advisor", "reception", "coordinator"), marks, strict=True)
            if mark.strip()
        }
        for name, *marks in DOC_ROW.findall(section)
    }
    in_code = {name: set(perms.roles_with(name)) for name in perms.ALL}
    assert documented == in_code
