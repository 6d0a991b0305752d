"""The person picker of the staff forms that act for someone: booking on their behalf and
recording a walk-in.

Those pages hold a GET form whose search field (`qui`) asks this view, as the member types
(htmx), for the people matching a name or phone; each person found is a button of that form
(`personne=<pk>`), so choosing one reloads the page for them. Without JavaScript the same form
is submitted to the page itself, which shows the same partial.
"""

from django.http import HttpResponse

from lien.accounts.access import staff_view
from lien.accounts.requests import StaffRequest
from lien.beneficiaries import selectors
from lien.core import params
from lien.core.http import render_fragment

# Which form asks: the page journalled with the search (`beneficiary.searched`).
PAGES = {"rdv": "appointment.book", "passage": "appointment.walk_in"}


@staff_view("beneficiary.search")
def pick(request: StaffRequest) -> HttpResponse:
    """htmx partial: the people matching `qui`, as buttons choosing one."""
    page = PAGES.get(request.GET.get("pour", ""), PAGES["rdv"])
    text = params.text(request.GET.get("qui"))
    return render_fragment(
        request,
        "beneficiaries/_pick.html",
        {"found": selectors.people_to_pick(request.membership, text, page=page)},
    )
