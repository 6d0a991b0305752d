"""Booking by residents, without an account, without JavaScript.

At most four screens: what (motif) → where (place, skipped when there is no choice) → when
(the next free times, then the days with free times, each a link to that day's times) → who
(a short form). A place's public page starts at « what » with that place chosen (`?lieu=`).
The confirmation is the resident's private page `/rdv/<token>/`, the link every message
carries: see, cancel or move the appointment there.
"""

import datetime as dt
from dataclasses import dataclass
from functools import wraps
from typing import cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from lien.accounts.models import Structure
from lien.accounts.requests import StructureRequest
from lien.appointments.forms_public import HONEYPOT, BookingForm
from lien.appointments.models import Appointment, LocationType, Motif, Status
from lien.appointments.notifications import sms_enabled
from lien.appointments.selectors import bookable_places, distinct_times, free_days, slots_for
from lien.appointments.services import (
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_move,
)
from lien.appointments.slots import Slot
from lien.core import params, timefmt
from lien.core.http import rate_limit_key, rate_limited
from lien.core.scopes import public_view, run_in_structure, scopes_disabled
from lien.places.models import Place

SOON = 6  # the next free times shown first, above the list of days
ALTERNATIVES = 3  # times offered when the chosen one is gone
LINK_VALID_AFTER_END = dt.timedelta(days=1)
BOOKING_RATE = "10/h"  # booking POSTs per client address
CHANGE_RATE = "20/h"  # cancel and move POSTs per client address


