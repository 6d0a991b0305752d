"""Every date and time shown, sent or put in a calendar is the structure's own wall-clock time.

Appointments are stored as UTC instants. For a structure in Paris on both sides of each DST
change, and for one in La Réunion (UTC+4 all year), the staff pages, the resident's pages,
the e-mail, the SMS and the .ics must show the local time — and only times that are some
known instant (the appointment, when it was booked) seen from that zone. A page printing the
UTC value (« 9 h 30 » for an appointment at 10 h 30 in Paris in winter) fails here.
"""

import datetime as dt
import re
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from icalendar import Calendar

from lien.accounts.models import Role, Structure
from lien.appointments import delivery, notifications
from lien.appointments.ics import appointment_ics, feed_ics
from lien.appointments.models import Appointment, Message, MessageKind
from lien.appointments.selectors import slots_for
from lien.core import timefmt
from lien.schedule.models import Presence
from tests.conftest import make_beneficiary, make_member, make_motif, make_place, signed_in

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
UTC = dt.UTC

# (INSEE code of the structure, local start of the appointment, the instant "now" is frozen at)
CASES = {
    # Paris, the week of the spring change (28 March 2027, 02:00 → 03:00).
    "paris-before-spring": ("77284", "2027-03-26T10:30", "2027-03-20T09:07Z"),
    "paris-after-spring": ("77284", "2027-03-29T10:30", "2027-03-20T09:07Z"),
    # Paris, the week of the autumn change (31 October 2027, 03:00 → 02:00).
    "paris-before-autumn": ("77284", "2027-10-29T10:30", "2027-10-20T09:07Z"),
    "paris-after-autumn": ("77284", "2027-11-02T10:30", "2027-10-20T09:07Z"),
    # La Réunion: UTC+4, no DST; the second one is on another UTC day than its local day.
    "reunion-morning": ("97411", "2027-03-29T10:30", "2027-03-20T09:07Z"),
    "reunion-small-hours": ("97411", "2027-03-30T02:15", "2027-03-20T09:07Z"),
}

# « 14 h 30 » (with or without its no-break spaces: lien/core/typography.py), « 14:30 », and
# the SMS's « 14h30 ».
TIME = re.compile(r"\b(\d{1,2})\s?h(?:\s?(\d{2}))?\b|\b(\d{1,2}):(\d{2})\b")
DAY = re.compile(
    r"\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) (\d{1,2})(?:er)? "
    r"(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)",
    re.IGNORECASE,
)
NUMERIC_DAY = re.compile(r"\b(\d{2})/(\d{2})/(\d{4})\b")
SHORT_DAY = re.compile(r"\b(lun|mar|mer|jeu|ven|sam|dim)\. (\d{1,2})/(\d{1,2})\b")  # SMS
URL = re.compile(r"https?://\S+")


