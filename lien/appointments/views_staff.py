"""Staff side of appointments: agenda, booking on a resident's behalf, statuses, motifs."""

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lien import journal
from lien.accounts.access import staff_view
from lien.accounts.models import User
from lien.accounts.permissions import can
from lien.accounts.requests import StaffRequest
from lien.activities.models import Activity
from lien.appointments import selectors, services
from lien.appointments.forms_staff import (
    AbsenceForm,
    MotifForm,
    StaffBookingForm,
    StatusForm,
    WalkInForm,
    advisors_of,
    on_site_motifs,
)
from lien.appointments.models import (
    Absence,
    Appointment,
    Channel,
    LocationType,
    MessageState,
    Motif,
    Status,
)
from lien.appointments.selectors import distinct_times, free_days, slots_for
from lien.beneficiaries import selectors as beneficiary_selectors
from lien.core import params, timefmt
from lien.core.validators import display_phone
from lien.journal import actions
from lien.journal.models import JournalEntry
from lien.places.models import Place
from lien.schedule.selectors import occurrences_between

# Journal actions that record a reading, not a change: left out of an appointment's history.
READ_ACTIONS = actions.names(kind=actions.READ)


def _appointment(request: StaffRequest, pk: int, *, purpose: str) -> Appointment:
    return selectors.appointment_for(request.membership, pk, purpose=purpose)


def _day(value: str | None) -> dt.date:
    return params.day(value) or timezone.localdate()


def _person_step(request: StaffRequest, page: str):
    """The « La personne » step of booking and walk-in: the person chosen (`?personne=`, a
    journalled read), else the search typed (`?qui=`) and the people it found (journalled)."""
    membership = request.membership
    person = beneficiary_selectors.person_to_pick(
        membership, params.positive_id(request.GET.get("personne")), purpose=page
    )
    query = "" if person else params.text(request.GET.get("qui"))
    found = None if person else beneficiary_selectors.people_to_pick(membership, query, page=page)
    return person, query, found


@staff_view()
def agenda(request: StaffRequest) -> HttpResponse:
    """Day or week agenda, per advisor or per place, with a search by name or phone."""
    structure = request.structure
    day = _day(request.GET.get("jour"))
    week = request.GET.get("vue") != "jour"
    start = day - dt.timedelta(days=day.weekday()) if week else day
    end = start + dt.timedelta(days=7 if week else 1)
    tz = timezone.get_current_timezone()
    items = (
        Appointment.objects.of_structure(structure)
        .select_related("motif", "place", "advisor", "activity")
        .filter(
            start__gte=dt.datetime.combine(start, dt.time(), tzinfo=tz),
            start__lt=dt.datetime.combine(end, dt.time(), tzinfo=tz),
        )
    )
    advisor_pk = params.positive_id(request.GET.get("conseiller"))
    place_pk = params.positive_id(request.GET.get("lieu"))
    advisor_id = str(advisor_pk or "")
    place_id = str(place_pk or "")
    if advisor_pk:
        items = items.filter(advisor_id=advisor_pk)
    if place_pk:
        items = items.filter(place_id=place_pk)
    membership = request.membership
    query = params.text(request.GET.get("q"))
    if not can(membership, "beneficiary.search"):
        query = ""  # coordinators see no identity, so they search none
    if query:
        # A search looks at every date, not only this week.
        items = (
            Appointment.objects.of_structure(structure)
            .select_related("motif", "place", "advisor", "activity")
            .filter(
                Q(first_name__icontains=query)
                | Q(last_name__icontains=query)
                | Q(phone__icontains=query.replace(" ", "").lstrip("0"))
                | Q(email__icontains=query)
            )
            .order_by("-start")[:100]
        )
    days = []
    if query:
        results = list(items)
        # That a search happened, how many it found; never the words typed (a name).
        journal.record(
            structure=structure,
            action="appointment.searched",
            actor=request.user,
            data={"results": len(results)},
        )
    else:
        results = None
        listed = list(items)
        days = [
            (
                start + dt.timedelta(days=i),
                [a for a in listed if timezone.localdate(a.start) == start + dt.timedelta(days=i)],
            )
            for i in range((end - start).days)
        ]
    response = render(
        request,
        "appointments/staff/agenda.html",
        {
            "nav": "agenda",
            "day": day,
            "week": week,
            "days": days,
            "query": query,
            "results": results,
            "previous": start - dt.timedelta(days=7 if week else 1),
            "next": end if week else start + dt.timedelta(days=1),
            "advisors": advisors_of(structure),
            "places": Place.objects.of_structure(structure),
            "advisor_id": advisor_id,
            "place_id": place_id,
            "now": timezone.now(),
            "can_record": can(membership, "appointment.record_status"),
            "can_report": can(membership, "activity.edit"),
        },
    )
    if not query and can(membership, "beneficiary.view_identity"):
        _journal_listing(request, days, week)
    return response


