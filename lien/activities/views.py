"""Activity reports: the list (advisors and coordinators), and the advisor's report pages."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lien import journal
from lien.accounts.access import staff_view
from lien.accounts.permissions import can
from lien.accounts.requests import StaffRequest
from lien.activities import selectors, services
from lien.activities.forms import FROM_APPOINTMENT, ActivityForm, FilterForm
from lien.activities.models import Activity, Kind
from lien.appointments import selectors as appointment_selectors
from lien.appointments.forms_staff import advisors_of
from lien.appointments.models import Appointment
from lien.beneficiaries import selectors as beneficiary_selectors
from lien.beneficiaries.models import Beneficiary
from lien.core import params, timefmt
from lien.core.http import render_fragment
from lien.places.models import Place


def _add_errors(form: ActivityForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        form.add_error(None, exc)


@staff_view("activity.view")
def activity_list(request: StaffRequest) -> HttpResponse:
    """Filtered, paginated list; coordinators see it without any person's name."""
    structure = request.structure
    advisors = advisors_of(structure)
    places = Place.objects.of_structure(structure)
    filters = FilterForm(request.GET or None, advisors=advisors, places=places)
    page = selectors.activity_page(structure, request.GET.get("page"), **filters.filters())
    show_names = can(request.membership, "activity.view_names")
    if show_names:
        selectors.attach_people(page.object_list)
        # Names of people were shown: journal which page and filters (not the names).
        journal.record_listing(
            request, action="activity.listed", page=page, filters=filters.filters()
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "activities/list.html",
        {
            "nav": "activities",
            "page": page,
            "filters": filters,
            "show_names": show_names,
            "query": query.urlencode(),
        },
    )


def _appointment(request: StaffRequest) -> Appointment | None:
    """The appointment a report is written for (`?rdv=`); the page names its person, so the
    read is journalled (`appointment.viewed`, page "report")."""
    pk = params.positive_id(request.GET.get("rdv"))
    if pk is None:
        return None
    return appointment_selectors.appointment_for(request.membership, pk, purpose="report")


