"""GDPR pages: access export, erasure, imports, and the retention report.

Only advisors reach a person's data (coordinators never see names, reception only books);
the retention report shows coordinators counts only.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from lien import journal
from lien.accounts.access import staff_view
from lien.accounts.permissions import can
from lien.accounts.requests import StaffRequest
from lien.beneficiaries import gdpr, importer, selectors
from lien.beneficiaries.forms_gdpr import ImportForm, RetentionForm
from lien.beneficiaries.models import Beneficiary, BeneficiaryImport, ImportState
from lien.core.http import is_htmx, render_fragment

SOON_DAYS = 30


def _person(request: StaffRequest, pk: int) -> Beneficiary:
    return get_object_or_404(
        Beneficiary.objects.of_structure(request.structure).select_related("structure"), pk=pk
    )


def _exported(request: StaffRequest, person: Beneficiary, fmt: str) -> dict:
    data = gdpr.access_export(person) if fmt == "json" else gdpr.collect(person)
    journal.record(
        structure=request.structure,
        action="beneficiary.exported",
        obj=person,
        actor=request.user,
        subject=person,
        data={"format": fmt},
    )
    return data


@staff_view("gdpr.export")
def export(request: StaffRequest, pk: int) -> HttpResponse:
    """Everything held about one person, as a page they can read and print."""
    person = _person(request, pk)
    data = _exported(request, person, "html")
    return render(
        request, "beneficiaries/gdpr/export.html", {"person": person, "data": data, "nav": ""}
    )


@staff_view("gdpr.export")
def export_json(request: StaffRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    data = _exported(request, person, "json")
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="donnees-personne-{person.pk}.json"'
    return response


@staff_view("gdpr.erase")
def erase(request: StaffRequest, pk: int) -> HttpResponse:
    """Confirmation page, then anonymisation (keeps the statistical profile)."""
    person = _person(request, pk)
    if request.method != "POST":
        # The confirmation names the person: a read, journalled (the erasure is, by gdpr).
        selectors.record_read(request.membership, person, purpose="erase")
    if request.method == "POST":
        if gdpr.erase(person, actor=request.user, reason="request"):
            messages.success(
                request,
                _("Les données personnelles ont été effacées ; les statistiques sont gardées."),
            )
        else:
            messages.info(request, _("Cette personne était déjà anonymisée."))
        return redirect("beneficiaries:detail", request.structure.slug, person.pk)
    return render(request, "beneficiaries/gdpr/erase.html", {"person": person, "nav": ""})


@staff_view("beneficiary.import")
def import_upload(request: StaffRequest) -> HttpResponse:
    """Check the whole file at once; store it for writing only when every row is valid."""
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read()
        rows, errors = importer.check(content)
        if not errors:
            job = importer.import_queue(
                structure=request.structure,
                actor=request.user,
                filename=upload.name,
                content=content,
                total=len(rows),
            )
            return redirect("gdpr:import_status", request.structure.slug, job.pk)
    recent = BeneficiaryImport.objects.filter(structure=request.structure)[:5]
    return render(
        request,
        "beneficiaries/gdpr/import.html",
        {"form": form, "errors": errors, "recent": recent, "nav": ""},
    )


@staff_view("beneficiary.import")
def import_status(request: StaffRequest, pk: int) -> HttpResponse:
    """Progress of one import; polls itself (htmx) until it is done."""
    job: BeneficiaryImport = get_object_or_404(
        BeneficiaryImport.objects.filter(structure=request.structure), pk=pk
    )
    if job.state == ImportState.PENDING:
        # Without a worker (`make run`), the page writes the file itself; the claim makes
        # sure the worker and the page never both do.
        importer.run_pending(job.pk)
        job.refresh_from_db()
    done = importer.progress(job)
    percent = int(100 * done / job.total) if job.total else 100
    context = {
        "job": job,
        "done": done,
        "percent": percent,
        "finished": job.state in (ImportState.DONE, ImportState.FAILED),
        "nav": "",
    }
    if is_htmx(request):
        return render_fragment(request, "beneficiaries/gdpr/_import_progress.html", context)
    return render(request, "beneficiaries/gdpr/import_status.html", context)


@staff_view("gdpr.retention")
def retention(request: StaffRequest) -> HttpResponse:
    """Dry run of the retention job: who would be anonymised now and within 30 days.

    Coordinators may change the retention period here (POST); those who may read names see
    who is due.
    """
    structure = request.structure
    form = None
    if can(request.membership, "gdpr.retention_set"):
        form = RetentionForm(request.POST or None, initial={"months": structure.retention_months})
        if request.method == "POST" and form.is_valid():
            gdpr.retention_set(
                structure=structure, months=form.cleaned_data["months"], actor=request.user
            )
            messages.success(request, _("Durée de conservation enregistrée."))
            return redirect("gdpr:retention", structure_slug=structure.slug)
    elif request.method == "POST":
        raise PermissionDenied
    now = timezone.now()
    due = gdpr.retention_candidates(structure, now=now)
    soon = gdpr.retention_candidates(structure, now=now, horizon=SOON_DAYS).exclude(
        pk__in=due.values("pk")
    )
    context = {
        "months": structure.retention_months,
        "due_count": due.count(),
        "soon_count": soon.count(),
        "soon_days": SOON_DAYS,
        "form": form,
        "nav": "beneficiaries",
    }
    if can(request.membership, "beneficiary.view_identity"):
        people = list(gdpr.retention_candidates(structure, now=now, horizon=SOON_DAYS))
        context["people"] = people
        journal.record(
            structure=structure,
            action="beneficiary.listed",
            actor=request.user,
            data={"page": "retention", "count": len(people)},
        )
    return render(request, "beneficiaries/gdpr/retention.html", context)
