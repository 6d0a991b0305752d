"""Sending the queued messages: e-mail through a local SMTP server, SMS into a file.

The rule under test above all: a message is never sent twice, whatever happens to the worker.
"""

import datetime as dt
import json
import threading

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled
from icalendar import Calendar

from lien.appointments import delivery, gsm, sms
from lien.appointments.models import (
    Appointment,
    Message,
    MessageChannel,
    MessageKind,
    MessageState,
    Status,
)
from lien.appointments.selectors import slots_for
from lien.appointments.services import appointment_book, appointment_cancel, appointment_move
from lien.core.worker import run_due_jobs
from tests.conftest import make_appointment
from tests.smtp_server import closed_port, local_smtp_server

SITE = "https://rdv.ville-a.example"
ONLY_ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SKIP LOCKED between concurrent workers (CI runs it on PostgreSQL)",
)


@pytest.fixture
def smtp(settings):
    with local_smtp_server() as server:
        server.use_in(settings)
        yield server


class SmsFile:
    def __init__(self, path):
        self.path = path

    def sent(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines()]


@pytest.fixture
def sms_file(settings, tmp_path) -> SmsFile:
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    settings.SMS_SENDER = "VILLEA"
    return SmsFile(tmp_path / "sms.jsonl")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "rendez-vous@ville-a.example"


def book(personas, *, days_ahead: int = 5, **extra) -> Appointment:
    """A resident books the first slot `days_ahead` days from now (reminders still to come)."""
    motif = personas.motif_a
    motif.what_to_bring = "Votre téléphone et votre pièce d'identité"
    motif.save()
    after = timezone.now() + dt.timedelta(days=days_ahead)
    slot = next(s for s in slots_for(motif, place=personas.place_a) if s.start > after)
    contact = {"phone": "06 12 34 56 78", "email": "josette@example.org"} | extra
    return appointment_book(
        motif=motif,
        start=slot.start,
        place=personas.place_a,
        first_name="Josette",
        last_name="Durand",
        **contact,
    )


MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"


def short(moment: dt.datetime) -> str:
    """« jeu. 3/12 14h », as an SMS says it."""
    local = timezone.localtime(moment)
    assert local.weekday() == 3  # the presence is on Thursdays
    minutes = f"{local.minute:02d}" if local.minute else ""
    return f"jeu. {local.day}/{local.month} {local.hour}h{minutes}"


def said(moment: dt.datetime, *, typeset: bool = False) -> str:
    """« jeudi 3 décembre à 14 h », as residents read it; `typeset`: with the no-break spaces
    of an e-mail's body (« 14\u00a0h »)."""
    local = timezone.localtime(moment)
    assert local.weekday() == 3  # the presence is on Thursdays
    month = MONTHS.split()[local.month - 1]
    space = "\u00a0" if typeset else " "
    minutes = f"{space}{local.minute:02d}" if local.minute else ""
    day = "1er" if local.day == 1 else local.day
    return f"jeudi {day} {month} à {local.hour}{space}h{minutes}"


def messages_of(appointment: Appointment, **filters) -> list[Message]:
    return list(Message.objects.filter(appointment=appointment, **filters).order_by("pk"))


def subject(mail) -> str:
    # Python's parser keeps the folding space of an encoded Subject; mail clients drop it.
    return str(mail["Subject"]).strip()


def body_of(mail) -> str:
    return mail.get_body(("plain",)).get_content().replace("\r\n", "\n")


def attachment_calendar(mail) -> Calendar:
    [part] = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())


@pytest.mark.django_db
def test_the_confirmation_goes_by_email_and_sms(personas, smtp, sms_file):
    appointment = book(personas)
    stats = delivery.send_due_messages()
    assert (stats.claimed, stats.sent, stats.failed) == (2, 2, 0)

    [mail] = smtp.messages
    assert mail["To"] == "josette@example.org"
    assert mail["From"] == "Ville A <rendez-vous@ville-a.example>"
    assert subject(mail) == f"Rendez-vous confirmé : {said(appointment.start)}"
    body = body_of(mail)
    assert "Bonjour Josette," in body
    assert "Votre rendez-vous est confirmé." in body
    assert f"Date\u00a0: {said(appointment.start, typeset=True)}\n" in body
    assert "Apprendre à utiliser mon téléphone" in body
    assert "Club des seniors\n1 rue de la Mairie\n77000 Ville" in body
    assert "Votre téléphone et votre pièce d'identité" in body  # not HTML-escaped
    assert f"{SITE}/rdv/{appointment.token}/" in body
    assert "01 64 00 00 00" in body
    email_message = messages_of(appointment, channel=MessageChannel.EMAIL)[0]
    assert mail["Message-ID"] == delivery.message_id(email_message)

    cal = attachment_calendar(mail)
    [event] = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "REQUEST"
    assert event.decoded("DTSTART") == appointment.start
    assert str(event["UID"]) == f"rdv-{appointment.pk}@rdv.ville-a.example"
    assert "Club des seniors" in str(event["LOCATION"])

    [text] = sms_file.sent()
    assert text["to"] == "+33612345678" and text["sender"] == "VILLEA"
    assert text["text"] == (
        f"Ville A : RDV confirmé {short(appointment.start)}, Club des seniors. "
        f"Voir ou annuler : {SITE}/r/{appointment.token}"
    )  # one SMS: the address, motif and what to bring are in the e-mail and behind the link
    assert gsm.is_gsm7(text["text"]) and gsm.segments(text["text"]) == 1

    for message in messages_of(appointment, kind=MessageKind.CONFIRMATION):
        assert message.state == MessageState.SENT and message.attempts == 1
        assert message.sent_at is not None and message.error == ""


@pytest.mark.django_db
def test_reminders_wait_for_their_time_then_go_once(personas, smtp, sms_file):
    appointment = book(personas)
    delivery.send_due_messages()
    smtp.clear()
    start = appointment.start

    assert delivery.send_due_messages(now=start - dt.timedelta(hours=49)).claimed == 0
    delivery.send_due_messages(now=start - dt.timedelta(hours=47))
    [mail] = smtp.messages
    assert subject(mail).startswith("Rappel : rendez-vous jeudi ")
    assert "Nous vous rappelons votre rendez-vous." in body_of(mail)
    assert len(sms_file.sent()) == 1  # the confirmation only: the SMS reminder is at 24 h

    delivery.send_due_messages(now=start - dt.timedelta(hours=23))
    assert len(smtp.messages) == 1
    reminder_sms = sms_file.sent()[-1]["text"]
    assert reminder_sms.startswith(f"Ville A : rappel, RDV {short(start)}, Club des seniors")
    assert reminder_sms.endswith(f"Annuler ou déplacer : {SITE}/r/{appointment.token}")

    assert delivery.send_due_messages(now=start - dt.timedelta(hours=1)).claimed == 0
    assert len(smtp.messages) == 1 and len(sms_file.sent()) == 2
    reminders = messages_of(appointment, kind=MessageKind.REMINDER)
    assert [m.state for m in reminders] == [MessageState.SENT, MessageState.SENT]


@pytest.mark.django_db
def test_two_runs_in_a_row_send_once(personas, smtp, sms_file):
    book(personas)
    first = delivery.send_due_messages()
    second = delivery.send_due_messages()
    assert (first.sent, second.claimed) == (2, 0)
    assert len(smtp.messages) == 1 and len(sms_file.sent()) == 1


def queue_confirmations(
    personas, count: int, channel: str = MessageChannel.SMS, *, due_from=None
) -> list[Message]:
    """`count` confirmations by `channel`, due one after the other (first due first), for
    appointments weeks ahead, each to its own recipient."""
    first_day = timezone.localdate() + dt.timedelta(days=10)
    first_due = due_from or timezone.now() - dt.timedelta(minutes=count)
    messages = []
    for i in range(count):
        email = channel == MessageChannel.EMAIL
        appointment = make_appointment(
            personas.motif_a,
            personas.advisor,
            personas.place_a,
            first_day + dt.timedelta(days=i),
            dt.time(10),
            **({"phone": "", "email": f"personne{i}@example.org"} if email else {}),
        )
        messages.append(
            Message.objects.create(
                structure=personas.a,
                appointment=appointment,
                kind=MessageKind.CONFIRMATION,
                channel=channel,
                recipient=appointment.email if email else appointment.phone,
                due_at=first_due + dt.timedelta(minutes=i),
                idempotency_key=f"{appointment.pk}:confirmation:{channel}:test",
            )
        )
    return messages


def queue_sms(personas, count: int) -> list[Message]:
    return queue_confirmations(personas, count, MessageChannel.SMS)


def states_of(messages: list[Message]) -> list[str]:
    found = dict(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("pk", "state"))
    return [found[m.pk] for m in messages]


@pytest.mark.django_db
def test_a_worker_killed_after_its_claim_never_resends(personas, smtp, sms_file):
    appointment = book(personas)
    now = timezone.now()
    claimed = delivery.claim_next_message(now=now)  # ... and the worker dies here
    assert claimed is not None
    assert [m.state for m in messages_of(appointment, kind="confirmation")].count("sending") == 1

    # Restarted a minute later: the claim may still be alive somewhere, leave it alone; the
    # other message was never claimed and goes.
    stats = delivery.send_due_messages(now=now + dt.timedelta(minutes=1))
    assert (stats.claimed, stats.sent, stats.uncertain) == (1, 1, 0)
    assert len(smtp.messages) + len(sms_file.sent()) == 1
    # Later: the claim is stale. Whether it left or not, it is not sent again: staff check.
    stats = delivery.send_due_messages(now=now + dt.timedelta(minutes=16))
    assert (stats.uncertain, stats.claimed) == (1, 0)
    assert len(smtp.messages) + len(sms_file.sent()) == 1
    message = Message.objects.get(pk=claimed)
    assert message.state == MessageState.UNCERTAIN and message.attempts == 1
    assert message.get_state_display() == "À vérifier"
    assert message.error == (
        "envoi interrompu : impossible de savoir s'il est parti ; "
        "vérifiez auprès de la personne avant de renvoyer"
    )
    assert delivery.send_due_messages(now=now + dt.timedelta(hours=1)).claimed == 0
    assert len(smtp.messages) + len(sms_file.sent()) == 1


@pytest.mark.django_db
def test_an_interrupted_send_leaves_only_that_message_in_doubt(personas, smtp, monkeypatch):
    messages = queue_sms(personas, 3)

    def stopped(to, text):
        raise KeyboardInterrupt  # the worker is stopped while the first SMS is on its way

    monkeypatch.setattr(sms, "send_sms", stopped)
    with pytest.raises(KeyboardInterrupt):
        delivery.send_due_messages()
    # The first may have left: it becomes uncertain, never resent. The others were never
    # claimed.
    assert states_of(messages) == ["sending", "queued", "queued"]
    for message in Message.objects.filter(pk__in=[m.pk for m in messages[1:]]):
        assert message.attempts == 0 and message.claimed_at is None


@pytest.mark.django_db
def test_a_message_interrupted_before_it_was_handed_over_goes_back_to_the_queue(
    personas, smtp, sms_file, monkeypatch
):
    messages = queue_sms(personas, 2)

    def interrupted(message):
        raise KeyboardInterrupt  # while the text is being written: nothing left yet

    render_sms = delivery.render_sms
    monkeypatch.setattr(delivery, "render_sms", interrupted)
    with pytest.raises(KeyboardInterrupt):
        delivery.send_due_messages()
    assert states_of(messages) == ["queued", "queued"]
    assert Message.objects.get(pk=messages[0].pk).attempts == 0
    monkeypatch.setattr(delivery, "render_sms", render_sms)
    assert delivery.send_due_messages().sent == 2
    assert len(sms_file.sent()) == 2


@pytest.mark.django_db
def test_a_stop_request_ends_the_pass_after_the_message_in_flight(personas, smtp, sms_file):
    messages = queue_sms(personas, 4)

    def stop_after_two() -> bool:
        return len(sms_file.sent()) >= 2

    stats = delivery.send_due_messages(should_stop=stop_after_two)
    assert (stats.claimed, stats.sent, stats.stopped) == (2, 2, True)
    assert states_of(messages) == ["sent", "sent", "queued", "queued"]
    stats = delivery.send_due_messages()
    assert (stats.claimed, stats.sent, stats.stopped) == (2, 2, False)
    assert states_of(messages) == ["sent"] * 4 and len(sms_file.sent()) == 4


@pytest.mark.django_db
def test_nothing_but_the_cancellation_goes_for_a_cancelled_appointment(personas, smtp, sms_file):
    appointment = book(personas)
    delivery.send_due_messages()
    smtp.clear()
    appointment_cancel(appointment=appointment)

    stats = delivery.send_due_messages(now=appointment.start - dt.timedelta(hours=1))
    assert (stats.sent, stats.failed) == (2, 0)
    [mail] = smtp.messages
    assert subject(mail).startswith("Rendez-vous annulé : jeudi ")
    body = body_of(mail)
    assert "Votre rendez-vous est bien annulé." in body
    assert "À apporter" not in body
    cal = attachment_calendar(mail)
    assert str(cal["METHOD"]) == "CANCEL"
    [event] = cal.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
    assert f"votre RDV du {short(appointment.start)} est annulé." in sms_file.sent()[-1]["text"]
    for reminder in messages_of(appointment, kind=MessageKind.REMINDER):
        assert reminder.state == MessageState.CANCELLED and reminder.sent_at is None


@pytest.mark.django_db
def test_a_message_of_an_appointment_cancelled_meanwhile_is_not_sent(personas, smtp, sms_file):
    appointment = book(personas)
    # Cancelled without withdrawing its messages (a race, or a direct status change).
    Appointment.objects.filter(pk=appointment.pk).update(status=Status.REVOKED)
    stats = delivery.send_due_messages()
    assert (stats.cancelled, stats.sent) == (2, 0)
    assert smtp.messages == [] and sms_file.sent() == []
    for message in messages_of(appointment, kind=MessageKind.CONFIRMATION):
        assert message.state == MessageState.CANCELLED and message.error == "rendez-vous annulé"


@pytest.mark.django_db
def test_a_cancellation_notice_is_not_sent_for_an_appointment_that_is_active(personas, smtp):
    appointment = personas.appointment_a
    Message.objects.create(
        structure=personas.a,
        appointment=appointment,
        kind=MessageKind.CANCELLATION,
        channel=MessageChannel.EMAIL,
        recipient="josette@example.org",
        due_at=timezone.now(),
        idempotency_key=f"{appointment.pk}:cancellation:email:test",
    )
    assert delivery.send_due_messages().cancelled == 1
    assert smtp.messages == []


@pytest.mark.django_db
def test_a_reminder_found_after_the_appointment_is_dropped(personas, smtp, sms_file):
    appointment = book(personas)
    delivery.send_due_messages()
    stats = delivery.send_due_messages(now=appointment.end + dt.timedelta(hours=1))
    assert (stats.cancelled, stats.sent) == (2, 0)
    for reminder in messages_of(appointment, kind=MessageKind.REMINDER):
        assert reminder.error == "rendez-vous déjà passé"


@pytest.mark.django_db
def test_a_move_sends_the_new_date(personas, smtp, sms_file):
    appointment = book(personas)
    delivery.send_due_messages()
    smtp.clear()
    later = next(
        s
        for s in slots_for(personas.motif_a, place=personas.place_a)
        if s.start > appointment.start + dt.timedelta(days=1)
    )
    appointment_move(appointment=appointment, start=later.start)
    delivery.send_due_messages()
    [mail] = smtp.messages
    assert subject(mail) == f"Rendez-vous modifié : {said(later.start)}"
    assert f"Date\u00a0: {said(later.start, typeset=True)}\n" in body_of(mail)
    [event] = attachment_calendar(mail).walk("VEVENT")
    assert event.decoded("DTSTART") == later.start and int(event["SEQUENCE"]) == 1
    assert sms_file.sent()[-1]["text"].startswith(f"Ville A : RDV déplacé au {short(later.start)},")


@pytest.mark.django_db
def test_an_smtp_failure_is_logged_and_the_run_goes_on(personas, settings, sms_file):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    appointment = book(personas)
    stats = delivery.send_due_messages()
    assert (stats.sent, stats.failed) == (1, 1)
    [email] = messages_of(appointment, channel=MessageChannel.EMAIL, kind="confirmation")
    assert email.state == MessageState.FAILED and email.attempts == 1
    assert "ConnectionRefusedError" in email.error and email.sent_at is None
    assert len(sms_file.sent()) == 1
    # Not retried: nothing tells whether a failed message left or not.
    assert delivery.send_due_messages().claimed == 0


@pytest.mark.django_db
def test_an_sms_failure_is_logged(personas, settings, smtp):
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{closed_port()}/sms"
    appointment = book(personas)
    delivery.send_due_messages()
    [text] = messages_of(appointment, channel=MessageChannel.SMS, kind="confirmation")
    assert text.state == MessageState.FAILED and "Fournisseur SMS injoignable" in text.error
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_long_texts_keep_the_sms_within_one_message(personas, smtp, sms_file):
    motif = personas.motif_a
    appointment = book(personas)
    motif.title = ("Faire ses démarches en ligne " * 4).strip()
    motif.what_to_bring = "Un justificatif de domicile de moins de trois mois. " * 6
    motif.save()
    personas.place_a.name = "Maison des services au public de la Ville " * 3
    personas.place_a.save()
    for kind in MessageKind.values:
        message = Message(appointment=appointment, kind=kind, channel=MessageChannel.SMS)
        appointment.refresh_from_db()
        message.appointment = appointment
        text = delivery.render_sms(message)
        assert gsm.gsm7_length(text) <= 160 and gsm.segments(text) == 1
        assert text.endswith(f" {SITE}/r/{appointment.token}")


@pytest.mark.django_db(transaction=True)
def test_the_worker_commits_the_claim_before_sending(personas, smtp, monkeypatch):
    appointment = book(personas)
    seen_from_elsewhere = []

    def provider(to, text):
        def look():
            try:
                with scopes_disabled():  # a new thread starts with no scope
                    seen_from_elsewhere.append(
                        Message.objects.get(
                            appointment=appointment, channel="sms", kind="confirmation"
                        ).state
                    )
            finally:
                connection.close()

        other = threading.Thread(target=look)
        other.start()
        other.join()
        return "id-1"

    monkeypatch.setattr(sms, "send_sms", provider)
    assert "appointments.send_due_messages" in run_due_jobs()
    assert seen_from_elsewhere == [MessageState.SENDING]
    assert len(smtp.messages) == 1
    states = set(Message.objects.filter(kind="confirmation").values_list("state", flat=True))
    assert states == {MessageState.SENT}


@pytest.mark.django_db(transaction=True)
def test_a_worker_holds_one_claim_at_a_time(personas, smtp, monkeypatch):
    messages = queue_sms(personas, 4)
    seen_from_elsewhere = []

    def provider(to, text):
        def look():
            try:
                with scopes_disabled():  # a new thread starts with no scope
                    seen_from_elsewhere.append(states_of(messages))
            finally:
                connection.close()

        other = threading.Thread(target=look)
        other.start()
        other.join()
        return "id-1"

    monkeypatch.setattr(sms, "send_sms", provider)
    assert delivery.send_due_messages().sent == 4
    # While each SMS is on its way, it alone is claimed: the next ones are still queued, so a
    # worker killed there leaves one message in doubt, not a batch.
    assert seen_from_elsewhere == [
        ["sending", "queued", "queued", "queued"],
        ["sent", "sending", "queued", "queued"],
        ["sent", "sent", "sending", "queued"],
        ["sent", "sent", "sent", "sending"],
    ]


@ONLY_ON_POSTGRESQL
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_message_exactly_once(personas, smtp, monkeypatch):
    smtp.delay = 0.02
    first_day = timezone.localdate() + dt.timedelta(days=10)
    for i in range(30):
        appointment = make_appointment(
            personas.motif_a,
            personas.advisor,
            personas.place_a,
            first_day + dt.timedelta(days=i),
            dt.time(10),
            phone="",
            email=f"personne{i}@example.org",
        )
        Message.objects.create(
            structure=personas.a,
            appointment=appointment,
            kind=MessageKind.CONFIRMATION,
            channel=MessageChannel.EMAIL,
            recipient=appointment.email,
            due_at=timezone.now() - dt.timedelta(minutes=1),
            idempotency_key=f"{appointment.pk}:confirmation:email:concurrent",
        )

    claims: dict[str, list[int]] = {}
    real_claim = delivery.claim_next_message

    def recording_claim(**kwargs):
        pk = real_claim(**kwargs)
        if pk is not None:
            claims.setdefault(threading.current_thread().name, []).append(pk)
        return pk

    monkeypatch.setattr(delivery, "claim_next_message", recording_claim)
    start_together = threading.Barrier(4)
    errors = []

    def worker():
        try:
            start_together.wait()
            with scopes_disabled():  # as the worker runs its jobs
                while delivery.send_due_messages(limit=3).claimed:
                    pass
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, name=f"worker-{n}") for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    claimed = [pk for ids in claims.values() for pk in ids]
    assert len(claimed) == len(set(claimed)) == 30  # no message claimed twice
    assert len(claims) >= 2  # the workers really did share the queue
    delivered = smtp.by_message_id()
    assert len(delivered) == 30
    assert all(len(copies) == 1 for copies in delivered.values())
    for message in Message.objects.all():
        assert message.state == MessageState.SENT and message.attempts == 1
        assert delivered[delivery.message_id(message)][0]["To"] == message.recipient
