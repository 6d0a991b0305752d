"""Tenant scoping that fails closed: no active scope, no query.

Every model owned by a structure gets its default manager from `scoped_manager()`. Such a
manager reads the scope activated around the code that runs (django-scopes' state, the one
pretix uses):
- inside `structure_scope(structure)` every query is filtered on that structure, whatever
  the code asks (a forgotten `.filter(structure=…)` cannot leak another structure's rows);
- inside `scopes_disabled()` queries see every structure: the admin, the worker, management
  commands and the lookups that must cross structures (a private link's token) say so
  explicitly;
- anywhere else, building a query raises `ScopeError`: every request starts in an empty
  scope (`ScopeMiddleware`), so a view that activates nothing fails instead of leaking.

Who activates what:
- staff pages: `staff_view` (accounts/access.py), from the signed-in user's membership;
- public pages of a structure: `public_view` below, from the slug in the URL;
- a resident's private link, an advisor's ICS feed: the view finds the object with scopes
  disabled (the token is checked first), then runs in the object's structure;
- the admin: `LienAdminSite` (core/admin_site.py) runs every admin page with scopes disabled;
- the worker and Lien's management commands: `scopes_disabled()` around each job or command.

Forward relations (`appointment.place`) go through Django's base manager, which is not
scoped: the object was reached through a scoped query in the first place. `Membership` is
not scoped: it is how a scope is chosen (queried by the signed-in user, never listed by
structure outside staff pages).
"""

import contextlib
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any, TypeVar, cast

from django.db import models
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django_scopes import ScopeError, get_scope, scope, scopes_disabled
from django_scopes.state import state

__all__ = [
    "ScopeError",
    "current_structure_id",
    "empty_scope",
    "public_view",
    "scoped_manager",
    "scopes_disabled",
    "structure_scope",
]

DIMENSION = "structure"


def _scope_value(value: Any) -> int:
    pk = getattr(value, "pk", value)
    if not isinstance(pk, int) or isinstance(pk, bool):
        # None here would mean "every structure" to django-scopes: never by accident.
        raise ValueError(f"a structure scope needs a saved structure, not {value!r}")
    return pk


@contextlib.contextmanager
def structure_scope(structure: Any) -> Iterator[None]:
    """Run the block in one structure: structure-owned queries see only its rows."""
    with scope(**{DIMENSION: _scope_value(structure)}):
        yield


@contextlib.contextmanager
def empty_scope() -> Iterator[None]:
    """Run the block with scoping on and no structure: any structure-owned query raises.

    Replaces whatever the caller had (a test with scopes disabled, a thread reused by the
    server), so a request never inherits a scope it did not choose.
    """
    token = state.set({"_enabled": True})
    try:
        yield
    finally:
        state.reset(token)


def current_structure_id() -> int | None:
    """The structure the current scope is pinned to, or None (disabled or empty)."""
    current = get_scope()
    if not current.get("_enabled", True):
        return None
    return current.get(DIMENSION)


def _refuse(model: type[models.Model]) -> ScopeError:
    return ScopeError(
        f"{model.__name__}: a structure scope must be active for this query "
        "(staff_view, public_view, structure_scope or scopes_disabled)"
    )