def _report_form(request: StaffRequest, *, source: Activity | None = None) -> HttpResponse:
    """A new report: blank, from an appointment (a walk-in too), or a copy.

    The remembered defaults are given to the form apart from the initial values, so that it
    shows them as such (see `ActivityForm`); a copy shows the copied report's own values.
    """
    structure = request.structure
    appointment = _appointment(request) if source is None else None
    source_pk = params.positive_id(request.GET.get("depuis"))
    if source is None and source_pk is not None:
        source = selectors.activity_for(request.membership, source_pk, purpose="copy")
    if appointment is not None:
        existing = Activity.objects.filter(appointment=appointment).first()
        if existing is not None:
            messages.info(request, _("Ce rendez-vous a déjà un compte rendu."))
            return redirect("activities:detail", structure.slug, existing.pk)
        if appointment.start > timezone.now():
            messages.error(request, _("Ce rendez-vous n'a pas encore eu lieu."))
            return redirect("agenda:detail", structure.slug, appointment.pk)
    remembered: dict[str, Any] = {}
    if source is not None:
        kind = source.kind
        initial = services.activity_duplicate(activity=source)
    else:
        kind = Kind.COLLECTIVE if request.GET.get("kind") == Kind.COLLECTIVE else Kind.INDIVIDUAL
        initial = {"date": timefmt.today_in(structure)}
        remembered = selectors.defaults_for(user=request.user, structure=structure)
        if appointment is not None:
            kind = Kind.INDIVIDUAL
            initial.update(selectors.initial_from_appointment(appointment))
        elif params.positive_id(request.GET.get("personne")) is not None:
            # From a person's page: the report is about them.
            person = get_object_or_404(
                Beneficiary.objects.of_structure(structure).identified(),
                pk=params.positive_id(request.GET.get("personne")),
            )
            beneficiary_selectors.record_read(request.membership, person, purpose="report")
            initial["participants" if kind == Kind.COLLECTIVE else "beneficiary"] = (
                [person.pk] if kind == Kind.COLLECTIVE else person.pk
            )
    form = ActivityForm(
        request.POST or None,
        structure=structure,
        kind=kind,
        appointment=appointment,
        initial=initial,
        remembered=remembered,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            activity = services.activity_create(
                structure=structure,
                advisor=request.user,
                kind=kind,
                values=form.values(),
                beneficiary=data.get("beneficiary"),
                profile=form.profile(),
                participants=data.get("participants") or [],
                counters=form.counters() if kind == Kind.COLLECTIVE else None,
                appointment=appointment,
                from_contact=bool(data.get("from_contact")),
                anonymous=data.get("beneficiary") is None and not data.get("from_contact"),
                duplicated_from=source,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Compte rendu enregistré."))
            if appointment is not None:
                day = timezone.localdate(appointment.start)
                return redirect(
                    reverse("agenda:agenda", args=[structure.slug])
                    + f"?jour={day:%Y-%m-%d}&vue=jour"
                )
            return redirect("activities:detail", structure.slug, activity.pk)
    match = None
    if "from_contact" in form.fields:
        assert appointment is not None  # the option exists only for an appointment's person
        match = selectors.find_contact_match(appointment)
        if match is not None:
            # The option names the person on record it would take.
            beneficiary_selectors.record_read(request.membership, match, purpose="report")
    return render(
        request,
        "activities/form.html",
        {
            "nav": "activities",
            "form": form,
            "kind": kind,
            "appointment": appointment,
            "match": match,
            "from_appointment": FROM_APPOINTMENT,
            "source": source,
            "activity": None,
        },
    )


PICKER_RESULTS = 15


@staff_view("activity.edit")
def people_search(request: StaffRequest) -> HttpResponse:
    """htmx partial of the report form: people matching a name or phone, to tick or choose.

    The people already chosen (sent back by the form) stay first and checked, so a new
    search never loses them.
    """
    multiple = request.GET.get("champ") == "participants"
    name = "participants" if multiple else "beneficiary"
    records = beneficiary_selectors.beneficiaries_for(request.membership).identified()
    chosen_pks = params.ids(request.GET.getlist(name))
    chosen = list(records.filter(pk__in=chosen_pks)) if chosen_pks else []
    text = params.text(request.GET.get(f"{name}_q"))
    found = []
    if len(text) >= 2:
        found = beneficiary_selectors.search_people(
            request.membership,
            records.exclude(pk__in=chosen_pks),
            text,
            limit=PICKER_RESULTS,
            page="report",
        )
    return render_fragment(
        request,
        "activities/_people.html",
        {
            "name": name,
            "multiple": multiple,
            "chosen": chosen,
            "found": found,
            "searched": len(text) >= 2,
        },
    )


@staff_view("activity.edit")
def activity_create(request: StaffRequest) -> HttpResponse:
    return _report_form(request)


@staff_view("activity.edit")
def activity_duplicate(request: StaffRequest, pk: int) -> HttpResponse:
    return _report_form(
        request, source=selectors.activity_for(request.membership, pk, purpose="copy")
    )


@staff_view("activity.view_notes")
def activity_detail(request: StaffRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_for(request.membership, pk, purpose="detail")
    people = selectors.people_of(activity)
    counters = selectors.counters_of(activity) if activity.kind == Kind.COLLECTIVE else {}
    return render(
        request,
        "activities/detail.html",
        {
            "nav": "activities",
            "activity": activity,
            "people": people,
            "anonymous_total": counters.get("total", 0),
        },
    )


def _edit_initial(activity: Activity) -> dict[str, Any]:
    initial = services.activity_duplicate(activity=activity)
    initial.update(date=activity.date, notes=activity.notes)
    people = selectors.people_of(activity)
    if activity.kind == Kind.COLLECTIVE:
        initial["participants"] = [p.pk for p in people]
        initial["counters"] = selectors.counters_of(activity)
    elif people and people[0].is_identified:
        initial["beneficiary"] = people[0].pk
    elif people:
        row = activity.accompaniments.first()
        initial.update(
            anon_gender=people[0].gender,
            anon_age_band=people[0].age_band,
            anon_social_status=people[0].social_status,
            anon_commune=people[0].commune,
            anon_commune_insee=people[0].commune_insee,
            anon_returning=bool(row and not row.first_time),
        )
    return initial


@staff_view("activity.edit")
def activity_edit(request: StaffRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_for(request.membership, pk, purpose="edit")
    form = ActivityForm(
        request.POST or None,
        structure=request.structure,
        kind=activity.kind,
        initial=_edit_initial(activity),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.activity_update(
                activity=activity,
                actor=request.user,
                values=form.values(),
                beneficiary=data.get("beneficiary"),
                profile=form.profile(),
                participants=data.get("participants") or [],
                counters=form.counters() if activity.kind == Kind.COLLECTIVE else None,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Compte rendu modifié."))
            return redirect("activities:detail", request.structure.slug, activity.pk)
    return render(
        request,
        "activities/form.html",
        {"nav": "activities", "form": form, "kind": activity.kind, "activity": activity},
    )


@staff_view("activity.edit")
def activity_delete(request: StaffRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_for(request.membership, pk, purpose="delete")
    if request.method == "POST":
        services.activity_delete(activity=activity, actor=request.user)
        messages.success(request, _("Compte rendu supprimé."))
        return redirect("activities:list", request.structure.slug)
    return render(request, "activities/delete.html", {"nav": "activities", "activity": activity})