class _Text(HTMLParser):
    """The text a person reads: no tags, attributes, scripts or styles."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def times_in(text: str) -> set[tuple[int, int]]:
    found = set()
    for h, m, h2, m2 in TIME.findall(text):
        found.add((int(h), int(m or 0)) if h else (int(h2), int(m2)))
    return found


def days_in(text: str) -> set[int]:
    """Day-of-month numbers of the long and numeric dates in the text."""
    return (
        {int(d) for _w, d, _m in DAY.findall(text)}
        | {int(d) for d, _m, _y in NUMERIC_DAY.findall(text)}
        | {int(d) for _w, d, _m in SHORT_DAY.findall(text)}
    )


def hm(moment: dt.datetime, zone: ZoneInfo) -> tuple[int, int]:
    local = moment.astimezone(zone)
    return local.hour, local.minute


class Scene:
    """A structure in the case's zone, an advisor, a person and their appointment."""

    def __init__(self, insee: str, local_start: str, now: dt.datetime):
        self.now = now
        self.structure = Structure.objects.create(
            name="Ville Z",
            slug="ville-z",
            kind="commune",
            siret="73282932000074",
            insee_code=insee,
            contact_phone="+33164000000",
        )
        self.zone = timefmt.zone_of(self.structure)
        self.advisor = make_member("conseil@z.example", self.structure, Role.ADVISOR, "Lou")
        self.reception = make_member("accueil@z.example", self.structure, Role.RECEPTION, "Max")
        self.place = make_place(self.structure, "mairie-z", name="Mairie")
        self.motif = make_motif(self.structure, self.place, duration=45)
        self.person = make_beneficiary(self.structure)
        start = dt.datetime.fromisoformat(local_start).replace(tzinfo=self.zone)
        self.appointment = Appointment.objects.create(
            structure=self.structure,
            motif=self.motif,
            advisor=self.advisor,
            place=self.place,
            location_type=self.motif.location_type,
            start=start,
            end=start + dt.timedelta(minutes=45),
            blocked_start=start,
            blocked_end=start + dt.timedelta(minutes=45),
            channel="staff",
            first_name="Josette",
            last_name="Durand",
            phone="+33612345678",
            email="josette@example.org",
            beneficiary=self.person,
        )

    @property
    def allowed(self) -> set[tuple[int, int]]:
        """Every time a page may show: the appointment's start and end, and now (booked at)."""
        a = self.appointment
        return {hm(a.start, self.zone), hm(a.end, self.zone), hm(self.now, self.zone)}

    def check(self, text: str, where: str) -> None:
        start, utc_start = hm(self.appointment.start, self.zone), hm(self.appointment.start, UTC)
        text = URL.sub("", text)  # a random token may hold something like « -9h- »
        shown = times_in(text)
        assert start in shown, f"{where}: the appointment's {start} is not shown in {text!r}"
        assert shown <= self.allowed, f"{where}: {shown - self.allowed} is no local time: {text!r}"
        assert utc_start not in shown or utc_start == start, f"{where}: UTC time shown"
        local_day = self.appointment.start.astimezone(self.zone).day
        utc_day = self.appointment.start.astimezone(UTC).day
        days = days_in(text)
        if days:
            assert local_day in days, f"{where}: day {local_day} not in {text!r}"
            if utc_day != local_day:
                assert utc_day not in days, f"{where}: the UTC day {utc_day} is shown"


@pytest.fixture(params=list(CASES), ids=list(CASES))
def scene(request, db, settings):
    insee, local_start, now = CASES[request.param]
    settings.SITE_URL = "https://lien.example"
    settings.SMS_BACKEND = "console"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    moment = dt.datetime.fromisoformat(now)
    with time_machine.travel(moment, tick=False):
        yield Scene(insee, local_start, moment)


def test_structures_take_the_zone_of_their_insee_code(db):
    zones = {
        "77284": "Europe/Paris",
        "2A004": "Europe/Paris",  # Ajaccio
        "97105": "America/Guadeloupe",
        "97209": "America/Martinique",
        "97302": "America/Cayenne",
        "97411": "Indian/Reunion",
        "97502": "America/Miquelon",
        "97611": "Indian/Mayotte",
    }
    for insee, zone in zones.items():
        assert timefmt.zone_for_insee(insee) == zone
    structure = Structure.objects.create(
        name="Saint-Denis", slug="st-denis", kind="commune", siret="35600000000048",
        insee_code="97411",
    )  # fmt: skip
    assert structure.time_zone == "Indian/Reunion"
    assert timefmt.zone_of(structure) == REUNION


def test_staff_pages_show_the_local_time(scene):
    a = scene.appointment
    advisor = signed_in(scene.advisor)
    day = a.start.astimezone(scene.zone).date()
    pages = {
        "appointment page": f"/equipe/ville-z/rendez-vous/{a.pk}/",
        "cancel page": f"/equipe/ville-z/rendez-vous/{a.pk}/annuler/",
        "move page": f"/equipe/ville-z/rendez-vous/{a.pk}/deplacer/",
        "day agenda": f"/equipe/ville-z/rendez-vous/?jour={day:%Y-%m-%d}&vue=jour",
        "person's timeline": f"/equipe/ville-z/personnes/{scene.person.pk}/",
    }
    for where, url in pages.items():
        response = advisor.get(url)
        assert response.status_code == 200, where
        scene.check(text_of(response.content.decode()), where)
    reception = signed_in(scene.reception)
    page = reception.get(f"/equipe/ville-z/personnes/{scene.person.pk}/").content.decode()
    scene.check(text_of(page), "reception's person page")


