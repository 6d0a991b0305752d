"""The operators' admin site: every admin page runs with tenant scopes disabled.

Operators (superusers) look across structures on purpose; saying so here, once, keeps the
rest of the code failing closed (core/scopes.py).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponseBase

from lien.core.scopes import keep_scope, scopes_disabled

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


class LienAdminSite(AdminSite):
    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def unscoped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            with scopes_disabled():
                response = inner(request, *args, **kwargs)
            return keep_scope(response, scopes_disabled)

        return cast(_View, unscoped)


class LienAdminConfig(AdminConfig):
    default_site = "lien.core.admin_site.LienAdminSite"
