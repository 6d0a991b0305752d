from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lien.accounts.access import staff_view
from lien.accounts.permissions import can
from lien.accounts.requests import StaffRequest
from lien.core.http import is_htmx, render_fragment
from lien.places import services
from lien.places.forms import (
    ClosureForm,
    HolidaysForm,
    ImportForm,
    OpeningRuleFormSet,
    PlaceForm,
)
from lien.places.hours import describe_fr
from lien.places.importer import import_places
from lien.places.models import Closure, Place


def _place(request: StaffRequest, pk: int) -> Place:
    return get_object_or_404(Place.objects.of_structure(request.structure), pk=pk)


@staff_view()
def place_list(request: StaffRequest) -> HttpResponse:
    places = Place.objects.of_structure(request.structure).prefetch_related("opening_rules")
    return render(
        request,
        "places/list.html",
        {
            "nav": "places",
            "can_edit": can(request.membership, "place.edit"),
            "places": [
                (p, describe_fr(services.weekly_rules(p), p.closed_on_public_holidays))
                for p in places
            ],
        },
    )


@staff_view("place.edit")
def place_create(request: StaffRequest) -> HttpResponse:
    form = PlaceForm(request.POST or None, initial={"city": "", "published": True})
    if request.method == "POST" and form.is_valid():
        try:
            place = services.place_save(
                structure=request.structure, place=form.save(commit=False), actor=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Lieu « %(name)s » créé. Indiquez maintenant ses horaires.")
                % {"name": place.name},
            )
            return redirect("places:hours", request.structure.slug, place.pk)
    return render(request, "places/form.html", {"nav": "places", "form": form, "place": None})


@staff_view("place.edit")
def place_edit(request: StaffRequest, pk: int) -> HttpResponse:
    place = _place(request, pk)
    form = PlaceForm(request.POST or None, instance=place)
    if request.method == "POST" and form.is_valid():
        try:
            services.place_save(
                structure=request.structure, place=form.save(commit=False), actor=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Modifications enregistrées."))
            return redirect("places:list", request.structure.slug)
    return render(request, "places/form.html", {"nav": "places", "form": form, "place": place})


@staff_view("place.edit")
def place_delete(request: StaffRequest, pk: int) -> HttpResponse:
    place = _place(request, pk)
    if request.method == "POST":
        name = place.name
        try:
            services.place_delete(place=place, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("places:edit", request.structure.slug, place.pk)
        messages.success(request, _("Lieu « %(name)s » supprimé.") % {"name": name})
        return redirect("places:list", request.structure.slug)
    return render(
        request,
        "places/confirm_delete.html",
        {
            "nav": "places",
            "place": place,
            "presence_count": place.presences.count(),
            "appointment_count": place.appointments.count(),
        },
    )


@staff_view("place.edit")
def place_hours(request: StaffRequest, pk: int) -> HttpResponse:
    """Weekly opening hours (a formset) and public holidays, saved all at once."""
    place = _place(request, pk)
    formset = OpeningRuleFormSet(request.POST or None, instance=place, prefix="rules")
    holidays_form = HolidaysForm(
        request.POST or None, initial={"closed_on_public_holidays": place.closed_on_public_holidays}
    )
    if request.method == "POST" and formset.is_valid() and holidays_form.is_valid():
        try:
            services.opening_rules_replace(
                place=place,
                rules=formset.rules(),
                closed_on_public_holidays=holidays_form.cleaned_data["closed_on_public_holidays"],
                actor=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            place.refresh_from_db()
            messages.success(
                request,
                _("Horaires enregistrés : %(hours)s.")
                % {
                    "hours": describe_fr(
                        services.weekly_rules(place), place.closed_on_public_holidays
                    )
                },
            )
            return redirect("places:hours", request.structure.slug, place.pk)
    return render(
        request,
        "places/hours.html",
        {
            "nav": "places",
            "place": place,
            "formset": formset,
            "holidays_form": holidays_form,
            "closure_form": ClosureForm(),
            "closures": place.closures.all(),
            "summary": describe_fr(services.weekly_rules(place), place.closed_on_public_holidays),
        },
    )


def _closures_response(request: StaffRequest, place: Place, form: ClosureForm) -> HttpResponse:
    context = {"place": place, "closures": place.closures.all(), "closure_form": form}
    if is_htmx(request):
        return render_fragment(request, "places/_closures.html", context)
    if form.errors:
        return render(request, "places/closure_error.html", {"nav": "places", **context})
    return redirect("places:hours", request.structure.slug, place.pk)


@staff_view("place.edit")
@require_POST
def closure_add(request: StaffRequest, pk: int) -> HttpResponse:
    place = _place(request, pk)
    form = ClosureForm(request.POST)
    if form.is_valid():
        try:
            services.closure_add(place=place, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = ClosureForm()
            messages.success(request, _("Fermeture ajoutée."))
    return _closures_response(request, place, form)


@staff_view("place.edit")
def closure_delete(request: StaffRequest, pk: int, closure_pk: int) -> HttpResponse:
    place = _place(request, pk)
    closure = get_object_or_404(Closure, place=place, pk=closure_pk)
    if request.method == "POST":
        services.closure_delete(closure=closure, actor=request.user)
        messages.success(request, _("Fermeture supprimée."))
        return _closures_response(request, place, ClosureForm())
    return render(
        request,
        "places/closure_confirm_delete.html",
        {"nav": "places", "place": place, "closure": closure},
    )


@staff_view("place.edit")
def place_import(request: StaffRequest) -> HttpResponse:
    """Import places from a national-standard file; all-or-nothing with a per-row report."""
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        with transaction.atomic():
            report = import_places(
                structure=request.structure,
                filename=upload.name,
                content=upload.read(),
                dry_run=bool(request.POST.get("dry_run")),
                actor=request.user,
            )
        if report.ok and not request.POST.get("dry_run"):
            messages.success(
                request,
                _("Import terminé : %(created)d lieu(x) créé(s), %(updated)d mis à jour.")
                % {"created": report.created, "updated": report.updated},
            )
    return render(request, "places/import.html", {"nav": "places", "form": form, "report": report})
