"""Appointments: reasons (motifs), advisor absences, appointments and their messages."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lien.accounts.models import Structure
from lien.core import links
from lien.core.scopes import scoped_manager
from lien.core.validators import validate_phone_field
from lien.places.models import Place


class LocationType(models.TextChoices):
    """Where an appointment happens (RDV Service Public vocabulary)."""

    PUBLIC_OFFICE = "public_office", _("Sur place")
    PHONE = "phone", _("Par téléphone")
    HOME = "home", _("À domicile")
    VISIO = "visio", _("En visio")


class Status(models.TextChoices):
    UNKNOWN = "unknown", _("À venir")
    SEEN = "seen", _("Honoré")
    # The words of the buttons that set them (« Honoré », « Absent·e », « Excusé·e »). The
    # person cancelling by their private link is « excusé·e » too.
    EXCUSED = "excused", _("Excusé·e")
    REVOKED = "revoked", _("Annulé par le service")
    NOSHOW = "noshow", _("Absent·e")


# What a private link's MAC is for (lien/core/links.py): one key per kind of link.
APPOINTMENT_LINK = "appointment"
CALENDAR_FEED_LINK = "calendar-feed"

# Statuses of an appointment that still stands (shown in feeds, counted, cancellable).
ACTIVE_STATUSES = (Status.UNKNOWN, Status.SEEN, Status.NOSHOW)
# Statuses that hold the advisor's time: no other appointment may overlap them (PostgreSQL's
# exclusion constraint, migration 0009; `services._overlaps` on SQLite). A no-show holds nothing:
# nobody came, so the advisor may record a walk-in in that time.
HOLDING_STATUSES = (Status.UNKNOWN, Status.SEEN)


class Channel(models.TextChoices):
    ONLINE = "online", _("En ligne")
    STAFF = "staff", _("Par l'équipe")
    WALK_IN = "walk_in", _("Sans rendez-vous")


class MotifQuerySet(models.QuerySet):
    def of_structure(self, structure: Structure) -> "MotifQuerySet":
        return self.filter(structure=structure)

    def bookable_online(self) -> "MotifQuerySet":
        return self.filter(active=True, bookable_by_residents=True)


class Motif(models.Model):
    """A reason for an appointment, in the resident's words."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="motifs")
    title = models.CharField(_("intitulé pour le public"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    duration = models.PositiveSmallIntegerField(
        _("durée (minutes)"), default=30, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    location_type = models.CharField(
        _("où"), max_length=20, choices=LocationType.choices, default=LocationType.PUBLIC_OFFICE
    )
    places = models.ManyToManyField(
        Place, blank=True, related_name="motifs", verbose_name=_("lieux")
    )
    bookable_by_residents = models.BooleanField(
        _("réservable en ligne par le public"), default=True
    )
    min_delay_hours = models.PositiveSmallIntegerField(
        _("délai minimum avant le rendez-vous (heures)"),
        default=2,
        validators=[MaxValueValidator(24 * 60)],
    )
    max_delay_days = models.PositiveSmallIntegerField(
        _("réservable jusqu'à (jours)"),
        default=56,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    what_to_bring = models.TextField(_("à apporter"), blank=True)
    # National themes proposed when the advisor writes the report of such an appointment.
    themes = models.CharField(_("thématiques du compte rendu"), max_length=700, blank=True)
    buffer_minutes = models.PositiveSmallIntegerField(
        _("temps de trajet avant et après (minutes)"),
        default=0,
        validators=[MaxValueValidator(240)],
    )
    active = models.BooleanField(_("actif"), default=True)

    objects = scoped_manager(MotifQuerySet)

    class Meta:
        verbose_name = _("motif de rendez-vous")
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration__gte=5, duration__lte=480), name="motif_duration_range"
            ),
            models.CheckConstraint(
                condition=models.Q(location_type__in=[c.value for c in LocationType]),
                name="motif_location_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Absence(models.Model):
    """An advisor is away (leave, training, sick): no slot is offered then."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="absences")
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="absences",
        verbose_name=_("conseiller·ère"),
    )
    start = models.DateTimeField(_("du"))
    end = models.DateTimeField(_("au"))
    reason = models.CharField(_("motif"), max_length=200, blank=True)

    objects = scoped_manager()

    class Meta:
        verbose_name = _("absence")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")),
                name="absence_start_before_end",
                violation_error_message=_("La fin de l'absence doit être après son début."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.advisor} {self.start:%d/%m/%Y %H:%M} → {self.end:%d/%m/%Y %H:%M}"


def new_token() -> str:
    """Referenced by migration 0001 only (tokens are no longer stored: see `link_id`)."""
    return secrets.token_urlsafe(24)


def new_feed_token() -> str:
    """Referenced by migration 0003 only (tokens are no longer stored: see `link_id`)."""
    return secrets.token_urlsafe(32)


class AppointmentQuerySet(models.QuerySet):
    def of_structure(self, structure: Structure) -> "AppointmentQuerySet":
        return self.filter(structure=structure)

    def by_token(self, token: str) -> "Appointment | None":
        """The appointment a resident's link opens, or None (lien/core/links.py)."""
        link_id = links.link_id_of(APPOINTMENT_LINK, token)
        return self.filter(link_id=link_id).first() if link_id else None

    def active(self) -> "AppointmentQuerySet":
        return self.filter(status__in=ACTIVE_STATUSES)

    def holding(self) -> "AppointmentQuerySet":
        """Appointments that hold their advisor's time (HOLDING_STATUSES)."""
        return self.filter(status__in=HOLDING_STATUSES)


class Appointment(models.Model):
    """One appointment with one resident.

    `blocked_start`/`blocked_end` is the advisor's time it holds, travel buffers included.
    On PostgreSQL an exclusion constraint forbids two active appointments of one advisor
    whose blocked ranges overlap (migration 0002); on SQLite the booking service takes the
    database write lock first (IMMEDIATE transactions) and checks, which is equivalent there.
    """

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="appointments")
    motif = models.ForeignKey(Motif, on_delete=models.RESTRICT, related_name="appointments")
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.RESTRICT, related_name="appointments"
    )
    location_type = models.CharField(max_length=20, choices=LocationType.choices)
    place = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.RESTRICT, related_name="appointments"
    )
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.UNKNOWN
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    first_name = models.CharField(_("prénom"), max_length=80)
    last_name = models.CharField(_("nom"), max_length=80, blank=True)
    phone = models.CharField(
        _("téléphone"), max_length=16, blank=True, validators=[validate_phone_field]
    )
    email = models.EmailField(_("e-mail"), blank=True)
    note = models.TextField(_("message de la personne"), blank=True, max_length=1000)
    address = models.CharField(_("adresse (visite à domicile)"), max_length=250, blank=True)
    beneficiary = models.ForeignKey(
        "beneficiaries.Beneficiary",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The resident's private link is `token` (below): this id and a MAC under SECRET_KEY that
    # is stored nowhere, so a copy of the database opens no appointment.
    link_id = models.CharField(max_length=40, unique=True, default=links.new_id, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager(AppointmentQuerySet)

    class Meta:
        verbose_name = _("rendez-vous")
        verbose_name_plural = _("rendez-vous")
        ordering = ["start"]
        indexes = [
            models.Index(fields=["advisor", "blocked_start"]),
            models.Index(fields=["structure", "start"]),
            models.Index(fields=["phone", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="appointment_start_before_end"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    blocked_start__lte=models.F("start"), blocked_end__gte=models.F("end")
                ),
                name="appointment_blocked_covers_appointment",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in Status]),
                name="appointment_status_valid",
            ),
            # Residents must be reachable: a phone or an e-mail (walk-ins excepted).
            models.CheckConstraint(
                condition=~models.Q(phone="", email="") | models.Q(channel="walk_in"),
                name="appointment_has_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%d/%m/%Y %H:%M} {self.motif} ({self.first_name})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def token(self) -> str:
        """The secret of the resident's link /rdv/<token>/."""
        return links.token_for(APPOINTMENT_LINK, self.link_id)


class BookingPolicy(models.Model):
    """Per-structure booking settings: reminders and anti-abuse caps."""

    structure = models.OneToOneField(
        Structure, on_delete=models.CASCADE, related_name="booking_policy"
    )
    # [{"channel": "email", "hours": 48}, {"channel": "sms", "hours": 24}]
    reminders = models.JSONField(_("rappels"), default=list, blank=True)
    max_open_per_contact = models.PositiveSmallIntegerField(
        _("rendez-vous à venir au maximum par téléphone ou e-mail"), default=3
    )

    DEFAULT_REMINDERS = [{"channel": "email", "hours": 48}, {"channel": "sms", "hours": 24}]

    objects = scoped_manager()

    class Meta:
        verbose_name = _("réglages des rendez-vous")

    def __str__(self) -> str:
        return str(self.structure)


class MessageKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Confirmation")
    CHANGE = "change", _("Modification")
    CANCELLATION = "cancellation", _("Annulation")
    REMINDER = "reminder", _("Rappel")


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class MessageState(models.TextChoices):
    QUEUED = "queued", _("En attente")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")
    CANCELLED = "cancelled", _("Annulé")
    # Left in `sending` by a worker that died: it may or may not have left. Never resent.
    UNCERTAIN = "uncertain", _("À vérifier")


class Message(models.Model):
    """One message to send, and its delivery log.

    Sending is at most once by construction: a worker claims one message at a time and
    commits the claim (queued → sending, SKIP LOCKED), then sends it, then records the outcome
    before claiming the next. A claim left in `sending` by a killed worker is never sent again;
    after `delivery.STUCK_AFTER` it becomes `uncertain` (« À vérifier »): staff check with the
    person before sending anything again.
    """

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    channel = models.CharField(max_length=10, choices=MessageChannel.choices)
    recipient = models.CharField(max_length=254)
    due_at = models.DateTimeField(db_index=True)
    state = models.CharField(
        max_length=10, choices=MessageState.choices, default=MessageState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_manager()

    class Meta:
        verbose_name = _("message")
        ordering = ["due_at"]
        indexes = [models.Index(fields=["state", "due_at"])]

    def __str__(self) -> str:
        return f"{self.kind}/{self.channel} → {self.recipient} ({self.state})"


class CalendarFeed(models.Model):
    """A private ICS feed of one advisor's appointments, at a secret, revocable URL."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+")
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    # The feed's URL is /agenda/<token>.ics (below): this id and a MAC stored nowhere.
    link_id = models.CharField(max_length=40, unique=True, default=links.new_id, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager()

    class Meta:
        verbose_name = _("agenda ICS privé")

    def __str__(self) -> str:
        return f"{self.advisor} ({'révoqué' if self.revoked_at else 'actif'})"

    @property
    def token(self) -> str:
        return links.token_for(CALENDAR_FEED_LINK, self.link_id)

    @classmethod
    def link_id_of(cls, token: str) -> str | None:
        return links.link_id_of(CALENDAR_FEED_LINK, token)
