"""Activity reports in the national taxonomy, and one accompaniment row per participant.

An `Activity` is what the advisor did (an individual accompaniment or a collective workshop);
an `Accompaniment` is one person helped, with a snapshot of their statistical profile at that
time. Statistics are aggregations over accompaniments, so they stay the same when a person is
later edited, merged or erased. Multi-valued taxonomy fields are packed as "|a|b|"
(`lien.core.taxonomy.pack`).
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lien.accounts.models import Structure
from lien.beneficiaries.models import Beneficiary
from lien.core import taxonomy
from lien.core.scopes import scoped_manager
from lien.places.models import Place

EARLIEST_DATE = dt.date(2000, 1, 1)
MAX_DURATION = 12 * 60


class Kind(models.TextChoices):
    INDIVIDUAL = "individuel", _("Accompagnement individuel")
    COLLECTIVE = "collectif", _("Atelier collectif")


class ActivityQuerySet(models.QuerySet):
    def of_structure(self, structure: Structure) -> "ActivityQuerySet":
        return self.filter(structure=structure)

    def live(self) -> "ActivityQuerySet":
        return self.filter(deleted_at__isnull=True)

    def with_theme(self, code: str) -> "ActivityQuerySet":
        return self.filter(themes__contains=taxonomy.contains(code))


class Activity(models.Model):
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="activities")
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="activities",
        verbose_name=_("médiateur"),
    )
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    date = models.DateField(_("date"))
    duration = models.PositiveSmallIntegerField(_("durée (minutes)"))
    place_type = models.CharField(
        _("lieu"), max_length=20, choices=taxonomy.PLACE_TYPES, default="lieu_activite"
    )
    place = models.ForeignKey(
        Place,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        verbose_name=_("lieu d'activité"),
    )
    commune = models.CharField(_("commune"), max_length=120, blank=True)
    commune_insee = models.CharField(_("code INSEE"), max_length=5, blank=True)
    workshop_title = models.CharField(_("nom de l'atelier"), max_length=200, blank=True)
    themes = models.CharField(_("thématiques"), max_length=700)
    procedure_themes = models.CharField(_("démarches"), max_length=400, blank=True)
    procedure_text = models.CharField(_("précision de la démarche"), max_length=300, blank=True)
    materials = models.CharField(_("matériel"), max_length=120, blank=True)
    autonomy = models.CharField(
        _("autonomie de la personne"), max_length=30, blank=True, choices=taxonomy.AUTONOMY
    )
    level = models.CharField(
        _("niveau de l'atelier"), max_length=20, blank=True, choices=taxonomy.WORKSHOP_LEVELS
    )
    referred = models.BooleanField(_("personne réorientée"), default=False)
    referral = models.CharField(
        _("structure de réorientation"), max_length=40, blank=True, choices=taxonomy.REFERRALS
    )
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    tags = models.CharField(_("étiquettes"), max_length=400, blank=True)
    appointment = models.OneToOneField(
        "appointments.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activity",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager(ActivityQuerySet)
    # Not stored: set on the rows of the list page by selectors.attach_people.
    person: Beneficiary | None

    class Meta:
        verbose_name = _("compte rendu d'activité")
        verbose_name_plural = _("comptes rendus d'activité")
        ordering = ["-date", "-pk"]
        indexes = [
            models.Index(fields=["structure", "date"]),
            models.Index(fields=["advisor", "date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=Kind.values), name="activity_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(duration__gte=1, duration__lte=MAX_DURATION),
                name="activity_duration_range",
            ),
            models.CheckConstraint(
                condition=models.Q(date__gte=EARLIEST_DATE), name="activity_date_from_2000"
            ),
            models.CheckConstraint(
                condition=models.Q(themes__startswith="|", themes__endswith="|")
                & ~models.Q(themes__in=["|", "||"]),
                name="activity_has_a_theme",
            ),
            # Procedure sub-themes and the procedure in words need the procedure theme.
            models.CheckConstraint(
                condition=models.Q(procedure_themes="", procedure_text="")
                | models.Q(themes__contains=taxonomy.contains(taxonomy.PROCEDURE_THEME)),
                name="activity_procedure_needs_theme",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=Kind.INDIVIDUAL, level="")
                | models.Q(kind=Kind.COLLECTIVE, autonomy=""),
                name="activity_autonomy_or_level",
            ),
            models.CheckConstraint(
                condition=models.Q(place_type__in=taxonomy.codes("place_types")),
                name="activity_place_type_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(place_type="lieu_activite") | models.Q(place__isnull=False),
                name="activity_place_when_on_site",
            ),
            models.CheckConstraint(
                condition=models.Q(referral="") | models.Q(referred=True),
                name="activity_referral_needs_referred",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} du {self.date:%d/%m/%Y}"

    @property
    def theme_codes(self) -> list[str]:
        return taxonomy.unpack(self.themes)

    @property
    def theme_labels(self) -> list[str]:
        return [taxonomy.label("themes", c) for c in self.theme_codes]

    @property
    def procedure_codes(self) -> list[str]:
        return taxonomy.unpack(self.procedure_themes)

    @property
    def material_codes(self) -> list[str]:
        return taxonomy.unpack(self.materials)

    @property
    def tag_list(self) -> list[str]:
        return taxonomy.unpack(self.tags)


class Accompaniment(models.Model):
    """One participant of one activity, with their profile as it was that day."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="accompaniments")
    # Denormalised from the activity for statistics over one table.
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    beneficiary = models.ForeignKey(
        Beneficiary,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accompaniments",
    )
    first_time = models.BooleanField(default=True)
    age_band = models.CharField(max_length=30, default=taxonomy.NOT_GIVEN)
    gender = models.CharField(max_length=20, default=taxonomy.NOT_GIVEN)
    social_status = models.CharField(max_length=20, default=taxonomy.NOT_GIVEN)
    commune_insee = models.CharField(max_length=5, blank=True)
    live = models.BooleanField(default=True)  # false once the activity is deleted

    objects = scoped_manager()

    class Meta:
        indexes = [
            models.Index(fields=["structure", "date"]),
            models.Index(fields=["beneficiary", "date"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "beneficiary"],
                condition=models.Q(beneficiary__isnull=False),
                name="accompaniment_once_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.beneficiary_id or 'anonyme'}"


class EntryDefaults(models.Model):
    """What an advisor entered last time, offered again in the next report."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+")
    values = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "structure"], name="entry_defaults_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.structure_id}"
