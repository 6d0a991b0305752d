"""Staff pages about the people helped. Each role sees what `selectors` gives it, no more.

Every opening of a person's page and every search is journalled (`beneficiary.viewed`,
`beneficiary.searched`); a search's words are a name or a phone number of someone who may
have no record to erase them with, so only the fact of the search is kept, never its words.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lien import journal
from lien.accounts.access import staff_view
from lien.accounts.permissions import can
from lien.accounts.requests import StaffRequest
from lien.beneficiaries import selectors, services
from lien.beneficiaries.forms import BeneficiaryForm, MergeSearchForm
from lien.beneficiaries.models import Beneficiary
from lien.core import params, taxonomy

PER_PAGE = 50


def _searched(request: HttpRequest, count: int) -> None:
    journal.record_search(request, action="beneficiary.searched", results=count)


@staff_view()
def beneficiary_list(request: StaffRequest) -> HttpResponse:
    """Advisor: search, filters, pages; reception: search by name or phone; coordinator: counts."""
    membership = request.membership
    if not can(membership, "beneficiary.search"):
        if not can(membership, "statistics.view"):
            raise PermissionDenied
        return render(
            request,
            "beneficiaries/statistics.html",
            {"nav": "beneficiaries", "stats": selectors.beneficiary_statistics(request.structure)},
        )
    query = params.text(request.GET.get("q"))
    if not can(membership, "beneficiary.view_profile"):
        results = list(selectors.reception_search(membership, query)[:PER_PAGE])
        if query:
            _searched(request, len(results))
        return render(
            request,
            "beneficiaries/list_reception.html",
            {"nav": "beneficiaries", "query": query, "results": results},
        )
    records = selectors.filtered(selectors.beneficiaries_for(membership), request.GET)
    if query:
        records = selectors.search(records, query)
    page = Paginator(records, PER_PAGE).get_page(request.GET.get("page"))
    if query:
        _searched(request, page.paginator.count)
    else:
        # A page of names was shown: which page and filters, never the names themselves.
        journal.record_listing(
            request,
            action="beneficiary.listed",
            page=page,
            filters=selectors.applied_filters(request.GET),
        )
    return render(
        request,
        "beneficiaries/list.html",
        {
            "nav": "beneficiaries",
            "query": query,
            "page": page,
            "params": request.GET,
            "genders": taxonomy.GENDERS,
            "age_bands": taxonomy.AGE_BANDS,
            "statuses": taxonomy.SOCIAL_STATUSES,
        },
    )


@staff_view("beneficiary.view")
def detail(request: StaffRequest, pk: int) -> HttpResponse:
    membership = request.membership
    beneficiary = selectors.beneficiary_for(membership, pk, purpose="detail")
    if beneficiary.merged_into_id:
        messages.info(request, _("Cette fiche a été fusionnée dans celle-ci."))
        return redirect("beneficiaries:detail", request.structure.slug, beneficiary.merged_into_id)
    if not can(membership, "beneficiary.view_profile"):
        return render(
            request,
            "beneficiaries/detail_reception.html",
            {
                "nav": "beneficiaries",
                "beneficiary": beneficiary,
                "upcoming": selectors.upcoming_appointments(beneficiary),
            },
        )
    return render(
        request,
        "beneficiaries/detail.html",
        {
            "nav": "beneficiaries",
            "beneficiary": beneficiary,
            "timeline": selectors.timeline(beneficiary),
            "duplicates": services.duplicates_of(beneficiary),
            "today": timezone.localdate(),
        },
    )


@staff_view("beneficiary.create")
def create(request: StaffRequest) -> HttpResponse:
    """New record; likely duplicates are shown first and need an explicit confirmation."""
    form = BeneficiaryForm(request.POST or None)
    duplicates: list[Beneficiary] = []
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        if not values["anonymous"] and not request.POST.get("confirmer"):
            duplicates = services.find_duplicates(
                structure=request.structure,
                first_name=values["first_name"],
                last_name=values["last_name"],
                birth_year=values["birth_year"],
                phone=values["phone"],
            )
        if not duplicates:
            try:
                beneficiary = services.beneficiary_create(
                    structure=request.structure, actor=request.user, **values
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Fiche enregistrée."))
                return redirect("beneficiaries:detail", request.structure.slug, beneficiary.pk)
    return render(
        request,
        "beneficiaries/form.html",
        {"nav": "beneficiaries", "form": form, "duplicates": duplicates, "beneficiary": None},
    )


def _current(request: StaffRequest, pk: int, *, purpose: str) -> Beneficiary | None:
    """The advisor's record, or None when it was merged or erased (no more edits)."""
    beneficiary = selectors.beneficiary_for(request.membership, pk, purpose=purpose)
    if beneficiary.merged_into_id or beneficiary.anonymised_at:
        messages.error(
            request,
            _("Cette fiche a été anonymisée ou fusionnée : elle ne peut plus être modifiée."),
        )
        return None
    return beneficiary


