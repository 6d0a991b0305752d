"""The requests views receive, typed with what their decorators set on them."""

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from lien.accounts.models import Membership, Structure, User

if TYPE_CHECKING:

    class VerifiableUser(User):
        """A signed-in user as django-otp's middleware hands it over."""

        def is_verified(self) -> bool: ...


class SignedInRequest(HttpRequest):
    """A request behind `login_required`."""

    user: "VerifiableUser"


class StructureRequest(HttpRequest):
    """A request to a page of one structure (`staff_view`, `public_view`)."""

    structure: Structure


class StaffRequest(SignedInRequest, StructureRequest):
    """A request inside `staff_view`: a signed-in member of `structure`."""

    membership: Membership


def signed_in_user(request: HttpRequest) -> User:
    """The user of a request that only a signed-in user reaches (the admin's pages): the
    journal's actor. Anyone else is refused."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user
