from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from lien.accounts.models import Structure
from lien.core.scopes import scoped_manager
from lien.core.validators import (
    validate_insee_code,
    validate_phone_field,
    validate_postcode,
)
from lien.places import vocabularies as voc

# Monday is 0, as in datetime.date.weekday(); shared by opening rules and presences.
WEEKDAY_CHOICES = [
    (0, _("lundi")),
    (1, _("mardi")),
    (2, _("mercredi")),
    (3, _("jeudi")),
    (4, _("vendredi")),
    (5, _("samedi")),
    (6, _("dimanche")),
]


class PlaceKind(models.TextChoices):
    OFFICE = "office", _("Bureau du conseiller")
    WORKSHOP_ROOM = "workshop_room", _("Salle d'ateliers")
    SCHOOL = "school", _("École")
    SENIORS_CLUB = "seniors_club", _("Club des seniors")
    YOUTH_CENTRE = "youth_centre", _("Espace jeunes")
    TIERS_LIEU = "tiers_lieu", _("Tiers-lieu")
    LIBRARY = "library", _("Médiathèque")
    OTHER = "other", _("Autre")


class Weeks(models.TextChoices):
    """Which ISO weeks a weekly rule applies to; maps onto OSM `week 1-53/2`."""

    ALL = "all", _("toutes les semaines")
    ODD = "odd", _("semaines impaires")
    EVEN = "even", _("semaines paires")


@deconstructible
class VocabularyValidator:
    """Checks a JSON list field only holds values of one national vocabulary."""

    def __init__(self, field: str):
        self.field = field

    def __call__(self, values) -> None:
        allowed = voc.FIELD_VOCABULARIES[self.field]
        if not isinstance(values, list):
            raise ValidationError(_("Liste de valeurs attendue."))
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise ValidationError(
                _("Valeur(s) hors du référentiel national : %(values)s"),
                params={"values": ", ".join(map(str, unknown))},
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, VocabularyValidator) and other.field == self.field

    def __hash__(self) -> int:
        return hash(self.field)


validate_services = VocabularyValidator("services")
validate_publics = VocabularyValidator("publics_specifiquement_adresses")
validate_specific_support = VocabularyValidator("prise_en_charge_specifique")
validate_fees = VocabularyValidator("frais_a_charge")
validate_programmes = VocabularyValidator("dispositif_programmes_nationaux")
validate_training_labels = VocabularyValidator("formations_labels")
validate_access_modes = VocabularyValidator("modalites_acces")
validate_accompaniment_modes = VocabularyValidator("modalites_accompagnement")


class PlaceQuerySet(models.QuerySet):
    def published(self) -> "PlaceQuerySet":
        return self.filter(published=True)

    def of_structure(self, structure: Structure) -> "PlaceQuerySet":
        return self.filter(structure=structure)