@staff_view("beneficiary.edit")
def edit(request: StaffRequest, pk: int) -> HttpResponse:
    beneficiary = _current(request, pk, purpose="edit")
    if beneficiary is None:
        return redirect("beneficiaries:detail", request.structure.slug, pk)
    initial = {name: getattr(beneficiary, name) for name in services.EDITABLE_FIELDS}
    form = BeneficiaryForm(
        request.POST or None,
        initial=initial,
        birth_year_known=bool(beneficiary.birth_year),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.beneficiary_update(
                beneficiary=beneficiary, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Fiche mise à jour."))
            return redirect("beneficiaries:detail", request.structure.slug, beneficiary.pk)
    return render(
        request,
        "beneficiaries/form.html",
        {"nav": "beneficiaries", "form": form, "duplicates": [], "beneficiary": beneficiary},
    )


@staff_view("beneficiary.merge")
def merge(request: StaffRequest, pk: int) -> HttpResponse:
    """Choose the other record (duplicates or a search), confirm with both side by side."""
    keep = _current(request, pk, purpose="merge")
    if keep is None:
        return redirect("beneficiaries:detail", request.structure.slug, pk)
    records = selectors.beneficiaries_for(request.membership).exclude(pk=keep.pk)
    chosen = params.positive_id(request.POST.get("avec") or request.GET.get("avec"))
    other = records.filter(pk=chosen).first() if chosen else None
    if other is not None:
        selectors.record_read(request.membership, other, purpose="merge")
    if request.method == "POST" and other is not None:
        try:
            keep = services.beneficiary_merge(keep=keep, other=other, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("Les deux fiches sont fusionnées ; tout l'historique est gardé.")
            )
            return redirect("beneficiaries:detail", request.structure.slug, keep.pk)
    if other is not None:
        return render(
            request,
            "beneficiaries/merge_confirm.html",
            {"nav": "beneficiaries", "keep": keep, "other": other},
        )
    search = MergeSearchForm(request.GET or None)
    found = []
    if search.is_valid() and search.cleaned_data["q"]:
        found = selectors.search_people(
            request.membership, records, search.cleaned_data["q"], limit=PER_PAGE, page="merge"
        )
    return render(
        request,
        "beneficiaries/merge.html",
        {
            "nav": "beneficiaries",
            "keep": keep,
            "duplicates": services.duplicates_of(keep),
            "search": search,
            "found": found,
        },
    )


@staff_view()
def notice(request: StaffRequest) -> HttpResponse:
    """The printable information notice handed to each person."""
    return render(
        request,
        "beneficiaries/notice.html",
        {"nav": "beneficiaries", "structure": request.structure},
    )


@staff_view("beneficiary.edit")
@require_POST
def notice_given(request: StaffRequest, pk: int) -> HttpResponse:
    beneficiary = _current(request, pk, purpose="notice")
    if beneficiary is not None:
        try:
            services.notice_given(
                beneficiary=beneficiary, on=timezone.localdate(), actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Remise de la notice d'information enregistrée."))
    return redirect("beneficiaries:detail", request.structure.slug, pk)
