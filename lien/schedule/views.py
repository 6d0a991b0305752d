from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from lien.accounts.access import staff_view
from lien.accounts.permissions import can
from lien.accounts.requests import StaffRequest
from lien.schedule import services
from lien.schedule.forms import PresenceExceptionForm, PresenceForm
from lien.schedule.models import Presence, PresenceException


def _editable(request: StaffRequest):
    """Presences this member may change: anybody's (coordination) or their own (advisors)."""
    presences = Presence.objects.of_structure(request.structure)
    if not can(request.membership, "presence.edit_any"):
        presences = presences.filter(advisor=request.user)
    return presences


@staff_view()
def presence_list(request: StaffRequest) -> HttpResponse:
    presences = (
        Presence.objects.of_structure(request.structure)
        .select_related("advisor", "place")
        .prefetch_related("exceptions")
        .order_by("advisor__first_name", "weekday", "start")
    )
    return render(
        request,
        "schedule/list.html",
        {
            "nav": "schedule",
            "presences": presences,
            "can_edit_all": can(request.membership, "presence.edit_any"),
            "can_edit_own": can(request.membership, "presence.edit_own"),
        },
    )


def _form_view(request: StaffRequest, presence: Presence | None) -> HttpResponse:
    form = PresenceForm(
        request.POST or None,
        instance=presence,
        structure=request.structure,
        membership=request.membership,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.presence_save(
                structure=request.structure, presence=form.save(commit=False), actor=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Présence enregistrée."))
            return redirect("schedule:list", request.structure.slug)
    return render(
        request, "schedule/form.html", {"nav": "schedule", "form": form, "presence": presence}
    )


@staff_view("presence.edit_own")
def presence_create(request: StaffRequest) -> HttpResponse:
    return _form_view(request, None)


@staff_view("presence.edit_own")
def presence_edit(request: StaffRequest, pk: int) -> HttpResponse:
    return _form_view(request, get_object_or_404(_editable(request), pk=pk))


@staff_view("presence.edit_own")
def presence_delete(request: StaffRequest, pk: int) -> HttpResponse:
    presence = get_object_or_404(_editable(request), pk=pk)
    if request.method == "POST":
        services.presence_delete(presence=presence, actor=request.user)
        messages.success(request, _("Présence supprimée du planning."))
        return redirect("schedule:list", request.structure.slug)
    return render(
        request, "schedule/confirm_delete.html", {"nav": "schedule", "presence": presence}
    )


@staff_view("presence.edit_own")
def exception_add(request: StaffRequest, pk: int) -> HttpResponse:
    """Cancel one date of a presence (leave, training…): it disappears from the public pages."""
    presence = get_object_or_404(_editable(request), pk=pk)
    form = PresenceExceptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.presence_exception_add(
                presence=presence, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Cette date est annulée."))
            return redirect("schedule:list", request.structure.slug)
    return render(
        request,
        "schedule/exception_form.html",
        {"nav": "schedule", "form": form, "presence": presence},
    )


@staff_view("presence.edit_own")
def exception_delete(request: StaffRequest, pk: int, exception_pk: int) -> HttpResponse:
    presence = get_object_or_404(_editable(request), pk=pk)
    exception = get_object_or_404(PresenceException, presence=presence, pk=exception_pk)
    if request.method == "POST":
        services.presence_exception_delete(exception=exception, actor=request.user)
        messages.success(request, _("La date est rétablie."))
        return redirect("schedule:list", request.structure.slug)
    return render(
        request,
        "schedule/exception_confirm_delete.html",
        {"nav": "schedule", "presence": presence, "exception": exception},
    )