def _journal_listing(request: StaffRequest, days, week: bool) -> None:
    """A page of names was shown: which days and filters, never the names."""
    shown = [a for _day, items in days for a in items]
    if not shown:
        return
    journal.record(
        structure=request.structure,
        action="appointment.listed",
        actor=request.user,
        data={
            "from": days[0][0].isoformat(),
            "view": "semaine" if week else "jour",
            "shown": len(shown),
            "filters": {
                key: pk
                for key in ("conseiller", "lieu")
                if (pk := params.positive_id(request.GET.get(key)))
            },
        },
    )


# Booking on behalf shows this many days of free times at once, and lists this many days.
DAYS_SHOWN = 3
DAYS_LISTED = 14


def _query(**values: object) -> str:
    """A query string of the values given (None and "" left out)."""
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})


@staff_view("appointment.book_for")
def book(request: StaffRequest) -> HttpResponse:
    """Book on a resident's behalf (the reception taking a phone call): the person (found in
    the records as one types, or typed at the end) → motif → place → day and advisor → time.

    Every step is a GET link or form carrying the earlier choices, so it works without
    JavaScript; htmx only fills the people found as the member types.
    """
    structure = request.structure
    motifs = Motif.objects.of_structure(structure).filter(active=True).prefetch_related("places")
    motif = None
    place = None
    motif_pk = params.positive_id(request.GET.get("motif"))
    if motif_pk:
        motif = get_object_or_404(motifs, pk=motif_pk)
    if motif and motif.location_type == LocationType.PUBLIC_OFFICE:
        offered = motif.places.all()
        place_pk = params.positive_id(request.GET.get("lieu"))
        if place_pk:
            place = get_object_or_404(offered, pk=place_pk)
        elif offered.count() == 1:
            place = offered.first()
    ready = motif is not None and (
        place is not None or motif.location_type != LocationType.PUBLIC_OFFICE
    )
    start = params.instant(request.GET.get("debut") or request.POST.get("debut"))
    # A person on record (chosen with the picker, or from their page): contact filled in,
    # the appointment linked to their record. Showing them is a read, journalled there.
    person, query, found = _person_step(request, "appointment.book")
    advisor = None
    advisor_pk = params.positive_id(request.GET.get("conseiller"))
    if advisor_pk:
        advisor = get_object_or_404(advisors_of(structure), pk=advisor_pk)
    initial = {}
    if person is not None:
        initial = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "phone": display_phone(person.phone) if person.phone else "",
            "email": person.email,
        }
    form = StaffBookingForm(request.POST or None, initial=initial)
    alternatives = []
    if request.method == "POST" and motif is not None and ready and start and form.is_valid():
        try:
            appointment = services.appointment_book(
                motif=motif,
                start=start,
                place=place,
                channel=Channel.STAFF,
                actor=request.user,
                beneficiary=person,
                advisor=advisor,
                **form.cleaned_data,
            )
        except services.SlotTaken as exc:
            messages.error(request, str(exc))
            alternatives = exc.alternatives
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Rendez-vous enregistré pour %(name)s, %(when)s.")
                % {
                    "name": appointment.first_name,
                    "when": timefmt.when(appointment.start),
                },
            )
            return redirect("agenda:detail", structure.slug, appointment.pk)
    chosen = {
        "motif": motif.pk if motif else None,
        "lieu": place.pk if place else None,
        "personne": person.pk if person else None,
        "conseiller": advisor.pk if advisor else None,
    }
    context = {
        "nav": "agenda",
        "motifs": motifs,
        "motif": motif,
        "place": place,
        "places": motif.places.all() if motif else [],
        "ready": ready,
        "start": start,
        "form": form,
        "alternatives": alternatives,
        "person": person,
        "query": query,
        "found": found,
        "advisor": advisor,
        "keep": f"&personne={person.pk}" if person else "",
        # What the person search carries along (the steps chosen so far).
        "carry": [
            (key, value)
            for key, value in {
                **chosen,
                "debut": request.GET.get("debut") if start else None,
                "jour": request.GET.get("jour") if params.day(request.GET.get("jour")) else None,
            }.items()
            if value not in (None, "")
        ],
        "without_person": _query(**{**chosen, "personne": None}),
        "without_motif": _query(personne=person.pk if person else None),
        "slot_query": _query(**chosen),
    }
    if ready and motif is not None and not start:
        context.update(_free_times(request, motif, place, advisor))
    return render(request, "appointments/staff/book.html", context)


