"""Each app writes only its own models (Zulip's rule); another app's rows change through that
app's services, which journal the change.

The rule is checked statically: every module of lien/ is parsed (ast) and each write found in
it — `.save()` and `.delete()` on an instance, `Model.objects.create/update/delete/
bulk_create/bulk_update/get_or_create/update_or_create(...)`, and the same methods at the end
of a queryset chain (`Model.objects.filter(...).update(...)`, `place.opening_rules.all()
.delete()`, a queryset kept in a variable) — is resolved to the model it touches where that
can be told without running the code: a model class imported or defined in the module, a
variable assigned from one, a parameter annotated with one, a reverse accessor
(`activity.accompaniments`), and, last, a variable named after a model (`appointment`). A write
to a model of another app fails the test.
"""

import ast
import pathlib
import re
from dataclasses import dataclass

import pytest
from django.apps import apps

# Left out of CI's date matrix: a scan of the source code.
pytestmark = pytest.mark.slow

LIEN = pathlib.Path(__file__).resolve().parent.parent / "lien"

# Modules allowed to write other apps' models, each with its reason. Migrations and tests are
# not scanned at all (they build whatever rows they need).
ALLOWED = {
    # Demo data for `make run`: builds a whole structure in one go, journals nothing on
    # purpose (nothing happened, it is a fixture).
    "lien/core/management/commands/load_demo.py",
}

# Models of other packages, and the Lien app that owns their writes.
THIRD_PARTY_OWNERS = {
    "otp_totp": "accounts",  # a staff member's authenticator app
    "otp_static": "accounts",  # their recovery codes
}

MANAGER_WRITES = frozenset(
    {
        "create",
        "update",
        "delete",
        "bulk_create",
        "bulk_update",
        "get_or_create",
        "update_or_create",
    }
)
INSTANCE_WRITES = frozenset({"save", "delete"})
MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
# Queryset methods that return a queryset or one instance of the same model.
CHAINABLE = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "select_related",
        "prefetch_related",
        "select_for_update",
        "only",
        "defer",
        "order_by",
        "distinct",
        "using",
        "annotate",
        "active",
        "of_structure",
        "identified",
        "get",
        "first",
        "last",
        "latest",
        "earliest",
        "create",
        "none",
    }
)


@dataclass(frozen=True)
class Write:
    where: str  # lien/<app>/<module>.py:<line>
    app: str  # the app the module belongs to
    model: str  # the model written, "<app>.<Model>"
    owner: str  # the app that owns it

    def __str__(self) -> str:
        return f"{self.where}: {self.app} writes {self.model} (owned by {self.owner})"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class _Models:
    """What the running project knows about its models: names, owners, reverse accessors."""

    def __init__(self) -> None:
        self.by_name: dict[str, type] = {}
        self.by_variable: dict[str, type] = {}
        accessors: dict[str, set[type]] = {}
        for model in apps.get_models():
            self.by_name.setdefault(model.__name__, model)
            if model.__module__.startswith("lien."):
                self.by_variable[_snake(model.__name__)] = model
            for field in model._meta.get_fields():
                if field.auto_created and not field.concrete and field.related_model:
                    name = field.get_accessor_name() if hasattr(field, "get_accessor_name") else ""
                    if name and not name.endswith("+"):
                        accessors.setdefault(name, set()).add(field.related_model)
        # An accessor name shared by two models cannot be told apart statically.
        self.by_accessor = {
            name: next(iter(found)) for name, found in accessors.items() if len(found) == 1
        }

    @staticmethod
    def owner(model: type) -> str:
        if model.__module__.startswith("lien."):
            return model.__module__.split(".")[1]
        return THIRD_PARTY_OWNERS.get(model._meta.app_label, model._meta.app_label)


