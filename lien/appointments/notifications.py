"""Which messages an appointment gets, and when: rows in the Message queue.

Sending is the worker's job (`delivery.py`). Each row has an idempotency key, unique in the
database, so scheduling the same message twice creates it once.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from lien.appointments.models import (
    Appointment,
    Message,
    MessageChannel,
    MessageKind,
    MessageState,
)


def _channels(appointment: Appointment) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if appointment.email:
        out.append((MessageChannel.EMAIL, appointment.email))
    if appointment.phone and sms_enabled():
        out.append((MessageChannel.SMS, appointment.phone))
    return out


def sms_enabled() -> bool:
    return settings.SMS_BACKEND != "none"


def _version(appointment: Appointment) -> str:
    """Changes when the appointment moves, so a moved appointment gets new reminders."""
    return appointment.start.astimezone(dt.UTC).strftime("%Y%m%dT%H%MZ")


def schedule_for(appointment: Appointment, kind: str) -> list[Message]:
    """Queue the immediate message of `kind` and, unless cancelled, the reminders."""
    from lien.appointments.services import policy_for

    now = timezone.now()
    wanted: list[tuple[str, str, str, dt.datetime, str]] = []
    for channel, recipient in _channels(appointment):
        wanted.append(
            (
                kind,
                channel,
                recipient,
                now,
                f"{appointment.pk}:{kind}:{channel}:{_version(appointment)}",
            )
        )
    if kind != MessageKind.CANCELLATION and appointment.is_active:
        for rule in policy_for(appointment.structure).reminders:
            channel, hours = rule.get("channel"), int(rule.get("hours", 0))
            recipient = (
                appointment.email
                if channel == MessageChannel.EMAIL
                else (appointment.phone if channel == MessageChannel.SMS and sms_enabled() else "")
            )
            due = appointment.start - dt.timedelta(hours=hours)
            if recipient and hours > 0 and due > now:
                wanted.append(
                    (
                        MessageKind.REMINDER,
                        channel,
                        recipient,
                        due,
                        f"{appointment.pk}:reminder:{channel}:{hours}:{_version(appointment)}",
                    )
                )
    created = []
    for kind_, channel, recipient, due, key in wanted:
        message, _new = Message.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "structure": appointment.structure,
                "appointment": appointment,
                "kind": kind_,
                "channel": channel,
                "recipient": recipient,
                "due_at": due,
            },
        )
        created.append(message)
    return created


def withdraw_pending(appointment: Appointment) -> int:
    """Queued messages of an appointment that changed will not be sent."""
    return Message.objects.filter(appointment=appointment, state=MessageState.QUEUED).update(
        state=MessageState.CANCELLED, error="rendez-vous modifié ou annulé"
    )