def _free_times(
    request: StaffRequest, motif: Motif, place: Place | None, advisor: User | None
) -> dict:
    """The book page's times: from the day asked for (or today), the next DAYS_SHOWN days
    with free times under a heading each, the days before and after, the next DAYS_LISTED
    days with free times, and the advisors free on any of them."""
    slots = slots_for(motif, place=place, staff=True)
    advisor_ids = {s.advisor_id for s in slots}
    if advisor is not None:
        slots = [s for s in slots if s.advisor_id == advisor.pk]
    # One time per start: whichever advisor is free then will do.
    days = list(free_days(distinct_times(slots)).items())
    today = timezone.localdate()
    first = max(params.day(request.GET.get("jour")) or today, today)
    upcoming = [(day, times) for day, times in days if day >= first]
    earlier = [day for day, _times in days if day < first]
    return {
        "day": first,
        "today": today,
        "last_day": today + dt.timedelta(days=motif.max_delay_days),
        "days": upcoming[:DAYS_SHOWN],
        "previous_day": earlier[-1] if earlier else None,
        "next_day": upcoming[1][0] if len(upcoming) > 1 else None,
        "listed": days[:DAYS_LISTED],
        "advisors": [
            a for a in advisors_of(request.structure) if a.pk in advisor_ids or a == advisor
        ],
    }


@staff_view()
def detail(request: StaffRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk, purpose="detail")
    membership = request.membership
    return render(
        request,
        "appointments/staff/detail.html",
        {
            "nav": "agenda",
            "appointment": appointment,
            "can_record": can(membership, "appointment.record_status"),
            "can_report": can(membership, "activity.edit"),
            "now": timezone.now(),
            "report": Activity.objects.filter(appointment=appointment).first(),
            "history": JournalEntry.objects.filter(
                object_type="appointment", object_id=appointment.pk
            )
            .exclude(action__in=READ_ACTIONS)
            .select_related("actor")
            .order_by("at"),
            "messages_log": (
                appointment.messages.order_by("due_at")
                if can(membership, "message.view_log")
                else []
            ),
        },
    )