class _Scope:
    """Types of the names of one function (or module) body, as far as they can be told."""

    def __init__(self, node: ast.AST, models: _Models, classes: dict[str, type]) -> None:
        self.models, self.classes = models, classes
        self.values: dict[str, ast.expr] = {}
        self.annotations: dict[str, ast.expr] = {}
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                if arg.annotation is not None:
                    self.annotations[arg.arg] = arg.annotation
        for child in _own_nodes(node):
            if isinstance(child, ast.Assign):
                for target in child.targets:
                    self._bind(target, child.value)
            elif isinstance(child, ast.AnnAssign) and isinstance(child.target, ast.Name):
                self.annotations[child.target.id] = child.annotation
                if child.value is not None:
                    self.values[child.target.id] = child.value
            elif isinstance(child, ast.For | ast.comprehension) and isinstance(
                child.target, ast.Name
            ):
                self.values[child.target.id] = child.iter

    def _bind(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.values.setdefault(target.id, value)
        elif isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name):
            # `thing, created = Model.objects.get_or_create(...)`
            self.values.setdefault(target.elts[0].id, value)

    def model_of_annotation(self, annotation: ast.expr) -> type | None:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            return self.classes.get(annotation.value)
        if isinstance(annotation, ast.Name):
            return self.classes.get(annotation.id)
        if isinstance(annotation, ast.BinOp):  # `Model | None`
            return self.model_of_annotation(annotation.left) or self.model_of_annotation(
                annotation.right
            )
        if isinstance(annotation, ast.Subscript):  # `list[Model]`, `Iterable[Model]`
            return self.model_of_annotation(annotation.slice)
        return None

    def model_of(self, expr: ast.expr, *, seen: frozenset[str] = frozenset()) -> type | None:
        """The model an expression is an instance, a manager or a queryset of."""
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Name):
                if func.id in self.classes:
                    return self.classes[func.id]  # `Model(...)`
                if func.id in ("list", "sorted", "iter", "reversed") and expr.args:
                    return self.model_of(expr.args[0], seen=seen)
                return None
            if isinstance(func, ast.Attribute) and func.attr in CHAINABLE | MANAGER_WRITES:
                return self.model_of(func.value, seen=seen)
            return None
        if isinstance(expr, ast.Attribute):
            if expr.attr in MANAGERS and isinstance(expr.value, ast.Name):
                return self.classes.get(expr.value.id)
            return self.models.by_accessor.get(expr.attr)
        if isinstance(expr, ast.Subscript):  # `people[start:end]`, `rows[0]`
            return self.model_of(expr.value, seen=seen)
        if isinstance(expr, ast.Name):
            if expr.id in self.classes:
                return self.classes[expr.id]
            if expr.id in seen:
                return None
            if expr.id in self.annotations:
                found = self.model_of_annotation(self.annotations[expr.id])
                if found is not None:
                    return found
            if expr.id in self.values:
                found = self.model_of(self.values[expr.id], seen=seen | {expr.id})
                if found is not None:
                    return found
            return self.models.by_variable.get(expr.id)
        return None


def _own_nodes(node: ast.AST):
    """The nodes of a body, without descending into nested functions or classes."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
        ):
            yield from _own_nodes(child)


def _model_classes(tree: ast.Module, models: _Models) -> dict[str, type]:
    """Model classes the module names: imported (under their alias) or defined in it."""
    classes: dict[str, type] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in models.by_name:
                    classes[alias.asname or alias.name] = models.by_name[alias.name]
        elif isinstance(node, ast.ClassDef) and node.name in models.by_name:
            classes[node.name] = models.by_name[node.name]
    if any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "get_user_model"
        for node in ast.walk(tree)
    ):
        classes.setdefault("User", models.by_name["User"])
    return classes


def _is_own_save(call: ast.Call) -> bool:
    """`self.save()` / `super().save()` inside a model's own methods."""
    receiver = call.func.value  # type: ignore[attr-defined]
    return (isinstance(receiver, ast.Name) and receiver.id in ("self", "cls")) or (
        isinstance(receiver, ast.Call)
        and isinstance(receiver.func, ast.Name)
        and receiver.func.id == "super"
    )


