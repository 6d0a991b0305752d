import datetime as dt
from typing import cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from lien.accounts.access import staff_view
from lien.accounts.models import Membership, Structure
from lien.accounts.permissions import can
from lien.accounts.requests import StaffRequest, StructureRequest
from lien.activities import selectors as activity_selectors
from lien.appointments import selectors as appointment_selectors
from lien.core import params, timefmt
from lien.core.scopes import public_view, run_in_structure, scopes_disabled
from lien.places import opendata
from lien.places.hours import describe_fr, describe_fr_lines
from lien.places.models import Place
from lien.places.services import weekly_rules
from lien.site import selectors


# --- Public site -------------------------------------------------------------------
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The instance's front page: the town's home, or a chooser on a multi-town instance."""
    slug = settings.HOME_STRUCTURE
    structures = list(Structure.objects.all())
    if slug or len(structures) == 1:
        structure = get_object_or_404(Structure, slug=slug) if slug else structures[0]
        timefmt.activate_for(structure)  # no slug in this URL for the middleware to read
        cast(StructureRequest, request).structure = structure
        return run_in_structure(structure, lambda: _structure_home(request, structure))
    return render(request, "site/choose_structure.html", {"structures": structures})


@require_GET
@public_view
def structure_home(request: StructureRequest, structure_slug: str) -> HttpResponse:
    return _structure_home(request, request.structure)


def _structure_home(request: HttpRequest, structure: Structure) -> HttpResponse:
    return render(
        request,
        "site/home.html",
        {
            "structure": structure,
            "nav": "home",
            "upcoming": selectors.upcoming_visits(structure),
        },
    )


@require_GET
@public_view
def week(request: StructureRequest, structure_slug: str) -> HttpResponse:
    """Où trouver le conseiller cette semaine ? Any week via ?semaine=YYYY-MM-DD."""
    structure = request.structure
    today = selectors.local_today(structure)
    chosen = params.day(request.GET.get("semaine")) or today
    monday = chosen - dt.timedelta(days=chosen.weekday())
    return render(
        request,
        "site/week.html",
        {
            "structure": structure,
            "nav": "week",
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "is_current": monday <= today <= monday + dt.timedelta(days=6),
            "days": selectors.week_days(structure, monday),
            "previous": monday - dt.timedelta(weeks=1),
            "next": monday + dt.timedelta(weeks=1),
        },
    )


@require_GET
@public_view
def places(request: StructureRequest, structure_slug: str) -> HttpResponse:
    structure = request.structure
    items = Place.objects.published().of_structure(structure).prefetch_related("opening_rules")
    motifs = selectors.bookable_motifs_by_place(structure)
    return render(
        request,
        "site/places.html",
        {
            "structure": structure,
            "nav": "places",
            "places": [
                (
                    p,
                    describe_fr(weekly_rules(p), p.closed_on_public_holidays),
                    motifs.get(p.pk, []),
                )
                for p in items
            ],
        },
    )


@require_GET
@public_view
def place_detail(request: StructureRequest, structure_slug: str, place_slug: str) -> HttpResponse:
    structure = request.structure
    place = get_object_or_404(Place.objects.published().of_structure(structure), slug=place_slug)
    today = selectors.local_today(structure)
    return render(
        request,
        "site/place.html",
        {
            "structure": structure,
            "nav": "places",
            "place": place,
            "hours": describe_fr_lines(weekly_rules(place), place.closed_on_public_holidays),
            "closures": place.closures.filter(end_date__gte=today),
            "visits": selectors.place_visits(structure, place),
            "motifs": selectors.bookable_motifs_by_place(structure).get(place.pk, []),
        },
    )


@require_GET
@cache_control(max_age=3600, public=True)
@public_view
def theme(request: StructureRequest, structure_slug: str) -> HttpResponse:
    """The structure's colour as a stylesheet, so pages need no inline style (strict CSP)."""
    structure = request.structure
    css = f":root {{ --brand: {structure.colour}; }}\n"
    return HttpResponse(css, content_type="text/css; charset=utf-8")


@require_GET
def opendata_csv(request: HttpRequest) -> HttpResponse:
    # The national open data: every structure's published places, on purpose.
    with scopes_disabled():
        body = opendata.export_csv(opendata.export_queryset())
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="lieux-de-mediation-numerique.csv"'
    return response


@require_GET
def opendata_json(request: HttpRequest) -> HttpResponse:
    # The national open data: every structure's published places, on purpose.
    with scopes_disabled():
        rows = opendata.export_json(opendata.export_queryset())
    return JsonResponse(
        rows,
        safe=False,
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and monitoring: 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "time": timezone.now().isoformat()})


# --- Staff shell ---------------------------------------------------------------------
@login_required
def staff_home(request: HttpRequest) -> HttpResponse:
    """After sign-in: the member's structure, or the list when they work for several."""
    memberships = list(Membership.objects.for_user(request.user).select_related("structure"))
    if len(memberships) == 1:
        return redirect("site:staff_dashboard", memberships[0].structure.slug)
    return render(request, "site/staff_home.html", {"memberships": memberships})


@staff_view()
def staff_dashboard(request: StaffRequest) -> HttpResponse:
    """« Aujourd’hui »: the day's appointments per place with their one-tap statuses, the
    member's next presence, walk-in and booking, the reports still to write, then the week."""
    structure = request.structure
    membership = request.membership
    today = selectors.local_today(structure)
    monday = today - dt.timedelta(days=today.weekday())
    reports, reports_total = activity_selectors.reports_to_write(membership)
    return render(
        request,
        "site/staff_dashboard.html",
        {
            "nav": "dashboard",
            "today": today,
            "now": timezone.now(),
            "groups": appointment_selectors.today_for(membership, today),
            "holds_presence": can(membership, "presence.hold"),
            "presence": (
                selectors.next_presence(structure, request.user)
                if can(membership, "presence.hold")
                else None
            ),
            "can_record": can(membership, "appointment.record_status"),
            "can_report": can(membership, "activity.edit"),
            "reports": reports,
            "reports_total": reports_total,
            "days": selectors.week_days(structure, monday),
            "place_count": Place.objects.of_structure(structure).count(),
        },
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A value we cannot read (a date, an id, a NUL byte): French page, nothing changed."""
    return render(request, "400.html", status=400)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
