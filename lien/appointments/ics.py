"""iCalendar (.ics) for appointments: the resident's e-mail attachment and the advisor's feed.

UID: `rdv-<pk>@<site host>`, stable for the life of the appointment, so a calendar updates or
removes the event it already holds. The resident's token is deliberately not used: the same UID
appears in the advisors' feeds, and the token is what lets someone cancel or move the appointment.

SEQUENCE: the number of journal entries that changed the appointment after it was booked
(moved, cancelled, status changed). The journal is append-only, so the number only grows, as
RFC 5545 requires, and it needs no extra column.

Times are written in the structure's time zone (`DTSTART;TZID=Europe/Paris:…`) with its
VTIMEZONE, covering only the dates in the file, so a calendar shows the wall-clock time the
structure gave even if the reader's device is set to another zone.
"""

import datetime as dt
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from lien.appointments.models import Appointment, LocationType
from lien.core import timefmt

PRODID = "-//Lien//Rendez-vous//FR"
CHANGE_ACTIONS = ("appointment.moved", "appointment.cancelled", "appointment.status_changed")


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "lien"


def resident_link(appointment: Appointment) -> str:
    """The resident's private page to see, move or cancel the appointment."""
    return f"{settings.SITE_URL.rstrip('/')}/rdv/{appointment.token}/"


def uid_for(appointment: Appointment) -> str:
    return f"rdv-{appointment.pk}@{site_host()}"


def sequences_for(appointment_ids: list[int]) -> dict[int, int]:
    """SEQUENCE of each appointment, in one query."""
    from lien.journal.models import JournalEntry

    rows = (
        JournalEntry.objects.filter(
            object_type="appointment", object_id__in=appointment_ids, action__in=CHANGE_ACTIONS
        )
        .values("object_id")
        .annotate(n=Count("id"))
    )
    return {row["object_id"]: row["n"] for row in rows}


def location_text(appointment: Appointment, *, with_home_address: bool = True) -> str:
    """Where, in one line: the place and its address, or how the appointment happens."""
    if appointment.location_type == LocationType.PHONE:
        return _("Par téléphone")
    if appointment.location_type == LocationType.HOME:
        if with_home_address and appointment.address:
            return _("À votre domicile : %(address)s") % {"address": appointment.address}
        return _("À domicile")
    if appointment.location_type == LocationType.VISIO:
        return _("En visio")
    place = appointment.place
    if place is None:
        return ""
    parts = [place.name, place.address, place.address_complement, f"{place.postcode} {place.city}"]
    return ", ".join(p for p in parts if p)


def when_text(start: dt.datetime) -> str:
    """« jeudi 3 septembre à 14 h », in the active (the structure's) time zone."""
    return timefmt.when(start)


def _with_zones(cal: Calendar, appointments: list[Appointment]) -> Calendar:
    """Add the VTIMEZONE of each zone used, covering just the span of the events."""
    if appointments:
        first = min(a.start for a in appointments).date() - dt.timedelta(days=1)
        last = max(a.end for a in appointments).date() + dt.timedelta(days=2)
        cal.add_missing_timezones(first_date=first, last_date=last)
    return cal


def _calendar(method: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def _event(appointment: Appointment, *, sequence: int, stamp: dt.datetime) -> Event:
    zone = timefmt.zone_of(appointment.structure)
    event = Event()
    event.add("uid", uid_for(appointment))
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    event.add("sequence", sequence)
    return event


def appointment_ics(appointment: Appointment, *, cancel: bool = False) -> bytes:
    """The .ics attached to the resident's e-mails: METHOD REQUEST, or CANCEL when cancelled."""
    sequence = sequences_for([appointment.pk]).get(appointment.pk, 0)
    cal = _calendar("CANCEL" if cancel else "REQUEST")
    event = _event(appointment, sequence=sequence, stamp=timezone.now())
    structure = appointment.structure
    event.add("summary", f"{appointment.motif.title} ({structure.name})")
    event.add("location", location_text(appointment))
    description = [appointment.motif.title]
    if cancel:
        description.append(_("Ce rendez-vous est annulé."))
    else:
        if appointment.motif.what_to_bring:
            what = appointment.motif.what_to_bring
            description.append(_("À apporter : %(what)s") % {"what": what})
        description.append(
            _("Pour voir, déplacer ou annuler ce rendez-vous : %(link)s")
            % {"link": resident_link(appointment)}
        )
    event.add("description", "\n\n".join(description))
    event.add("url", resident_link(appointment))
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    event.add("transp", "OPAQUE")
    # RFC 5546 wants an organizer (and attendees) in REQUEST and CANCEL messages.
    organizer = vCalAddress(f"mailto:{sender_address()}")
    organizer.params["cn"] = vText(structure.name)
    event.add("organizer", organizer)
    if appointment.email:
        attendee = vCalAddress(f"mailto:{appointment.email}")
        attendee.params["cn"] = vText(appointment.first_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("DECLINED" if cancel else "ACCEPTED")
        attendee.params["rsvp"] = vText("FALSE")
        event.add("attendee", attendee)
    cal.add_component(event)
    return _with_zones(cal, [appointment]).to_ical()


def feed_ics(appointments: list[Appointment], *, name: str) -> bytes:
    """An advisor's calendar: names and motif only, never the resident's phone or e-mail.

    A feed URL ends up in calendar apps and can leak, so it carries the minimum: the person's
    name, the motif and where. Home-visit addresses stay in Lien.
    """
    cal = _calendar("PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-published-ttl", "PT15M")
    sequences = sequences_for([a.pk for a in appointments])
    stamp = timezone.now()
    for appointment in appointments:
        event = _event(appointment, sequence=sequences.get(appointment.pk, 0), stamp=stamp)
        person = " ".join(p for p in (appointment.first_name, appointment.last_name) if p)
        event.add("summary", f"{person} – {appointment.motif.title}")
        event.add("location", location_text(appointment, with_home_address=False))
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        event.add("class", "PRIVATE")
        cal.add_component(event)
    return _with_zones(cal, appointments).to_ical()


def sender_address() -> str:
    """The bare address of DEFAULT_FROM_EMAIL (which may carry a display name)."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