# --- Helpers --------------------------------------------------------------------------
def private(view):
    """The resident's pages: never cached, never indexed (the URL is the key)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return never_cache(wrapped)


def _motif(structure: Structure, motif_pk: int) -> Motif:
    """An active motif of this structure (another structure's motif is not found here)."""
    return get_object_or_404(Motif.objects.of_structure(structure).filter(active=True), pk=motif_pk)


def _place(motif: Motif, place_pk: int) -> Place | None:
    """The published place chosen for an on-site motif; 0 (no place) for the others."""
    if motif.location_type != LocationType.PUBLIC_OFFICE:
        if place_pk != 0:
            raise Http404
        return None
    return get_object_or_404(_places(motif), pk=place_pk)


def _places(motif: Motif):
    """The published places of the motif's own structure where it is offered."""
    return bookable_places(motif).filter(structure=motif.structure)


def _shows_place_step(motif: Motif) -> bool:
    return motif.location_type == LocationType.PUBLIC_OFFICE and _places(motif).count() > 1


def day_label(day: dt.date, today: dt.date) -> str:
    if day == today:
        return _("Aujourd’hui")
    if day == today + dt.timedelta(days=1):
        return _("Demain")
    return timefmt.long_date(day).capitalize()


def iso(moment: dt.datetime) -> str:
    """A time as it travels in URLs and forms: local, to the minute, with its offset."""
    return timefmt.iso_minutes(moment)


def parse_start(value: str | None) -> dt.datetime | None:
    """The `debut` parameter back to an aware datetime; None when garbled."""
    return params.instant(value)


@dataclass
class Time:
    """One time a resident can pick."""

    start: dt.datetime  # local
    end: dt.datetime  # local
    value: str
    index: int  # 1-based, for anchors
    label: str  # the day, for screen readers next to the hour


@dataclass
class Day:
    label: str
    date: dt.date
    times: list[Time]


def as_times(slots: list[Slot], first_index: int = 1) -> list[Time]:
    today = timezone.localdate()
    out = []
    for i, slot in enumerate(slots, start=first_index):
        start = timefmt.local(slot.start)
        out.append(
            Time(
                start=start,
                end=timefmt.local(slot.end),
                value=iso(slot.start),
                index=i,
                label=day_label(start.date(), today),
            )
        )
    return out


def by_day(times: list[Time]) -> list[Day]:
    days: list[Day] = []
    for time in times:
        if not days or days[-1].date != time.start.date():
            days.append(Day(label=time.label, date=time.start.date(), times=[]))
        days[-1].times.append(time)
    return days


@dataclass
class DayChoice:
    """A day with free times, in the list residents pick a day from."""

    date: dt.date
    label: str  # « Lundi 7 décembre »
    count: int  # free times that day
    value: str  # the `jour` parameter


def _day_choice_label(day: dt.date, today: dt.date) -> str:
    """« Lundi 7 décembre »; « Demain, mercredi 2 décembre » (a list of days needs the date)."""
    near = day_label(day, today)
    long = timefmt.long_date(day)
    return long.capitalize() if near == long.capitalize() else f"{near}, {long}"


def _times_page(request: HttpRequest, slots: list[Slot]) -> tuple[dict, int]:
    """What the times screen shows, from one computation of the free times: the next SOON
    of them, then every day that has some (with its count), each a link to `?jour=`; with
    `?jour=` that day's times instead, the days again below. A day without free time (past,
    beyond the motif's horizon, or taken meanwhile) says so; a garbled one answers 400."""
    grouped = free_days(slots)
    today = timezone.localdate()
    raw = request.GET.get("jour")
    chosen = params.day(raw) if raw is not None else None
    status = 200
    problem = ""
    if raw is None:
        shown = slots[:SOON]
    elif chosen is None:
        problem = _("Cette date n’est pas reconnue. Choisissez un jour dans la liste.")
        shown = []
        status = 400
    elif chosen not in grouped:
        problem = _("Plus de créneau libre ce jour-là. Choisissez un autre jour.")
        shown = []
    else:
        shown = grouped[chosen]
    return {
        "days": by_day(as_times(shown)),
        "day_choices": [
            DayChoice(
                date=day, label=_day_choice_label(day, today), count=len(items), value=str(day)
            )
            for day, items in grouped.items()
        ],
        "chosen_day": chosen if raw is not None and not problem else None,
        "day_problem": problem,
    }, status


def _phone_only(request: HttpRequest, structure: Structure, motif: Motif) -> HttpResponse:
    """A motif the service takes by phone only: say so, give the number, book nothing."""
    return render(
        request,
        "appointments/public/phone_only.html",
        {"structure": structure, "motif": motif},
        status=200 if request.method == "GET" else 403,
    )


def _times_url(
    structure: Structure, motif: Motif, place: Place | None, day: dt.date | None = None
) -> str:
    url = reverse("booking:slots", args=[structure.slug, motif.pk, place.pk if place else 0])
    return f"{url}?{urlencode({'jour': day.isoformat()})}" if day else url


def _book_url(structure: Structure, motif: Motif, place: Place | None, start=None) -> str:
    url = reverse("booking:book", args=[structure.slug, motif.pk, place.pk if place else 0])
    return f"{url}?{urlencode({'debut': start})}" if start else url


def _back_from_times(structure: Structure, motif: Motif) -> str:
    if _shows_place_step(motif):
        return reverse("booking:place", args=[structure.slug, motif.pk])
    return reverse("booking:start", args=[structure.slug])


# --- Screen 1: what -------------------------------------------------------------------
@require_GET
@public_view
def start(request: StructureRequest, structure_slug: str) -> HttpResponse:
    """« De quoi avez-vous besoin ? »: the motifs residents may book, as big choices.

    `?lieu=<id>` (« Prendre rendez-vous ici » on a place's page): only the motifs offered at
    that place, each straight to its times there; with one motif, its times at once."""
    structure = request.structure
    motifs = Motif.objects.of_structure(structure).bookable_online()
    at = None
    if "lieu" in request.GET:
        at = get_object_or_404(
            Place.objects.published().of_structure(structure),
            pk=params.positive_id(request.GET.get("lieu")) or 0,
        )
        motifs = motifs.filter(location_type=LocationType.PUBLIC_OFFICE, places=at)
        if len(motifs) == 1:
            return redirect(_times_url(structure, motifs[0], at))
    return render(
        request,
        "appointments/public/start.html",
        {"structure": structure, "motifs": motifs, "at": at},
    )


# --- Screen 2: where ------------------------------------------------------------------
@require_GET
@public_view
def place(request: StructureRequest, structure_slug: str, motif_pk: int) -> HttpResponse:
    """« Où ? » for on-site motifs; straight to the times when there is nothing to choose."""
    structure = request.structure
    motif = _motif(structure, motif_pk)
    if not motif.bookable_by_residents:
        return _phone_only(request, structure, motif)
    if motif.location_type != LocationType.PUBLIC_OFFICE:
        return redirect(_times_url(structure, motif, None))
    places = list(_places(motif).order_by("name"))
    if len(places) == 1:
        return redirect(_times_url(structure, motif, places[0]))
    first_free: dict[int | None, Time] = {}
    for slot in slots_for(motif):
        if slot.place_id not in first_free:
            first_free[slot.place_id] = as_times([slot])[0]
    return render(
        request,
        "appointments/public/place.html",
        {
            "structure": structure,
            "motif": motif,
            "places": [(p, first_free.get(p.pk)) for p in places],
        },
    )


# --- Screen 3: when -------------------------------------------------------------------
@require_GET
@public_view
def slots(
    request: StructureRequest, structure_slug: str, motif_pk: int, place_pk: int
) -> HttpResponse:
    """The next free times, then the days with free times (`?jour=` shows one day's)."""
    structure = request.structure
    motif = _motif(structure, motif_pk)
    if not motif.bookable_by_residents:
        return _phone_only(request, structure, motif)
    chosen_place = _place(motif, place_pk)
    free = distinct_times(slots_for(motif, place=chosen_place))
    times, status = _times_page(request, free)
    return render(
        request,
        "appointments/public/slots.html",
        {
            "structure": structure,
            "motif": motif,
            "place": chosen_place,
            "book_url": _book_url(structure, motif, chosen_place),
            "back_url": _back_from_times(structure, motif),
            **times,
        },
        status=status,
    )


# --- Screen 4: who --------------------------------------------------------------------
def _service_errors(form: BookingForm, exc: ValidationError) -> None:
    """Put the service's French messages on the form (on the field when it has one)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error.messages)
    else:
        form.add_error(None, exc.messages)


@private
@require_http_methods(["GET", "POST"])
@ratelimit(group="booking", key=rate_limit_key, rate=BOOKING_RATE, method="POST", block=False)
@public_view
def book(
    request: StructureRequest, structure_slug: str, motif_pk: int, place_pk: int
) -> HttpResponse:
    """The short form for the chosen time; POST books it or explains why not."""
    if getattr(request, "limited", False):
        return rate_limited(request)
    structure = request.structure
    motif = _motif(structure, motif_pk)
    if not motif.bookable_by_residents:
        return _phone_only(request, structure, motif)
    chosen_place = _place(motif, place_pk)
    raw = request.POST.get("debut") or request.GET.get("debut", "")
    chosen = parse_start(raw)
    alternatives: list[Slot] = []
    problem = ""  # why the chosen time cannot be booked, when it cannot
    status = 200
    if request.method == "POST":
        if HONEYPOT in request.POST and (request.POST.get(HONEYPOT) or "").strip():
            # A robot filled the hidden field: book nothing, say something neutral, and give
            # a person (whose browser filled it by mistake) the form back, honeypot emptied.
            data = request.POST.copy()
            data[HONEYPOT] = ""
            form = BookingForm(data, motif=motif)
            form.is_valid()
            form.add_error(
                None,
                _(
                    "Votre demande n’a pas pu être envoyée. Vérifiez vos informations et "
                    "réessayez, ou appelez-nous."
                ),
            )
            status = 400
        else:
            form = BookingForm(request.POST, motif=motif)
            if chosen is None:
                problem = _("Choisissez un horaire dans la liste.")
                alternatives = distinct_times(slots_for(motif, place=chosen_place))[:ALTERNATIVES]
                form.is_valid()
                status = 400
            elif form.is_valid():
                cleaned = form.cleaned_data
                try:
                    appointment = appointment_book(
                        motif=motif,
                        start=chosen,
                        place=chosen_place,
                        first_name=cleaned["first_name"],
                        last_name=cleaned["last_name"],
                        phone=cleaned["phone"],
                        email=cleaned["email"],
                        note=cleaned["note"],
                        address=cleaned.get("address", ""),
                        channel="online",
                        actor=None,
                    )
                except SlotTaken as exc:
                    problem = _("Ce créneau vient d’être réservé.")
                    alternatives = list(exc.alternatives)
                    status = 409
                except ValidationError as exc:
                    _service_errors(form, exc)
                    status = 400
                else:
                    messages.success(request, _("C’est réservé ! Voici votre rendez-vous."))
                    return redirect("booking:manage", appointment.token)
            else:
                status = 400
    else:
        form = BookingForm(motif=motif)
        free = distinct_times(slots_for(motif, place=chosen_place))
        if chosen is None or not any(s.start == chosen for s in free):
            problem = (
                _("Choisissez un horaire dans la liste.")
                if chosen is None
                else _("Cet horaire n’est plus libre.")
            )
            alternatives = free[:ALTERNATIVES]
    chosen_time = None
    if chosen is not None and not problem:
        chosen_time = as_times([Slot(chosen, chosen + dt.timedelta(minutes=motif.duration), 0)])[0]
    return render(
        request,
        "appointments/public/book.html",
        {
            "structure": structure,
            "motif": motif,
            "place": chosen_place,
            "form": form,
            "chosen": chosen_time,
            "debut": raw if chosen is not None else "",
            "problem": problem,
            "alternatives": as_times(alternatives),
            # Back to the chosen time's day, where the other times of that day are.
            "times_url": _times_url(
                structure, motif, chosen_place, chosen_time.start.date() if chosen_time else None
            ),
            "is_home": motif.location_type == LocationType.HOME,
        },
        status=status,
    )


# --- The resident's private page ----------------------------------------------------------
UPCOMING, STARTED, CANCELLED, EXPIRED = "upcoming", "started", "cancelled", "expired"


class ResidentRequest(HttpRequest):
    """A request through a resident's private link (`resident_link`)."""

    appointment: Appointment


def resident_link(view):
    """A resident's private page: the token finds the appointment in whichever structure it
    is (404 for a wrong, forged or garbled token, checked before any row is read), then the
    page runs in that structure's scope and time zone, with `request.appointment` set."""

    @wraps(view)
    def wrapped(request: HttpRequest, token: str, *args, **kwargs) -> HttpResponse:
        with scopes_disabled():
            appointment = Appointment.objects.select_related(
                "structure", "motif", "place", "advisor"
            ).by_token(token)
        if appointment is None:
            raise Http404
        timefmt.activate_for(appointment.structure)
        cast(ResidentRequest, request).appointment = appointment
        return run_in_structure(
            appointment.structure, lambda: view(request, token, *args, **kwargs)
        )

    return wrapped


def _state(appointment: Appointment) -> str:
    now = timezone.now()
    if now > appointment.end + LINK_VALID_AFTER_END:
        return EXPIRED
    if not appointment.is_active:
        return CANCELLED
    if appointment.status == Status.UNKNOWN and appointment.start > now:
        return UPCOMING
    return STARTED


def _context(appointment: Appointment, **extra) -> dict:
    return {
        "structure": appointment.structure,
        "appointment": appointment,
        "state": _state(appointment),
        "start": timefmt.local(appointment.start),
        "end": timefmt.local(appointment.end),
        "booking_url": reverse("booking:start", args=[appointment.structure.slug]),
        **extra,
    }


def _expired(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    return render(request, "appointments/public/expired.html", _context(appointment), status=410)


@private
@require_GET
@resident_link
def manage(request: ResidentRequest, token: str) -> HttpResponse:
    """What, when, where, with whom, what to bring; cancel or change while it is ahead."""
    appointment = request.appointment
    if _state(appointment) == EXPIRED:
        return _expired(request, appointment)
    return render(
        request,
        "appointments/public/manage.html",
        _context(
            appointment,
            # How the resident keeps this link: the messages carry it (the channels
            # notifications.schedule_for uses), and the printed page shows it.
            sent_by_email=bool(appointment.email),
            sent_by_sms=bool(appointment.phone) and sms_enabled(),
            page_url=request.build_absolute_uri(),
        ),
    )


@private
@require_GET
@resident_link
def short_link(request: ResidentRequest, token: str) -> HttpResponse:
    """`/r/<token>`, the form of the private link an SMS carries (shorter by a few
    characters, an SMS has 160): the same token checks, then on to the page itself."""
    return redirect("booking:manage", token)


@private
@require_http_methods(["GET", "POST"])
@ratelimit(group="booking-change", key=rate_limit_key, rate=CHANGE_RATE, method="POST", block=False)
@resident_link
def cancel(request: ResidentRequest, token: str) -> HttpResponse:
    """Ask for confirmation; POST cancels (the time is free again at once)."""
    if getattr(request, "limited", False):
        return rate_limited(request)
    appointment = request.appointment
    state = _state(appointment)
    if state == EXPIRED:
        return _expired(request, appointment)
    if state != UPCOMING:
        return redirect("booking:manage", token)
    if request.method == "POST":
        try:
            appointment_cancel(appointment=appointment, actor=None)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("booking:manage", token)
    return render(request, "appointments/public/cancel.html", _context(appointment))


@private
@require_http_methods(["GET", "POST"])
@ratelimit(group="booking-change", key=rate_limit_key, rate=CHANGE_RATE, method="POST", block=False)
@resident_link
def move(request: ResidentRequest, token: str) -> HttpResponse:
    """Other free times of the same motif and place; pick one, confirm, it moves."""
    if getattr(request, "limited", False):
        return rate_limited(request)
    appointment = request.appointment
    state = _state(appointment)
    if state == EXPIRED:
        return _expired(request, appointment)
    if state != UPCOMING:
        return redirect("booking:manage", token)
    raw = request.POST.get("debut") or request.GET.get("debut", "")
    chosen = parse_start(raw)
    problem = ""
    status = 200
    if chosen is not None and chosen == appointment.start:
        return redirect("booking:manage", token)  # the same time: nothing to change
    if request.method == "POST":
        if chosen is None:
            problem = _("Choisissez un horaire dans la liste.")
            status = 400
        else:
            try:
                appointment_move(appointment=appointment, start=chosen, actor=None)
            except SlotTaken:
                problem = _("Ce créneau vient d’être réservé.")
                status = 409
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("booking:manage", token)
            else:
                messages.success(request, _("C’est noté : votre rendez-vous a changé d’horaire."))
                return redirect("booking:manage", token)
    free = [
        s
        for s in distinct_times(
            slots_for(appointment.motif, place=appointment.place, exclude_pk=appointment.pk)
        )
        if s.start != appointment.start
    ]
    times, day_status = _times_page(request, free)
    if request.method == "GET" and chosen is not None:
        if any(s.start == chosen for s in free):
            new = as_times([Slot(chosen, chosen + (appointment.end - appointment.start), 0)])[0]
            return render(
                request,
                "appointments/public/move_confirm.html",
                _context(appointment, new=new, debut=raw),
            )
        problem = _("Cet horaire n’est plus libre.")
    return render(
        request,
        "appointments/public/move.html",
        _context(appointment, problem=problem, **times),
        status=status if status != 200 else day_status,
    )