def test_the_residents_pages_show_the_local_time(scene):
    client = Client()
    token = scene.appointment.token
    for where, url in {
        "private page": f"/rdv/{token}/",
        "cancel": f"/rdv/{token}/annuler/",
    }.items():
        response = client.get(url)
        assert response.status_code == 200, where
        scene.check(text_of(response.content.decode()), where)


def test_messages_say_the_local_time(scene):
    a = scene.appointment
    for kind in (MessageKind.CONFIRMATION, MessageKind.REMINDER, MessageKind.CANCELLATION):
        Message.objects.filter(appointment=a).delete()
        for message in notifications.schedule_for(a, MessageKind.CONFIRMATION):
            message.kind = kind
            if message.channel == "email":
                email = delivery.build_email(message)
                scene.check(email.subject, f"{kind} e-mail subject")
                scene.check(email.body, f"{kind} e-mail")
            else:
                scene.check(delivery.render_sms(message), f"{kind} SMS")
    assert not mail.outbox  # built, not sent


def test_calendars_carry_the_local_wall_time(scene):
    a = scene.appointment
    for data in (appointment_ics(a), feed_ics([a], name="Rendez-vous")):
        cal = Calendar.from_ical(data)
        (event,) = cal.walk("VEVENT")
        start = event.decoded("DTSTART")
        assert start == a.start  # the same instant…
        assert start.tzinfo.key == scene.zone.key  # …in the structure's zone
        assert (start.hour, start.minute) == hm(a.start, scene.zone)
        assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == [scene.zone.key]
        # The VTIMEZONE gives the offset in force on that day.
        offset = a.start.astimezone(scene.zone).utcoffset()
        zone_component = cal.walk("VTIMEZONE")[0]
        offsets = {
            part.decoded("TZOFFSETTO") for part in zone_component.walk() if "TZOFFSETTO" in part
        }
        assert offset in offsets


@pytest.mark.parametrize(("insee", "zone"), [("77284", PARIS), ("97411", REUNION)])
def test_slots_are_computed_in_the_structures_zone(db, insee, zone):
    now = dt.datetime(2027, 3, 22, 6, 0, tzinfo=UTC)  # a Monday; 10:00 in La Réunion
    with time_machine.travel(now, tick=False):
        structure = Structure.objects.create(
            name="Ville Z", slug="ville-z", kind="commune", siret="73282932000074",
            insee_code=insee, contact_phone="+33164000000",
        )  # fmt: skip
        advisor = make_member("conseil@z.example", structure, Role.ADVISOR, "Lou")
        place = make_place(structure, "mairie-z", name="Mairie")
        motif = make_motif(structure, place, duration=30, max_delay_days=12, min_delay_hours=0)
        Presence.objects.create(
            structure=structure,
            advisor=advisor,
            place=place,
            weekday=3,  # Thursday 9:00–11:00, wall-clock time of the structure
            start=dt.time(9),
            end=dt.time(11),
            valid_from=dt.date(2027, 1, 1),
        )
        slots = slots_for(motif, place=place)
        assert slots, "no slot"
        every_quarter = {(9 + q // 4, 15 * (q % 4)) for q in range(7)}  # 9:00 … 10:30
        local_starts = {
            (s.start.astimezone(zone).hour, s.start.astimezone(zone).minute) for s in slots
        }
        assert local_starts == every_quarter
        assert {s.start.astimezone(zone).date() for s in slots} == {
            dt.date(2027, 3, 25),
            dt.date(2027, 4, 1),
        }
        page = Client().get(f"/ville-z/rendez-vous/{motif.pk}/{place.pk}/creneaux/")
        assert page.status_code == 200
        shown = times_in(text_of(page.content.decode()))
        assert (9, 0) in shown
        assert shown <= every_quarter


def test_today_is_the_structures_today(db):
    # Monday 22:30 UTC is already Tuesday 02:30 in La Réunion, still Monday 23:30 in Paris.
    now = dt.datetime(2027, 3, 22, 22, 30, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        for slug, insee, siret, today in (
            ("ville-r", "97411", "73282932000074", "mardi 23 mars"),
            ("ville-p", "77284", "35600000000048", "lundi 22 mars"),
        ):
            Structure.objects.create(
                name=slug, slug=slug, kind="commune", siret=siret, insee_code=insee
            )
            page = text_of(Client().get(f"/{slug}/cette-semaine/").content.decode())
            assert f"Aujourd’hui {today}" in page
