"""The advisors' private ICS feeds: a secret URL a calendar app subscribes to.

Anyone holding the URL reads the feed, so it lists names and motifs only (no phone, no e-mail,
no home address), and it can be revoked: creating a new one revokes the previous ones.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from lien import journal
from lien.accounts.models import Membership, Structure, User
from lien.appointments.ics import feed_ics
from lien.appointments.models import Appointment, CalendarFeed
from lien.core.scopes import scopes_disabled, structure_scope

PAST = dt.timedelta(days=30)
AHEAD = dt.timedelta(days=365)


@transaction.atomic
def feed_create(
    *, structure: Structure, advisor, actor: User | None, actor_label: str = ""
) -> CalendarFeed:
    """A new secret feed URL for `advisor` in `structure`; their earlier feeds stop working
    (counted in the journal entry of the new one)."""
    if not Membership.objects.filter(structure=structure, user=advisor).exists():
        raise ValidationError(_("Cette personne ne fait pas partie de l'équipe."))
    now = timezone.now()
    revoked = CalendarFeed.objects.filter(
        structure=structure, advisor=advisor, revoked_at__isnull=True
    ).update(revoked_at=now)
    feed = CalendarFeed(structure=structure, advisor=advisor)
    feed.full_clean()
    feed.save()
    journal.record(
        structure=structure,
        action="calendar_feed.created",
        obj=feed,
        actor=actor,
        actor_label=actor_label,
        data={"advisor": advisor.pk, "revoked_earlier": revoked},
    )
    return feed


@transaction.atomic
def feed_revoke(*, feed: CalendarFeed, actor: User | None, actor_label: str = "") -> CalendarFeed:
    """The feed URL stops working at once."""
    feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        journal.record(
            structure=feed.structure,
            action="calendar_feed.revoked",
            obj=feed,
            actor=actor,
            actor_label=actor_label,
            data={"advisor": feed.advisor_id},
        )
    return feed


def feed_appointments(feed: CalendarFeed, *, now: dt.datetime | None = None) -> list[Appointment]:
    """The advisor's active appointments in the feed's structure, 30 days back to a year on."""
    now = now or timezone.now()
    return list(
        Appointment.objects.of_structure(feed.structure)
        .active()
        .filter(advisor=feed.advisor, end__gte=now - PAST, start__lte=now + AHEAD)
        .select_related("structure", "motif", "place")
        .order_by("start")
    )


@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed; 404 when the token is unknown, revoked or its advisor left the structure."""
    link_id = CalendarFeed.link_id_of(token)
    # The token (checked first) names the feed in whichever structure it is; the feed is
    # then read in that structure's scope only (core/scopes.py).
    with scopes_disabled():
        found = (
            CalendarFeed.objects.select_related("structure", "advisor")
            .filter(link_id=link_id, revoked_at__isnull=True, advisor__is_active=True)
            .first()
            if link_id
            else None
        )
    if (
        found is None
        or not Membership.objects.filter(structure=found.structure, user=found.advisor).exists()
    ):
        raise Http404
    name = _("Rendez-vous %(structure)s") % {"structure": found.structure.name}
    with structure_scope(found.structure):
        appointments = feed_appointments(found)
        body = feed_ics(appointments, name=name)
        # The feed names people: each fetch is a read, by the advisor's calendar app.
        journal.record(
            structure=found.structure,
            action="calendar_feed.read",
            obj=found,
            actor=found.advisor,
            actor_label="calendar-app",
            data={"appointments": len(appointments)},
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="rendez-vous.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
