"""The staff home « Aujourd’hui »: the day's appointments per place with one-tap statuses, the
member's next presence, walk-in and booking, and the reports still to write, per persona.

Most tests stand at 10:30 (the structure's time) on today's date, or the next day that is not
a public holiday (presences do not take place on those): an appointment at 9:00 has started,
one at 11:00 has not.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from lien.activities.models import Activity
from lien.activities.services import activity_delete
from lien.appointments import services
from lien.appointments.models import Status
from lien.core.holidays import is_public_holiday
from lien.journal.models import JournalEntry
from lien.schedule.models import Presence
from tests.conftest import (
    PARIS,
    make_absence,
    make_activity,
    make_appointment,
    make_member,
    make_motif,
    make_place,
    signed_in,
)

HOME = "/equipe/ville-a/"


@pytest.fixture
def day(personas) -> dt.date:
    """Today, or the next day that is not a public holiday in A."""
    found = timezone.localdate()
    while is_public_holiday(found, personas.a.insee_code):
        found += dt.timedelta(days=1)
    return found


@pytest.fixture
def morning(day):
    """The clock stands at 10:30 on `day`."""
    with time_machine.travel(dt.datetime.combine(day, dt.time(10, 30), tzinfo=PARIS), tick=False):
        yield


def text(response) -> str:
    """A page's HTML with non-breaking spaces as plain ones (French typography adds them)."""
    page = response.content.decode()
    for space in ("&nbsp;", "&#160;", "\xa0", "\u202f"):
        page = page.replace(space, " ")
    return page


class Day:
    """A structure A day with appointments at two places, by phone, and noise around it."""

    def __init__(self, p, day: dt.date):
        self.library = make_place(p.a, "mediatheque", name="Médiathèque Prévert")
        motif = p.motif_a
        motif.places.add(self.library)
        phone_motif = make_motif(
            p.a, p.place_a, title="Conseil par téléphone", location_type="phone"
        )
        self.colleague = make_member("collegue@a.example", p.a, "advisor", "Léa")
        self.started = make_appointment(
            motif, p.advisor, p.place_a, day, dt.time(9), first_name="Albertine"
        )
        self.coming = make_appointment(
            motif, p.advisor, p.place_a, day, dt.time(11), first_name="Bérénice"
        )
        self.early = make_appointment(
            motif, self.colleague, self.library, day, dt.time(8), first_name="Célestin"
        )
        self.by_phone = make_appointment(
            phone_motif, p.advisor, None, day, dt.time(10), first_name="Dorothée"
        )
        # Not on the page: tomorrow, and B's appointment today.
        make_appointment(
            motif,
            p.advisor,
            p.place_a,
            day + dt.timedelta(days=1),
            dt.time(9),
            first_name="Demainier",
        )
        make_appointment(p.motif_b, p.outsider, p.place_b, day, dt.time(9), first_name="Étrangère")


@pytest.fixture
def today(personas, day, morning) -> Day:
    return Day(personas, day)


def _form_of(page: str, appointment) -> str:
    """The status form of one appointment's card ('' when it has none)."""
    found = re.search(
        rf'<form method="post" action="/equipe/ville-a/rendez-vous/{appointment.pk}/statut/"'
        r".*?</form>",
        page,
        re.S,
    )
    return found.group(0) if found else ""


def _buttons(page: str, appointment) -> list[str]:
    return re.findall(r'name="status" value="(\w+)"', _form_of(page, appointment))


# --- What each persona sees ------------------------------------------------------------------
def test_sign_in_lands_on_today(personas):
    response = signed_in(personas.advisor).get("/equipe/")
    assert response.status_code == 302 and response["Location"] == HOME
    page = text(signed_in(personas.advisor).get(HOME))
    assert "<h1>Aujourd’hui</h1>" in page


def test_advisor_sees_the_day_per_place_in_time_order(personas, today):
    page = text(signed_in(personas.advisor).get(HOME))
    # Groups by their first appointment: the library (8:00), the club (9:00), by phone (10:00).
    order = [
        page.index(text)
        for text in (
            "Médiathèque Prévert</h3>",
            "Célestin Durand",
            "Club des seniors</h3>",
            "Albertine Durand",
            "Bérénice Durand",
            "Par téléphone</h3>",
            "Dorothée Durand",
        )
    ]
    assert order == sorted(order)
    assert "Demainier" not in page and "Étrangère" not in page
    assert "09:00–09:30" in page and "avec Léa" in page and "avec Camille" in page
    assert "Apprendre à utiliser mon téléphone" in page  # the motif
    assert "À venir" in page  # the status
    assert 'href="tel:+33612345678"' in page