class _ScopedQuerySetMixin:
    """A queryset built while no structure was chosen (a form field declared at import time,
    a related manager reached in an empty scope) is not refused at once: it is checked when it
    is read. Read in a structure's scope, it is confined to that structure; with scopes
    disabled, it reads everything; otherwise it raises."""

    _scope_pending = False
    _scope_path = DIMENSION

    def _clone(self) -> Any:
        clone = super()._clone()  # type: ignore[misc]
        clone._scope_pending = self._scope_pending
        return clone

    def _settle_scope(self) -> None:
        if not self._scope_pending:
            return
        current = get_scope()
        if not current.get("_enabled", True) or self.query.is_empty():  # type: ignore[attr-defined]
            self._scope_pending = False
            return
        if DIMENSION not in current or self.query.is_sliced:  # type: ignore[attr-defined]
            raise _refuse(self.model)  # type: ignore[attr-defined]
        self.query.add_q(models.Q(**{self._scope_path: _scope_value(current[DIMENSION])}))  # type: ignore[attr-defined]
        self._scope_pending = False

    # Every way a queryset reaches the database.
    def _fetch_all(self) -> None:
        self._settle_scope()
        return super()._fetch_all()  # type: ignore[misc]

    def _iterator(self, *args: Any, **kwargs: Any) -> Any:
        self._settle_scope()
        return super()._iterator(*args, **kwargs)  # type: ignore[misc]

    def count(self) -> int:
        self._settle_scope()
        return super().count()  # type: ignore[misc]

    def exists(self) -> bool:
        self._settle_scope()
        return super().exists()  # type: ignore[misc]

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._settle_scope()
        return super().aggregate(*args, **kwargs)  # type: ignore[misc]

    def update(self, **kwargs: Any) -> int:
        self._settle_scope()
        return super().update(**kwargs)  # type: ignore[misc]

    def _update(self, values: Any) -> Any:
        self._settle_scope()
        return super()._update(values)  # type: ignore[misc]

    def delete(self) -> tuple[int, dict[str, int]]:
        self._settle_scope()
        return super().delete()  # type: ignore[misc]

    def _raw_delete(self, using: str) -> int:
        self._settle_scope()
        return super()._raw_delete(using)  # type: ignore[misc]

    def explain(self, **options: Any) -> str:
        self._settle_scope()
        return super().explain(**options)  # type: ignore[misc]

    def resolve_expression(self, *args: Any, **kwargs: Any) -> Any:
        # Used inside another query (`pk__in=Place.objects.…`): scoped the same way.
        self._settle_scope()
        return super().resolve_expression(*args, **kwargs)  # type: ignore[misc]


def scoped_manager(
    queryset_class: type[models.QuerySet] = models.QuerySet, *, path: str = DIMENSION
) -> Any:
    """A default manager whose every query is confined to the active structure scope.

    `path` is the lookup from the model to its structure (`"place__structure"` for a model
    owned through its place). The queryset's own methods stay available.
    """
    scoped_queryset = type(
        f"Scoped{queryset_class.__name__}",
        (_ScopedQuerySetMixin, queryset_class),
        {"_scope_path": path, "__module__": queryset_class.__module__},
    )
    # Built at run time, a base mypy cannot follow (its "possible cyclic definition", misc).
    base: Any = models.Manager.from_queryset(scoped_queryset)

    class ScopedManager(base):  # type: ignore[misc]
        scoped_path = path

        def get_queryset(self) -> models.QuerySet:
            current = get_scope()
            queryset = super().get_queryset()
            if not current.get("_enabled", True):
                return queryset
            if DIMENSION not in current:
                # Refused when read, unless a scope is active by then (see the mixin).
                queryset._scope_pending = True
                return queryset
            return queryset.filter(**{path: _scope_value(current[DIMENSION])})

        def none(self) -> models.QuerySet:
            # An empty queryset reads nothing: forms declare `queryset=X.objects.none()` at
            # import time, before any scope exists.
            queryset = super().get_queryset()
            queryset._scope_pending = False
            return queryset.none()

    ScopedManager.__name__ = f"Scoped{base.__name__}"  # type: ignore[misc]
    return ScopedManager()


_Response = TypeVar("_Response", bound=HttpResponseBase)


def keep_scope(response: _Response, enter: Callable[[], Any]) -> _Response:
    """A streamed body is produced after the view returns: produce it in the same scope."""
    if isinstance(response, StreamingHttpResponse):
        # Lien is served over WSGI: a streamed body is a plain iterator, never an async one.
        chunks = cast(Iterator[bytes], response.streaming_content)

        def scoped() -> Iterator[bytes]:
            with enter():
                yield from chunks

        response.streaming_content = scoped()
    return response


def run_in_structure(structure: Any, view: Callable[[], HttpResponse]) -> HttpResponse:
    """Call `view()` in the structure's scope, streamed body included."""
    with structure_scope(structure):
        response = view()
    return keep_scope(response, lambda: structure_scope(structure))


def public_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a public page taking `structure_slug`: 404 for an unknown slug, otherwise
    `request.structure` is set and the page runs in that structure's scope."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, structure_slug: str, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        from lien.accounts.models import Structure
        from lien.accounts.requests import StructureRequest

        structure = Structure.objects.filter(slug=structure_slug).first()
        if structure is None:
            raise Http404
        cast(StructureRequest, request).structure = structure
        return run_in_structure(structure, lambda: view(request, structure_slug, *args, **kwargs))

    wrapper.public_structure_view = True  # type: ignore[attr-defined]
    return wrapper
