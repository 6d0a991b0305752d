from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lien.accounts.models import Structure
from lien.core.scopes import scoped_manager
from lien.places.models import WEEKDAY_CHOICES, Place


class PresenceMode(models.TextChoices):
    """Where the advisor is during a presence. Mirrors the appointment location types."""

    ON_SITE = "public_office", _("Sur place")
    PHONE = "phone", _("Par téléphone")
    HOME = "home", _("À domicile")
    VISIO = "visio", _("En visio")


class PresenceQuerySet(models.QuerySet):
    def of_structure(self, structure: Structure) -> "PresenceQuerySet":
        return self.filter(structure=structure)


class Presence(models.Model):
    """An advisor's recurring presence: the single source of where and when help is given.

    Every `every_n_weeks` weeks counted from the week of `valid_from`, on `weekday`,
    from `start` to `end`, between `valid_from` and `valid_until` (inclusive).
    A one-off presence is a rule whose valid_from and valid_until are the same day.
    The appointment engine computes availability from these rows.
    """

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="presences")
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="presences",
        verbose_name=_("conseiller·ère"),
    )
    mode = models.CharField(
        _("modalité"), max_length=20, choices=PresenceMode.choices, default=PresenceMode.ON_SITE
    )
    place = models.ForeignKey(
        Place,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="presences",
        verbose_name=_("lieu"),
    )
    weekday = models.PositiveSmallIntegerField(
        _("jour"), choices=WEEKDAY_CHOICES, validators=[MaxValueValidator(6)]
    )
    start = models.TimeField(_("de"))
    end = models.TimeField(_("à"))
    every_n_weeks = models.PositiveSmallIntegerField(
        _("toutes les … semaines"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
    )
    valid_from = models.DateField(_("à partir du"))
    valid_until = models.DateField(_("jusqu'au"), null=True, blank=True)
    note = models.CharField(_("précision pour le public"), max_length=200, blank=True)

    objects = scoped_manager(PresenceQuerySet)

    class Meta:
        verbose_name = _("présence")
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")),
                name="presence_start_before_end",
                violation_error_message=_("L'heure de fin doit être après l'heure de début."),
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="presence_valid_range",
                violation_error_message=_("La date de fin doit être après la date de début."),
            ),
            models.CheckConstraint(
                condition=models.Q(every_n_weeks__gte=1, every_n_weeks__lte=8),
                name="presence_every_n_weeks_range",
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="presence_weekday_range"
            ),
            # On site means at a place; remote modes have no place.
            models.CheckConstraint(
                condition=(
                    models.Q(mode="public_office", place__isnull=False)
                    | (~models.Q(mode="public_office") & models.Q(place__isnull=True))
                ),
                name="presence_place_iff_on_site",
                violation_error_message=_(
                    "Une présence sur place doit avoir un lieu ; "
                    "une présence à distance n'en a pas."
                ),
            ),
        ]
        indexes = [models.Index(fields=["structure", "advisor"])]

    def __str__(self) -> str:
        where = self.place.name if self.place is not None else self.get_mode_display()
        hours = f"{self.start:%H:%M}-{self.end:%H:%M}"
        return f"{self.advisor} — {self.get_weekday_display()} {hours} ({where})"


class PresenceException(models.Model):
    """A date on which a recurring presence does not take place (leave, training…)."""

    presence = models.ForeignKey(Presence, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField(_("date"))
    reason = models.CharField(_("motif"), max_length=200, blank=True)

    objects = scoped_manager(path="presence__structure")

    class Meta:
        verbose_name = _("exception de présence")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["presence", "date"], name="presence_exception_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.presence} — {self.date:%d/%m/%Y}"