def test_honoured_and_absent_only_once_the_appointment_has_started(personas, today):
    page = text(signed_in(personas.advisor).get(HOME))
    assert _buttons(page, today.started) == ["seen", "noshow", "excused"]
    assert _buttons(page, today.coming) == ["excused"]
    assert 'name="retour" value="aujourdhui"' in _form_of(page, today.coming)
    assert "Honoré : Albertine, 09:00" in _form_of(page, today.started)


def test_a_settled_appointment_has_no_buttons_but_its_report(personas, today):
    services.appointment_set_status(
        appointment=today.started, status=Status.SEEN, actor=personas.advisor
    )
    services.appointment_set_status(
        appointment=today.coming, status=Status.EXCUSED, actor=personas.advisor
    )
    page = text(signed_in(personas.advisor).get(HOME))
    assert _buttons(page, today.started) == [] and _buttons(page, today.coming) == []
    assert f"/equipe/ville-a/activites/nouveau/?rdv={today.started.pk}" in page
    assert "Annulé par la personne" in page or "Excusé" in page


def test_coordinator_sees_no_name(personas, today):
    page = text(signed_in(personas.coordinator).get(HOME))
    for name in ("Albertine", "Bérénice", "Célestin", "Dorothée", "Durand", "+33612345678"):
        assert name not in page
    assert f"n<sup>o</sup> {today.started.pk}" in page
    # Coordinators record what happened (appointment.record_status), without names.
    assert _buttons(page, today.started) == ["seen", "noshow", "excused"]
    assert "Honoré : rendez-vous de 09:00" in page
    assert "Comptes rendus à écrire" not in page
    assert "sans rendez-vous" not in page and "Prendre un rendez-vous" not in page
    assert not JournalEntry.objects.filter(actor=personas.coordinator, action="appointment.listed")


def test_reception_sees_names_and_books_but_records_nothing(personas, today):
    page = text(signed_in(personas.reception).get(HOME))
    assert "Albertine Durand" in page
    assert _buttons(page, today.started) == []
    assert 'href="/equipe/ville-a/rendez-vous/nouveau/"' in page
    assert "/rendez-vous/sans-rendez-vous/" not in page  # a walk-in is the advisor's
    assert "Comptes rendus à écrire" not in page
    assert "Votre prochaine présence" not in page  # reception holds no presence


def test_advisor_can_welcome_a_walk_in_and_book(personas, day, morning):
    page = text(signed_in(personas.advisor).get(HOME))
    assert 'href="/equipe/ville-a/rendez-vous/sans-rendez-vous/"' in page
    assert "Accueillir quelqu’un sans rendez-vous" in page
    assert 'href="/equipe/ville-a/rendez-vous/nouveau/"' in page


def test_empty_day(personas, morning):
    page = text(signed_in(personas.advisor).get(HOME))
    assert "Aucun rendez-vous aujourd’hui." in page
    assert "Aucun compte rendu à écrire." in page
    assert not JournalEntry.objects.filter(action="appointment.listed")


# --- Statuses from the page ------------------------------------------------------------------
def test_status_buttons_come_back_to_today(personas, today):
    client = signed_in(personas.advisor)
    url = f"/equipe/ville-a/rendez-vous/{today.coming.pk}/statut/"
    response = client.post(url, {"status": "excused", "retour": "aujourdhui"})
    assert response.status_code == 302 and response["Location"] == HOME
    today.coming.refresh_from_db()
    assert today.coming.status == Status.EXCUSED
    # A coordinator's « Absent·e » comes back too.
    response = signed_in(personas.coordinator).post(
        f"/equipe/ville-a/rendez-vous/{today.early.pk}/statut/",
        {"status": "noshow", "retour": "aujourdhui"},
    )
    assert response["Location"] == HOME
    today.early.refresh_from_db()
    assert today.early.status == Status.NOSHOW


def test_honoured_by_an_advisor_goes_to_the_prefilled_report(personas, today):
    response = signed_in(personas.advisor).post(
        f"/equipe/ville-a/rendez-vous/{today.started.pk}/statut/",
        {"status": "seen", "retour": "aujourdhui"},
    )
    assert response["Location"] == f"/equipe/ville-a/activites/nouveau/?rdv={today.started.pk}"


