"""Sending the queued messages (e-mail and SMS), at most once each.

A message is never sent twice, even when a worker is killed mid-run or several workers run at
once, because the claim is committed before anything leaves:

1. claim: in one transaction, due `queued` rows are locked with SKIP LOCKED (other workers pass
   over them) and set to `sending` (attempts + 1, claimed_at);
2. send: for each claimed row, outside any transaction; a message whose appointment was
   cancelled meanwhile is not sent (except the cancellation notice itself);
3. record: `sent` (sent_at) or `failed` (error), each in its own transaction.

A row still `sending` after STUCK_AFTER belongs to a worker that died between 1 and 3: it may
or may not have left, so it is marked failed and never sent again. A failed message is not
retried either: from the outside a refused send and a send whose answer was lost look alike.

On SQLite SKIP LOCKED is ignored, but IMMEDIATE transactions serialise the claims.
"""

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lien.appointments import ics, sms
from lien.appointments.models import (
    Appointment,
    Message,
    MessageChannel,
    MessageKind,
    MessageState,
    Status,
)
from lien.core.validators import display_phone
from lien.core.worker import periodic

log = logging.getLogger("lien.delivery")

STUCK_AFTER = dt.timedelta(minutes=15)
SMS_MAX_LENGTH = 320  # two concatenated SMS
DEFAULT_EMAIL_TIMEOUT = 30  # seconds, when settings.EMAIL_TIMEOUT is not set

# Delivery-log texts, read by staff.
INTERRUPTED = "envoi interrompu, non renvoyé pour éviter un doublon"
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
    interrupted: int = 0  # found stuck in `sending`, marked failed


def send_due_messages(now: dt.datetime | None = None, limit: int = 100) -> DeliveryStats:
    """Send the messages due at `now` (at most `limit`), each at most once.

    Call it outside any transaction: inside one, the claim would not be committed before the
    messages leave. The periodic job below takes care of that for the worker.
    """
    now = now or timezone.now()
    started = time.monotonic()

    def clock() -> dt.datetime:
        return now + dt.timedelta(seconds=time.monotonic() - started)

    stats = DeliveryStats(interrupted=fail_interrupted(now=now))
    claimed = claim_due_messages(now=now, limit=limit)
    stats.claimed = len(claimed)
    mailer = _Mailer()
    try:
        for index, pk in enumerate(claimed):
            try:
                outcome = _deliver(pk, clock=clock, mailer=mailer)
            except BaseException:
                # The messages after this one were never handed to a sender: give them back.
                _release(claimed[index + 1 :])
                raise
            if outcome == MessageState.SENT:
                stats.sent += 1
            elif outcome == MessageState.FAILED:
                stats.failed += 1
            elif outcome == MessageState.CANCELLED:
                stats.cancelled += 1
    finally:
        mailer.close()
    return stats


def fail_interrupted(*, now: dt.datetime) -> int:
    """Mark failed the messages a dead worker left in `sending`; they are not sent again."""
    with transaction.atomic():
        return Message.objects.filter(
            state=MessageState.SENDING, claimed_at__lt=now - STUCK_AFTER
        ).update(state=MessageState.FAILED, error=INTERRUPTED)


def claim_due_messages(*, now: dt.datetime, limit: int = 100) -> list[int]:
    """Phase 1: claim due queued messages for this worker and commit the claim."""
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(state=MessageState.QUEUED, due_at__lte=now)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            # The rows are locked by this transaction: every one of them is updated.
            Message.objects.filter(pk__in=ids, state=MessageState.QUEUED).update(
                state=MessageState.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    return ids


def _release(ids: list[int]) -> None:
    """Return claimed but untouched messages to the queue (they certainly did not leave)."""
    if not ids:
        return
    try:
        with transaction.atomic():
            Message.objects.filter(pk__in=ids, state=MessageState.SENDING).update(
                state=MessageState.QUEUED, claimed_at=None, attempts=F("attempts") - 1
            )
    except Exception:
        log.exception("could not give back %d claimed messages", len(ids))


def _deliver(pk: int, *, clock, mailer: "_Mailer") -> str | None:
    """Phases 2 and 3 for one claimed message; returns its final state."""
    # Refresh the claim just before sending, so a long batch is not taken for a dead worker;
    # if it was (claim no longer ours), do not send.
    with transaction.atomic():
        still_ours = Message.objects.filter(pk=pk, state=MessageState.SENDING).update(
            claimed_at=clock()
        )
    if not still_ours:
        return None
    message = Message.objects.select_related(
        "appointment__structure", "appointment__motif", "appointment__place"
    ).get(pk=pk)
    reason = _reason_not_to_send(message, now=clock())
    if reason:
        _record(pk, state=MessageState.CANCELLED, error=reason)
        return MessageState.CANCELLED
    try:
        with translation.override(settings.LANGUAGE_CODE):
            if message.channel == MessageChannel.EMAIL:
                mailer.send(build_email(message))
            else:
                provider_id = sms.send_sms(message.recipient, render_sms(message))
                log.info("message %s: SMS accepted by the provider as %s", pk, provider_id)
    except Exception as exc:
        log.warning("message %s not sent: %s", pk, exc)
        _record(pk, state=MessageState.FAILED, error=_describe(exc))
        return MessageState.FAILED
    _record(pk, state=MessageState.SENT, error="", sent_at=clock())
    return MessageState.SENT


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
        "start": timezone.localtime(appointment.start),
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


def email_subject(message: Message) -> str:
    when = ics.when_text(message.appointment.start)
    subjects = {
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
    appointment = message.appointment
    structure = appointment.structure
    body = render_to_string(
        f"appointments/messages/{message.kind}_email.txt", message_context(appointment)
    )
    email = EmailMultiAlternatives(
        subject=email_subject(message),
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


def render_sms(message: Message) -> str:
    """The SMS text: at most SMS_MAX_LENGTH characters, the link always whole at the end."""
    appointment = message.appointment
    link = ics.resident_link(appointment)
    room = SMS_MAX_LENGTH - len(link) - 1
    template = f"appointments/messages/{message.kind}_sms.txt"
    context = message_context(appointment)
    # Shorter and shorter: without what to bring (1), then without the address (2).
    for compact in (0, 1, 2):
        body = " ".join(render_to_string(template, {**context, "compact": compact}).split())
        if len(body) <= room:
            break
    else:
        body = body[: room - 1].rstrip() + "…"
    return f"{body} {link}"


class _Mailer:
    """One SMTP connection for a pass, reopened after an error."""

    def __init__(self) -> None:
        self._connection = None

    def send(self, email: EmailMultiAlternatives) -> None:
        if self._connection is None:
            self._connection = get_connection(
                fail_silently=False, timeout=settings.EMAIL_TIMEOUT or DEFAULT_EMAIL_TIMEOUT
            )
            self._connection.open()
        try:
            sent = self._connection.send_messages([email])
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
    """The worker runs jobs outside any transaction, so each claim commits before sending."""
    stats = send_due_messages()
    if stats.claimed or stats.interrupted:
        log.info("messages: %s", stats)