@staff_view()
def cancel(request: StaffRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk, purpose="cancel")
    if request.method == "POST":
        try:
            services.appointment_cancel(appointment=appointment, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Rendez-vous annulé ; la personne est prévenue."))
        return redirect("agenda:detail", request.structure.slug, appointment.pk)
    return render(
        request, "appointments/staff/cancel.html", {"nav": "agenda", "appointment": appointment}
    )


@staff_view()
def move(request: StaffRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk, purpose="move")
    if request.method == "POST":
        start = params.instant(request.POST.get("debut"))
        if start is None:
            messages.error(request, _("Choisissez un nouvel horaire."))
        else:
            try:
                services.appointment_move(appointment=appointment, start=start, actor=request.user)
            except services.SlotTaken as exc:
                messages.error(request, str(exc))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Rendez-vous déplacé ; la personne est prévenue."))
                return redirect("agenda:detail", request.structure.slug, appointment.pk)
    slots = []
    seen = set()
    for slot in slots_for(
        appointment.motif, place=appointment.place, staff=True, exclude_pk=appointment.pk
    ):
        if slot.start not in seen:
            seen.add(slot.start)
            slots.append(slot)
        if len(slots) >= 40:
            break
    return render(
        request,
        "appointments/staff/move.html",
        {"nav": "agenda", "appointment": appointment, "slots": slots},
    )


@staff_view("appointment.record_status")
@require_POST
def set_status(request: StaffRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk, purpose="status")
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.appointment_set_status(
                appointment=appointment, status=form.cleaned_data["status"], actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Statut enregistré."))
            if _report_due(request, appointment, form.cleaned_data["status"]):
                # Fast entry: the advisor writes the report of what just happened.
                return redirect(
                    reverse("activities:create", args=[request.structure.slug])
                    + f"?rdv={appointment.pk}"
                )
    if request.POST.get("retour") == "aujourdhui":
        return redirect("site:staff_dashboard", request.structure.slug)
    if request.POST.get("retour") == "agenda":
        day = timezone.localdate(appointment.start)
        return redirect(
            reverse("agenda:agenda", args=[request.structure.slug])
            + f"?jour={day:%Y-%m-%d}&vue=jour"
        )
    return redirect("agenda:detail", request.structure.slug, appointment.pk)


def _report_due(request: StaffRequest, appointment: Appointment, status: str) -> bool:
    """Someone who writes reports (an advisor) marked it seen and no report of it exists yet."""
    return (
        status == Status.SEEN
        and can(request.membership, "activity.edit")
        and not Activity.objects.filter(appointment=appointment).exists()
    )


@staff_view("appointment.record_walk_in")
def walk_in(request: StaffRequest) -> HttpResponse:
    """Someone came without an appointment: who (a person on record, found with the picker,
    or a first name), when (today, not later than now), why and where. It counts as seen;
    whoever writes reports goes straight on to its report."""
    structure = request.structure
    membership = request.membership
    person, query, found = _person_step(request, "appointment.walk_in")
    now = timezone.now()
    form = WalkInForm(
        request.POST or None,
        structure=structure,
        now=now,
        person=person,
        place=_place_of_now(request, now),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.appointment_record_walk_in(
                motif=data["motif"],
                advisor=request.user,
                place=data["place"],
                first_name=data.get("first_name", ""),
                start=data["arrival"],
                beneficiary=person,
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Passage enregistré."))
            if can(membership, "activity.edit"):
                # Like « Honoré »: the advisor writes the report of what just happened.
                return redirect(
                    reverse("activities:create", args=[structure.slug]) + f"?rdv={appointment.pk}"
                )
            return redirect("agenda:detail", structure.slug, appointment.pk)
    return render(
        request,
        "appointments/staff/walk_in.html",
        {
            "nav": "agenda",
            "form": form,
            "person": person,
            "query": query,
            "found": found,
            "carry": [],
            "without_person": "",
            "has_motifs": on_site_motifs(structure).exists(),
        },
    )


def _place_of_now(request: StaffRequest, now: dt.datetime) -> Place | None:
    """Where the member is today (the presence going on, else today's first one), or the
    structure's only place: the walk-in's place unless they say otherwise."""
    today = timezone.localdate(now)
    here = [
        o
        for o in occurrences_between(request.structure, today, today, advisor_id=request.user.pk)
        if o.place_id
    ]
    going_on = [o for o in here if o.start <= now < o.end]
    places = Place.objects.of_structure(request.structure)
    if here:
        return places.filter(pk=(going_on or here)[0].place_id).first()
    only = list(places[:2])
    return only[0] if len(only) == 1 else None


@staff_view()
def motif_list(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "appointments/staff/motifs.html",
        {
            "nav": "agenda",
            "motifs": Motif.objects.of_structure(request.structure).prefetch_related("places"),
            "can_edit": can(request.membership, "motif.edit"),
        },
    )


@staff_view("motif.edit")
def motif_edit(request: StaffRequest, pk: int | None = None) -> HttpResponse:
    motif = (
        get_object_or_404(Motif.objects.of_structure(request.structure), pk=pk)
        if pk
        else Motif(structure=request.structure)
    )
    form = MotifForm(request.POST or None, instance=motif, structure=request.structure)
    if request.method == "POST" and form.is_valid():
        services.motif_save(
            motif=form.save(commit=False), places=form.cleaned_data["places"], actor=request.user
        )
        messages.success(request, _("Motif enregistré."))
        return redirect("agenda:motifs", request.structure.slug)
    return render(
        request,
        "appointments/staff/motif_form.html",
        {"nav": "agenda", "form": form, "motif": motif if pk else None},
    )


def _absences(request: StaffRequest):
    absences = Absence.objects.filter(structure=request.structure).select_related("advisor")
    if not can(request.membership, "absence.edit_any"):
        absences = absences.filter(advisor=request.user)
    return absences


@staff_view("absence.edit_own")
def absence_list(request: StaffRequest) -> HttpResponse:
    form = AbsenceForm(
        request.POST or None, structure=request.structure, membership=request.membership
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.absence_create(
                structure=request.structure, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Absence enregistrée : aucun créneau ne sera proposé pendant cette période."),
            )
            return redirect("agenda:absences", request.structure.slug)
    upcoming = _absences(request).filter(end__gte=timezone.now())
    return render(
        request,
        "appointments/staff/absences.html",
        {"nav": "agenda", "form": form, "absences": upcoming},
    )


@staff_view("absence.edit_own")
def absence_delete(request: StaffRequest, pk: int) -> HttpResponse:
    absence = get_object_or_404(_absences(request), pk=pk)
    if request.method == "POST":
        services.absence_delete(absence=absence, actor=request.user)
        messages.success(request, _("Absence supprimée."))
        return redirect("agenda:absences", request.structure.slug)
    return render(
        request, "appointments/staff/absence_delete.html", {"nav": "agenda", "absence": absence}
    )


@staff_view("message.view_log")
def message_log(request: StaffRequest) -> HttpResponse:
    """The delivery log: every message, its state and error (recipients for those who may
    see a person's contact)."""
    state = request.GET.get("etat", "")
    if state not in MessageState.values:
        state = ""
    items = selectors.message_log_for(request.membership, state=state)
    return render(
        request,
        "appointments/staff/messages.html",
        {"nav": "agenda", "items": items, "state": state, "states": MessageState.choices},
    )


@staff_view("calendar_feed.use")
def calendar_feed(request: StaffRequest) -> HttpResponse:
    """The member's private ICS feed URL: create (or replace) and revoke it."""
    from lien.appointments import feeds
    from lien.appointments.models import CalendarFeed

    current = CalendarFeed.objects.filter(
        structure=request.structure, advisor=request.user, revoked_at__isnull=True
    ).first()
    if request.method == "POST":
        if request.POST.get("action") == "revoke" and current is not None:
            feeds.feed_revoke(feed=current, actor=request.user)
            messages.success(request, _("L'adresse de l'agenda ne fonctionne plus."))
        elif request.POST.get("action") == "create":
            feeds.feed_create(structure=request.structure, advisor=request.user, actor=request.user)
            messages.success(request, _("Nouvelle adresse créée ; l'ancienne ne fonctionne plus."))
        return redirect("agenda:feed", request.structure.slug)
    url = request.build_absolute_uri(f"/agenda/{current.token}.ics") if current else ""
    return render(
        request, "appointments/staff/feed.html", {"nav": "agenda", "feed": current, "url": url}
    )
