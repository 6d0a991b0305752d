"""The coordinator's journal page: who did what and when, never whom (journal/selectors.py)."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from lien import journal
from lien.accounts.access import staff_view
from lien.accounts.requests import StaffRequest
from lien.journal import selectors
from lien.journal.integrity import latest_check


@staff_view("journal.view")
def journal_list(request: StaffRequest) -> HttpResponse:
    """Paginated, newest first, filtered by period, action or family, kind, member, type."""
    structure = request.structure
    filters = selectors.parse_filters(structure, request.GET)
    page, rows = selectors.journal_page(structure, filters, request.GET.get("page"))
    # Reading the journal is journalled too: which page and filters (all validated values).
    journal.record_listing(request, action="journal.listed", page=page, filters=filters.as_dict())
    query = urlencode({k: v for k, v in filters.as_dict().items() if v})
    return render(
        request,
        "journal/list.html",
        {
            "nav": "journal",
            "page": page,
            "rows": rows,
            "filters": filters,
            "action_choices": selectors.action_choices(),
            "kinds": selectors.KINDS,
            "types": selectors.types_in(structure),
            "query": query,
            "check": latest_check(structure),
        },
    )
