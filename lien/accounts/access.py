"""Who may reach which staff page.

Every staff URL starts with the structure's slug. `staff_view` resolves it through the
signed-in user's memberships: a structure the user does not belong to is a 404, exactly like
an object of another structure, so nothing leaks about what exists elsewhere.
"""

from collections.abc import Callable
from functools import wraps
from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from lien.accounts import permissions
from lien.accounts.models import Membership
from lien.accounts.requests import StaffRequest
from lien.core.scopes import run_in_structure


def staff_view(permission: str | None = None) -> Callable:
    """Decorate a view taking `structure_slug`; sets request.membership and request.structure.

    `@staff_view("place.edit")`: members of the structure whose role lacks that named
    permission (accounts/permissions.py) get 403 (they know it exists). `@staff_view()`: every
    member of the structure. A name not in the table fails at import.
    """
    if permission is not None:
        permissions.check(permission)
    allowed = permissions.ROLES if permission is None else permissions.roles_with(permission)

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, structure_slug: str, *args, **kwargs) -> HttpResponse:
            membership = (
                Membership.objects.for_user(request.user)
                .select_related("structure")
                .filter(structure__slug=structure_slug)
                .first()
            )
            if membership is None:
                raise Http404
            if permission is not None and not permissions.can(membership, permission):
                raise PermissionDenied
            staff_request = cast(StaffRequest, request)
            staff_request.membership = membership
            staff_request.structure = membership.structure
            # The page, and a streamed body, see only this structure's rows (core/scopes.py).
            return run_in_structure(membership.structure, lambda: view(request, *args, **kwargs))

        # Read by the permission matrix test; functools.wraps' type has no room for them.
        wrapper.staff_roles = tuple(allowed)  # type: ignore[attr-defined]
        wrapper.staff_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator
