"""Sending the queued messages (e-mail and SMS), at most once each, one claim at a time.

A message is never sent twice, even when a worker is killed mid-run or several workers run at
once, because its claim is committed before it leaves. A worker takes the due messages one by
one, and for each:

1. claim: in one transaction, the first due `queued` row is locked with SKIP LOCKED (other
   workers pass over it) and set to `sending` (attempts + 1, claimed_at);
2. send: outside any transaction; a message whose appointment was cancelled meanwhile is not
   sent (except the cancellation notice itself);
3. record: `sent` (sent_at) or `failed` (error), or `cancelled`, in its own transaction;

then it looks whether a stop was requested (`should_stop`, the worker's SIGTERM flag) before
claiming the next one. So at any moment a worker holds at most one message in `sending`:

- stopped with SIGTERM or SIGINT, it finishes and records the message in flight and claims
  nothing more; every other message is still `queued`, for the next run;
- interrupted by an exception (KeyboardInterrupt) before the message was handed to the
  sender, it gives the message back to the queue; after, it cannot know, and leaves it;
- killed (SIGKILL, power loss) between 1 and 3, it leaves that one message in `sending`.

A row still `sending` after STUCK_AFTER belongs to a worker that died: it may or may not have
left, so it becomes `uncertain` (« À vérifier ») and is never sent again; staff check with the
person. A failed message is not retried either: from the outside a refused send and a send
whose answer was lost look alike.

On SQLite SKIP LOCKED is ignored, but IMMEDIATE transactions serialise the claims.
"""

import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lien.appointments import gsm, ics, sms
from lien.appointments.models import (
    Appointment,
    LocationType,
    Message,
    MessageChannel,
    MessageKind,
    MessageState,
    Status,
)
from lien.core import timefmt
from lien.core.validators import display_phone
from lien.core.worker import periodic, stop_requested

log = logging.getLogger("lien.delivery")

# Longer than any one send can take (EMAIL_TIMEOUT, SMS_HTTP_TIMEOUT, per network operation).
STUCK_AFTER = dt.timedelta(minutes=15)
SMS_MAX_LENGTH = gsm.SINGLE_SEGMENT  # one SMS, not a concatenated one billed twice
DEFAULT_EMAIL_TIMEOUT = 30  # seconds, when settings.EMAIL_TIMEOUT is not set

# Delivery-log texts, read by staff.
UNCERTAIN = (
    "envoi interrompu : impossible de savoir s'il est parti ; "
    "vérifiez auprès de la personne avant de renvoyer"
)
CANCELLED_APPOINTMENT = "rendez-vous annulé"
PAST_APPOINTMENT = "rendez-vous déjà passé"
REACTIVATED_APPOINTMENT = "rendez-vous rétabli, annulation non envoyée"
NO_APPOINTMENT = "aucun rendez-vous lié à ce message"


@dataclass
class DeliveryStats:
    """What one pass did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    uncertain: int = 0  # found stuck in `sending`, now `uncertain`
    stopped: bool = False  # a stop was requested: messages may be left for the next pass


def _never() -> bool:
    return False


def send_due_messages(
    now: dt.datetime | None = None,
    limit: int = 100,
    *,
    should_stop: Callable[[], bool] = _never,
) -> DeliveryStats:
    """Send the messages due at `now`, one at a time, at most `limit`, each at most once.

    `should_stop` is asked before each claim; once it answers True, nothing more is claimed
    (the message in flight, if any, has been sent and recorded).

    Call it outside any transaction: inside one, the claim would not be committed before the
    message leaves. The periodic job below takes care of that for the worker.
    """
    now = now or timezone.now()
    started = time.monotonic()

    def clock() -> dt.datetime:
        return now + dt.timedelta(seconds=time.monotonic() - started)

    stats = DeliveryStats(uncertain=mark_uncertain(now=now))
    mailer = _Mailer()
    try:
        while stats.claimed < limit:
            if should_stop():
                stats.stopped = True
                break
            pk = claim_next_message(now=clock())
            if pk is None:
                break
            stats.claimed += 1
            outcome = _deliver(pk, clock=clock, mailer=mailer)
            if outcome == MessageState.SENT:
                stats.sent += 1
            elif outcome == MessageState.FAILED:
                stats.failed += 1
            elif outcome == MessageState.CANCELLED:
                stats.cancelled += 1
    finally:
        mailer.close()
    return stats


def mark_uncertain(*, now: dt.datetime) -> int:
    """Messages a dead worker left in `sending` become `uncertain`; they are not sent again."""
    with transaction.atomic():
        return Message.objects.filter(
            state=MessageState.SENDING, claimed_at__lt=now - STUCK_AFTER
        ).update(state=MessageState.UNCERTAIN, error=UNCERTAIN)


def claim_next_message(*, now: dt.datetime) -> int | None:
    """Phase 1: claim the first due queued message for this worker and commit the claim."""
    with transaction.atomic():
        pk = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(state=MessageState.QUEUED, due_at__lte=now)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        if pk is not None:
            # The row is locked by this transaction (or, on SQLite, the whole database is).
            Message.objects.filter(pk=pk).update(
                state=MessageState.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    return pk


def _release(pk: int) -> None:
    """Return a claimed message to the queue: it was certainly not handed to a sender."""
    try:
        with transaction.atomic():
            Message.objects.filter(pk=pk, state=MessageState.SENDING).update(
                state=MessageState.QUEUED, claimed_at=None, attempts=F("attempts") - 1
            )
    except Exception:
        log.exception("could not give back claimed message %s", pk)


def _deliver(pk: int, *, clock: Callable[[], dt.datetime], mailer: "_Mailer") -> str | None:
    """Phases 2 and 3 for one claimed message; returns its final state (None: deleted)."""
    handed_over = False
    try:
        message = (
            Message.objects.select_related(
                "appointment__structure", "appointment__motif", "appointment__place"
            )
            .filter(pk=pk)
            .first()
        )
        if message is None:  # deleted with its appointment since the claim
            return None
        reason = _reason_not_to_send(message, now=clock())
        if reason:
            _record(pk, state=MessageState.CANCELLED, error=reason)
            return MessageState.CANCELLED
        try:
            with translation.override(settings.LANGUAGE_CODE):
                if message.channel == MessageChannel.EMAIL:
                    email = build_email(message)
                    handed_over = True
                    mailer.send(email)
                else:
                    text = render_sms(message)
                    handed_over = True
                    provider_id = sms.send_sms(message.recipient, text)
                    log.info("message %s: SMS accepted by the provider as %s", pk, provider_id)
        except Exception as exc:
            log.warning("message %s not sent: %s", pk, exc)
            _record(pk, state=MessageState.FAILED, error=_describe(exc))
            return MessageState.FAILED
        _record(pk, state=MessageState.SENT, error="", sent_at=clock())
        return MessageState.SENT
    except BaseException:
        # Interrupted (KeyboardInterrupt, a lost database…). Before the hand-over nothing
        # left: give the message back. After, it may have left: leave it in `sending`, it
        # becomes `uncertain` after STUCK_AFTER.
        if not handed_over:
            _release(pk)
        raise


def _reason_not_to_send(message: Message, *, now: dt.datetime) -> str:
    appointment = message.appointment
    if appointment is None:
        return NO_APPOINTMENT
    if message.kind == MessageKind.CANCELLATION:
        return REACTIVATED_APPOINTMENT if appointment.is_active else ""
    if not appointment.is_active:
        return CANCELLED_APPOINTMENT
    if message.kind == MessageKind.REMINDER and appointment.start <= now:
        return PAST_APPOINTMENT
    return ""


def _record(pk: int, *, state: str, error: str, sent_at: dt.datetime | None = None) -> None:
    """Phase 3: the outcome, in its own transaction."""
    with transaction.atomic():
        Message.objects.filter(pk=pk).update(state=state, error=error[:2000], sent_at=sent_at)


def _describe(exc: Exception) -> str:
    """For the staff's delivery log: SMS errors are already in French, others are technical."""
    if isinstance(exc, sms.SmsError):
        return str(exc)
    text = str(exc).strip()
    return f"échec de l'envoi ({type(exc).__name__}: {text})" if text else type(exc).__name__


# --- Rendering -------------------------------------------------------------------------


def message_context(appointment: Appointment) -> dict:
    structure = appointment.structure
    return {
        "appointment": appointment,
        "structure": structure,
        "motif": appointment.motif,
        "place": appointment.place,
        "first_name": appointment.first_name,
        "start": timefmt.local(appointment.start, structure),
        "duration": int((appointment.end - appointment.start).total_seconds() // 60),
        "what_to_bring": appointment.motif.what_to_bring.strip(),
        "phone_display": display_phone(appointment.phone),
        "contact_phone": display_phone(structure.contact_phone),
        "link": ics.resident_link(appointment),
        "cancelled_by_service": appointment.status == Status.REVOKED,
    }


def _tidy(text: str) -> str:
    """Templates leave blank lines where tags were: keep at most one empty line."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _appointment(message: Message) -> Appointment:
    """The appointment a message is about: every message Lien sends is queued for one."""
    if message.appointment is None:
        raise ValueError(f"message {message.pk} is about no appointment")
    return message.appointment


def email_subject(message: Message) -> str:
    when = ics.when_text(_appointment(message).start)
    subjects: dict[str, str] = {
        MessageKind.CONFIRMATION: _("Rendez-vous confirmé : %(when)s"),
        MessageKind.CHANGE: _("Rendez-vous modifié : %(when)s"),
        MessageKind.CANCELLATION: _("Rendez-vous annulé : %(when)s"),
        MessageKind.REMINDER: _("Rappel : rendez-vous %(when)s"),
    }
    return subjects[message.kind] % {"when": when}


def message_id(message: Message) -> str:
    """The same Message-ID for the same message, so a receiving server can drop a duplicate."""
    local = re.sub(r"[^A-Za-z0-9._-]+", ".", message.idempotency_key).strip(".")
    return f"<lien.{local}@{ics.site_host()}>"


def build_email(message: Message) -> EmailMultiAlternatives:
    appointment = _appointment(message)
    structure = appointment.structure
    with timefmt.using(structure):  # every date and time in the structure's zone
        body = render_to_string(
            f"appointments/messages/{message.kind}_email.txt", message_context(appointment)
        )
        subject = email_subject(message)
    email = EmailMultiAlternatives(
        subject=subject,
        body=_tidy(body),
        from_email=formataddr((structure.name, ics.sender_address())),
        to=[message.recipient],
        reply_to=[structure.contact_email] if structure.contact_email else None,
        headers={"Message-ID": message_id(message), "Auto-Submitted": "auto-generated"},
    )
    cancel = message.kind == MessageKind.CANCELLATION
    email.attach(
        "annulation.ics" if cancel else "rendez-vous.ics",
        ics.appointment_ics(appointment, cancel=cancel),
        "text/calendar",
    )
    return email


def sms_link(appointment: Appointment) -> str:
    """The resident's private link in its short form (`/r/<token>`, which leads to the page
    `/rdv/<token>/`): in an SMS every character counts."""
    path = reverse("booking:short", args=[appointment.token])
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."


# The SMS, shorter and shorter until it fits one segment: first without the address, then
# without the motif, then without the words before the link (and a cancellation's apology).
# Then the place's name is cut short (« Médiathèque intercommunale Fr... »), then the
# structure's, then the structure's goes (the SMS's sender name still says who writes), then
# the place's. The date, the time and the link always stay whole; only a site address nearly
# as long as an SMS can leave no room for them (the text is then cut, never the link).
SMS_LEVELS = (
    {"with_address": True, "with_motif": True, "with_extras": True},
    {"with_address": False, "with_motif": True, "with_extras": True},
    {"with_address": False, "with_motif": False, "with_extras": True},
    {"with_address": False, "with_motif": False, "with_extras": False},
)
SMS_STRUCTURE_NAME = 30  # longer structure names are always cut to this (a "short name")
SMS_NAME_FLOOR = 16  # a name is not cut shorter than this; it goes altogether


def sms_context(appointment: Appointment) -> dict:
    """What the SMS templates say, already in the GSM-7 alphabet."""
    structure, place = appointment.structure, appointment.place
    on_site = appointment.location_type == LocationType.PUBLIC_OFFICE and place is not None
    with timefmt.using(structure):
        when = timefmt.short_when(appointment.start)
    return {
        **message_context(appointment),
        "structure_name": gsm.shorten(structure.name, SMS_STRUCTURE_NAME),
        "when": when,
        "place_name": gsm.to_gsm7(place.name) if on_site and place else "",
        "address": gsm.to_gsm7(f"{place.address}, {place.city}") if on_site and place else "",
        "motif_title": gsm.to_gsm7(_sentence(appointment.motif.title)),
    }


def render_sms(message: Message) -> str:
    """The SMS text: one segment (at most SMS_MAX_LENGTH GSM-7 characters), transliterated,
    the short link always whole at the end. See SMS_LEVELS for what goes first."""
    appointment = _appointment(message)
    link = gsm.to_gsm7(sms_link(appointment))
    room = SMS_MAX_LENGTH - gsm.gsm7_length(link) - 1  # one space before the link
    template = f"appointments/messages/{message.kind}_sms.txt"
    context = sms_context(appointment)
    choices: dict = {}

    def render() -> str:
        with timefmt.using(appointment.structure):
            text = gsm.to_gsm7(" ".join(render_to_string(template, context | choices).split()))
        text = text.replace(gsm.ELLIPSIS + ".", gsm.ELLIPSIS)  # a shortened name ends a sentence
        return text[:1].upper() + text[1:]  # « Rappel… » once the structure's name went

    def shrink(key: str, floor: int) -> str:
        """Cut `key` by what is too long, to no less than `floor` (0: it may go)."""
        value = choices.get(key, context[key])
        excess = gsm.gsm7_length(body) - room
        choices[key] = gsm.shorten(value, max(gsm.gsm7_length(value) - excess, floor))
        return render()

    for level in SMS_LEVELS:
        choices.update(level)
        body = render()
        if gsm.gsm7_length(body) <= room:
            return f"{body} {link}"
    for key, floor in (
        ("place_name", SMS_NAME_FLOOR),
        ("structure_name", SMS_NAME_FLOOR),
        ("structure_name", 0),
        ("place_name", 0),
    ):
        if floor == 0:
            choices[key] = ""
            body = render()
        else:
            body = shrink(key, floor)
        if gsm.gsm7_length(body) <= room:
            return f"{body} {link}"
    body = gsm.shorten(body, room)
    if not body:
        log.warning("SMS of message %s: the link alone takes %d characters", message.pk, len(link))
        return link
    return f"{body} {link}"


class _Mailer:
    """One SMTP connection for a pass, reopened after an error."""

    def __init__(self) -> None:
        self._connection: BaseEmailBackend | None = None

    def send(self, email: EmailMultiAlternatives) -> None:
        connection = self._connection
        if connection is None:
            connection = self._connection = get_connection(
                fail_silently=False, timeout=settings.EMAIL_TIMEOUT or DEFAULT_EMAIL_TIMEOUT
            )
            connection.open()
        try:
            sent = connection.send_messages([email])
        except Exception:
            self.close()
            raise
        if sent != 1:
            raise RuntimeError("le serveur d'e-mail n'a pas accepté le message")

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.close()
            except Exception as exc:  # a broken connection cannot be closed politely
                log.debug("closing the SMTP connection: %s", exc)


@periodic("appointments.send_due_messages", every=dt.timedelta(minutes=1))
def send_due_messages_job() -> None:
    """The worker runs jobs outside any transaction, so each claim commits before sending.

    A SIGTERM to the worker stops the pass after the message in flight.
    """
    stats = send_due_messages(should_stop=stop_requested)
    if stats.claimed or stats.uncertain:
        log.info("messages: %s", stats)
    if stats.stopped:
        log.info("messages: stop requested, the next due messages wait for the next run")