def writes_in(source: str, relative: str, models: _Models) -> list[Write]:
    """Every write of a module whose model could be told, with its owner."""
    tree = ast.parse(source)
    parts = pathlib.PurePosixPath(relative).parts
    app = parts[1] if len(parts) > 2 else ""
    classes = _model_classes(tree, models)
    found: list[Write] = []

    def visit(node: ast.AST) -> None:
        scope = _Scope(node, models, classes)
        for child in _own_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child)
            if not (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)):
                continue
            method = child.func.attr
            if method not in MANAGER_WRITES | INSTANCE_WRITES or _is_own_save(child):
                continue
            receiver = child.func.value
            if method not in INSTANCE_WRITES and isinstance(receiver, ast.Name):
                # `something.update(...)` on a plain name is a dict as often as a queryset:
                # only a name bound to a queryset (or a model class) counts.
                model = scope.model_of(receiver) if receiver.id in scope.values else None
                model = model or classes.get(receiver.id)
            else:
                model = scope.model_of(receiver)
            if model is None:
                continue
            found.append(
                Write(
                    f"{relative}:{child.lineno}",
                    app,
                    f"{model._meta.app_label}.{model.__name__}",
                    models.owner(model),
                )
            )

    visit(tree)
    return found


def scan(root: pathlib.Path = LIEN) -> list[Write]:
    models = _Models()
    found: list[Write] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).as_posix()
        if "migrations" in path.parts or relative in ALLOWED:
            continue
        found += writes_in(path.read_text(encoding="utf-8"), relative, models)
    return found


def violations(writes: list[Write]) -> list[Write]:
    return [w for w in writes if w.owner != w.app]


@pytest.mark.django_db
def test_each_app_writes_only_its_own_models():
    wrong = violations(scan())
    assert not wrong, "write through the owning app's services:\n" + "\n".join(map(str, wrong))


@pytest.mark.django_db
def test_the_scan_sees_the_writes_it_should():
    """The resolution works on the real code: if it silently stopped resolving, the rule
    above would pass on nothing."""
    seen = {(w.where.split(":")[0], w.model) for w in scan()}
    for expected in (
        ("lien/places/services.py", "places.Place"),  # an annotated parameter
        ("lien/places/services.py", "places.OpeningRule"),  # Model.objects.bulk_create
        ("lien/beneficiaries/importer.py", "beneficiaries.Beneficiary"),
        ("lien/beneficiaries/importer.py", "beneficiaries.BeneficiaryImport"),
        ("lien/appointments/delivery.py", "appointments.Message"),  # filter(...).update(...)
        ("lien/appointments/services.py", "appointments.Appointment"),
        ("lien/activities/services.py", "activities.Accompaniment"),  # a reverse accessor
        ("lien/accounts/services.py", "otp_static.StaticToken"),
        ("lien/journal/__init__.py", "journal.JournalEntry"),
    ):
        assert expected in seen, expected


BAD_MODULE = """
from lien.beneficiaries.models import Beneficiary as Person
from lien.appointments.models import Appointment, Message
from lien.places.models import Place


def link(appointment, person: Person, place_pk: int):
    appointment.beneficiary = person
    appointment.save(update_fields=["beneficiary"])               # by the variable's name
    Person.objects.create(first_name="x")                          # an aliased import
    Person.objects.filter(pk=person.pk).update(last_name="")       # a queryset chain
    queued = Message.objects.filter(appointment=appointment)
    queued.update(recipient="")                                     # a queryset in a variable
    found = Place.objects.get(pk=place_pk)
    found.delete()                                                  # an instance from a query
    person.save()                                                   # an annotated parameter
    for row in person.accompaniments.all():
        row.delete()                                                # a reverse accessor
    Appointment.objects.get_or_create(pk=1)
    settings = {}
    settings.update(a=1)                                            # a dict: not a write
"""


@pytest.mark.django_db
def test_the_scan_catches_writes_to_another_apps_models():
    found = violations(writes_in(BAD_MODULE, "lien/activities/bad.py", _Models()))
    lines = sorted(int(w.where.rsplit(":", 1)[1]) for w in found)
    assert lines == [9, 10, 11, 13, 15, 16, 19], [str(w) for w in found]
    assert {w.model for w in found} == {
        "appointments.Appointment",
        "appointments.Message",
        "beneficiaries.Beneficiary",
        "places.Place",
    }
    # The accompaniment row (line 18) belongs to activities: the one write it may do here.
    own = writes_in(BAD_MODULE, "lien/activities/bad.py", _Models())
    assert [w.model for w in own if w.owner == w.app] == ["activities.Accompaniment"]
