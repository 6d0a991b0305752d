"""Request-wide plumbing shared by every app."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from lien.core import timefmt


class StructureTimeZoneMiddleware:
    """A page under a structure's slug runs in that structure's time zone.

    Every URL that names a structure (`/<slug>/…`, `/equipe/<slug>/…`) carries it as the
    `structure_slug` view argument; pages reached by a token (a resident's link, an ICS feed)
    call `timefmt.activate_for(structure)` once they know it. The zone is reset after each
    response, so nothing leaks into the next request served by the same thread.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        slug = view_kwargs.get("structure_slug")
        if slug:
            from lien.accounts.models import Structure

            name = Structure.objects.filter(slug=slug).values_list("time_zone", flat=True).first()
            if name:
                timezone.activate(timefmt.zone_by_name(name))
        return None


class ScopeMiddleware:
    """Every request starts with tenant scoping on and no structure (core/scopes.py): a page
    that activates no scope cannot query a structure's rows at all. `staff_view`,
    `public_view`, the private-link views and the admin site then choose the scope."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from lien.core.scopes import empty_scope

        with empty_scope():
            return self.get_response(request)


class JournalClientMiddleware:
    """Journal entries written while serving a request record the staff member's client
    address: the same one the sign-in lockout and the rate limits count (core/http.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from lien import journal
        from lien.core.http import client_ip

        with journal.client_address(client_ip(request)):
            return self.get_response(request)


class BadInputMiddleware:
    """A NUL byte in the path, the query string or a form is refused with the French 400 page
    before any view runs: no view, search or database ever sees one (PostgreSQL refuses them
    in text, which was a server error)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from lien.core.params import has_nul
        from lien.site.views import bad_request

        if has_nul(request):
            return bad_request(request)
        return self.get_response(request)
