"""The requests views receive, typed with what their decorators set on them."""

from django.http import HttpRequest

from lien.accounts.models import Membership, Structure, User


class StructureRequest(HttpRequest):
    """A request to a page of one structure (`staff_view`, `public_view`)."""

    structure: Structure


class StaffRequest(StructureRequest):
    """A request inside `staff_view`: a signed-in member of `structure`."""

    user: User
    membership: Membership