def test_honoured_before_the_start_is_refused_and_says_why(personas, today):
    response = signed_in(personas.advisor).post(
        f"/equipe/ville-a/rendez-vous/{today.coming.pk}/statut/",
        {"status": "seen", "retour": "aujourdhui"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == HOME
    assert "pas encore eu lieu" in text(response)
    today.coming.refresh_from_db()
    assert today.coming.status == Status.UNKNOWN


def appointment_at(personas, start: dt.datetime, **extra):
    """An appointment of A's advisor at an instant, its end reckoned in UTC: on the night the
    clocks go back, a wall time (make_appointment's) may name the wrong 2:30."""
    from lien.appointments.models import Appointment

    start = start.astimezone(dt.UTC)
    end = start + dt.timedelta(minutes=personas.motif_a.duration)
    return Appointment.objects.create(
        structure=personas.a,
        motif=personas.motif_a,
        advisor=personas.advisor,
        place=personas.place_a,
        location_type=personas.motif_a.location_type,
        start=start,
        end=end,
        blocked_start=start,
        blocked_end=end,
        channel="staff",
        first_name=extra.pop("first_name", "Josette"),
        last_name="Durand",
        phone="+33612345678",
        **extra,
    )


@pytest.mark.parametrize("status", [Status.SEEN, Status.NOSHOW])
def test_the_service_refuses_before_the_start_and_accepts_from_it(personas, frozen_clock, status):
    # Arithmetic on instants, then wall time (the night clocks go back has 2:30 twice).
    now = timezone.now().astimezone(PARIS)
    soon = (timezone.now() + dt.timedelta(minutes=1)).astimezone(PARIS)
    coming = appointment_at(personas, soon)
    with pytest.raises(ValidationError, match="pas encore eu lieu"):
        services.appointment_set_status(appointment=coming, status=status, actor=personas.advisor)
    coming.refresh_from_db()
    assert coming.status == Status.UNKNOWN
    # « Excusé·e » may be said before the start.
    services.appointment_set_status(
        appointment=coming, status=Status.EXCUSED, actor=personas.advisor
    )
    # An appointment starting this very instant may be honoured (or missed) now.
    starting = appointment_at(personas, now, first_name="Pile")
    assert starting.start.timestamp() == timezone.now().timestamp()
    services.appointment_set_status(appointment=starting, status=status, actor=personas.advisor)
    starting.refresh_from_db()
    assert starting.status == status


def test_detail_and_agenda_hide_honoured_until_the_start(personas, today, day):
    client = signed_in(personas.advisor)
    detail = text(client.get(f"/equipe/ville-a/rendez-vous/{today.coming.pk}/"))
    assert 'value="seen"' not in detail and 'value="noshow"' not in detail
    assert 'value="excused"' in detail
    assert "dès le début du rendez-vous" in detail
    detail = text(client.get(f"/equipe/ville-a/rendez-vous/{today.started.pk}/"))
    assert 'value="seen"' in detail and 'value="noshow"' in detail
    agenda = text(client.get(f"/equipe/ville-a/rendez-vous/?jour={day:%Y-%m-%d}&vue=jour"))
    assert "Honoré : Albertine" in agenda and "Honoré : Bérénice" not in agenda
    with time_machine.travel(dt.datetime.combine(day, dt.time(11), tzinfo=PARIS), tick=False):
        detail = text(client.get(f"/equipe/ville-a/rendez-vous/{today.coming.pk}/"))
        page = text(client.get(HOME))
    assert 'value="seen"' in detail
    assert _buttons(page, today.coming) == ["seen", "noshow", "excused"]


# --- Reports to write --------------------------------------------------------------------------
def test_reports_to_write_are_the_advisors_own_honoured_ones_newest_first(personas, today, day):
    p = personas
    older = make_appointment(
        p.motif_a,
        p.advisor,
        p.place_a,
        day - dt.timedelta(days=3),
        dt.time(14),
        first_name="Ancienne",
        status=Status.SEEN,
    )
    newer = make_appointment(
        p.motif_a,
        p.advisor,
        p.place_a,
        day - dt.timedelta(days=1),
        dt.time(14),
        first_name="Récente",
        status=Status.SEEN,
    )
    reported = make_appointment(
        p.motif_a,
        p.advisor,
        p.place_a,
        day - dt.timedelta(days=2),
        dt.time(14),
        first_name="Rapportée",
        status=Status.SEEN,
    )
    make_activity(p.a, p.advisor, p.beneficiary_a, p.place_a, appointment=reported)
    deleted = make_appointment(
        p.motif_a,
        p.advisor,
        p.place_a,
        day - dt.timedelta(days=4),
        dt.time(14),
        first_name="Supprimée",
        status=Status.SEEN,
    )
    # A deleted report lets go of its appointment: it is to write again.
    activity_delete(
        activity=make_activity(p.a, p.advisor, p.beneficiary_a, p.place_a, appointment=deleted),
        actor=p.advisor,
    )
    make_appointment(
        p.motif_a,
        today.colleague,
        p.place_a,
        day - dt.timedelta(days=1),
        dt.time(16),
        first_name="Collègue",
        status=Status.SEEN,
    )
    make_appointment(
        p.motif_a,
        p.advisor,
        p.place_a,
        day - dt.timedelta(days=1),
        dt.time(16),
        first_name="Absente",
        status=Status.NOSHOW,
    )
    page = text(signed_in(p.advisor).get(HOME))
    section = page[page.index("Comptes rendus à écrire") :]
    section = section[: section.index("Cette semaine")]
    assert section.index("Récente") < section.index("Ancienne") < section.index("Supprimée")
    for absent in ("Rapportée", "Collègue", "Absente", "Bérénice"):
        assert absent not in section
    for appointment in (older, newer, deleted):
        assert f"/equipe/ville-a/activites/nouveau/?rdv={appointment.pk}" in section
    assert Activity.objects.filter(appointment=reported).exists()


def test_reports_to_write_show_the_latest_and_the_total(personas, day, morning):
    from lien.activities.selectors import TO_WRITE_SHOWN

    for n in range(TO_WRITE_SHOWN + 2):
        make_appointment(
            personas.motif_a,
            personas.advisor,
            personas.place_a,
            day - dt.timedelta(days=n + 1),
            dt.time(14),
            status=Status.SEEN,
        )
    page = text(signed_in(personas.advisor).get(HOME))
    assert f"Les {TO_WRITE_SHOWN} plus récents, sur {TO_WRITE_SHOWN + 2} en attente." in page
    assert page.count("?rdv=") == TO_WRITE_SHOWN


# --- The journal -------------------------------------------------------------------------------
def test_the_read_is_journalled_without_names(personas, today, day):
    today.started.status = Status.SEEN
    today.started.save(update_fields=["status"])
    signed_in(personas.advisor).get(HOME)
    entries = {
        e.data["view"]: e
        for e in JournalEntry.objects.filter(actor=personas.advisor, action="appointment.listed")
    }
    assert set(entries) == {"aujourdhui", "comptes-rendus-a-ecrire"}
    assert entries["aujourdhui"].data == {"from": day.isoformat(), "view": "aujourdhui", "shown": 4}
    assert entries["comptes-rendus-a-ecrire"].data["shown"] == 1
    assert all(e.subject_id is None and not e.personal for e in entries.values())
    assert "Albertine" not in str([e.data for e in entries.values()])
    # Reception reads names too: journalled; no report list for them.
    signed_in(personas.reception).get(HOME)
    views = list(
        JournalEntry.objects.filter(
            actor=personas.reception, action="appointment.listed"
        ).values_list("data__view", flat=True)
    )
    assert views == ["aujourdhui"]


# --- The next presence -------------------------------------------------------------------------
def test_next_presence_under_way(personas, day, morning):
    Presence.objects.create(
        structure=personas.a,
        advisor=personas.advisor,
        place=personas.place_a,
        weekday=day.weekday(),
        start=dt.time(9),
        end=dt.time(12),
        valid_from=day,
        valid_until=day,
    )
    page = text(signed_in(personas.advisor).get(HOME))
    assert "Votre prochaine présence" in page
    assert "En ce moment, jusqu’à 12 h — Club des seniors" in page


def test_next_presence_later_and_absences_skipped(personas, day, morning):
    later = day + dt.timedelta(days=1)
    while is_public_holiday(later, personas.a.insee_code):
        later += dt.timedelta(days=1)
    for when in (day, later):
        Presence.objects.create(
            structure=personas.a,
            advisor=personas.advisor,
            place=None,
            mode="phone",
            weekday=when.weekday(),
            start=dt.time(14),
            end=dt.time(16),
            valid_from=when,
            valid_until=when,
        )
    make_absence(personas.a, personas.advisor, day)  # 8:00–18:00 today: not there after all
    page = text(signed_in(personas.advisor).get(HOME))
    label = "Demain" if later == day + dt.timedelta(days=1) else None
    assert "de 14 h à 16 h — Par téléphone" in page
    if label:
        assert "Demain, de 14 h à 16 h" in page


def test_no_presence_planned(personas, morning):
    page = text(signed_in(personas.coordinator).get(HOME))
    assert "Aucune présence prévue dans les quatre prochaines semaines." in page