class Place(models.Model):
    """A place where residents find help: fixed (the office) or visited (the seniors' club)."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="places")
    slug = models.SlugField(_("identifiant dans les adresses"), max_length=80)
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type de lieu"), max_length=20, choices=PlaceKind.choices)
    address = models.CharField(_("adresse"), max_length=250)
    address_complement = models.CharField(_("complément d'adresse"), max_length=250, blank=True)
    # These validators also return the normalised value (for forms); Django ignores it.
    postcode = models.CharField(
        _("code postal"),
        max_length=5,
        validators=[validate_postcode],  # type: ignore[list-item]
    )
    city = models.CharField(_("commune"), max_length=120)
    insee_code = models.CharField(
        _("code INSEE"),
        max_length=5,
        blank=True,
        validators=[validate_insee_code],  # type: ignore[list-item]
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    phone = models.CharField(
        _("téléphone"), max_length=16, blank=True, validators=[validate_phone_field]
    )
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("site web"), blank=True)
    accessibility_notes = models.TextField(_("accessibilité"), blank=True)
    acceslibre_url = models.URLField(_("fiche Acceslibre"), blank=True)
    summary = models.CharField(_("présentation courte"), max_length=280, blank=True)
    description = models.TextField(_("présentation détaillée"), blank=True)
    # Fields of the national places standard v1.0.1, with its exact vocabularies.
    pivot = models.CharField(
        _("SIRET ou RNA du lieu"),
        max_length=14,
        blank=True,
        help_text=_("Laissé vide : le SIRET de la structure est publié."),
    )
    typology = models.CharField(
        _("typologie (codes nationaux, séparés par |)"), max_length=100, blank=True
    )
    services = models.JSONField(
        _("services"), default=list, blank=True, validators=[validate_services]
    )
    publics = models.JSONField(
        _("publics spécifiquement adressés"),
        default=list,
        blank=True,
        validators=[validate_publics],
    )
    specific_support = models.JSONField(
        _("prise en charge spécifique"),
        default=list,
        blank=True,
        validators=[validate_specific_support],
    )
    fees = models.JSONField(
        _("frais à charge"), default=list, blank=True, validators=[validate_fees]
    )
    national_programmes = models.JSONField(
        _("dispositifs et programmes nationaux"),
        default=list,
        blank=True,
        validators=[validate_programmes],
    )
    training_labels = models.JSONField(
        _("formations et labels"), default=list, blank=True, validators=[validate_training_labels]
    )
    other_labels = models.CharField(_("autres formations et labels"), max_length=250, blank=True)
    access_modes = models.JSONField(
        _("modalités d'accès"), default=list, blank=True, validators=[validate_access_modes]
    )
    accompaniment_modes = models.JSONField(
        _("modalités d'accompagnement"),
        default=list,
        blank=True,
        validators=[validate_accompaniment_modes],
    )
    itinerant = models.BooleanField(
        _("itinérant"),
        default=False,
        help_text=_("Le conseiller vient dans ce lieu à certains moments seulement."),
    )
    closed_on_public_holidays = models.BooleanField(_("fermé les jours fériés"), default=True)
    published = models.BooleanField(
        _("publié"),
        default=True,
        help_text=_("Visible sur le site public et dans les données ouvertes."),
    )
    source = models.CharField(_("source"), max_length=120, blank=True)
    external_id = models.CharField(_("identifiant d'origine"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_manager(PlaceQuerySet)

    class Meta:
        verbose_name = _("lieu")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["structure", "slug"], name="place_slug_unique"),
            models.CheckConstraint(
                condition=models.Q(postcode__regex=r"^[0-9]{5}$"),
                name="place_postcode_5_digits",
                violation_error_message=_("Le code postal doit comporter 5 chiffres."),
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="place_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="place_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OpeningRule(models.Model):
    """One weekly opening interval of a place (e.g. Thursday 14:00-17:00, odd weeks)."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="opening_rules")
    weekday = models.PositiveSmallIntegerField(
        _("jour"),
        validators=[MaxValueValidator(6)],
        choices=WEEKDAY_CHOICES,
    )
    start = models.TimeField(_("de"))
    end = models.TimeField(_("à"))
    weeks = models.CharField(_("semaines"), max_length=4, choices=Weeks.choices, default=Weeks.ALL)

    objects = scoped_manager(path="place__structure")

    class Meta:
        verbose_name = _("horaire d'ouverture")
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")),
                name="opening_rule_start_before_end",
                violation_error_message=_("L'heure de fin doit être après l'heure de début."),
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="opening_rule_weekday_range"
            ),
            models.CheckConstraint(
                condition=models.Q(weeks__in=["all", "odd", "even"]),
                name="opening_rule_weeks_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M} ({self.weeks})"


class Closure(models.Model):
    """An exceptional closure of a place over whole days (holidays, works…)."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="closures")
    start_date = models.DateField(_("du"))
    end_date = models.DateField(_("au"))
    reason = models.CharField(_("motif"), max_length=200, blank=True)

    objects = scoped_manager(path="place__structure")

    class Meta:
        verbose_name = _("fermeture exceptionnelle")
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_date__lte=models.F("end_date")),
                name="closure_start_before_end",
                violation_error_message=_(
                    "La date de fin doit être le même jour ou après la date de début."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.place} : {self.start_date} → {self.end_date}"
