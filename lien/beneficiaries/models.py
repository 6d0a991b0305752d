"""The people an advisor helps: identified, or anonymous (a statistical profile only).

Personal fields (names, contact, birth year, notes) are wiped by erasure; the statistical
profile (age band, gender, social status, commune) is kept so that statistics never change.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien.accounts.models import Structure
from lien.core import taxonomy
from lien.core.scopes import scoped_manager
from lien.core.text import fold
from lien.core.validators import validate_insee_code, validate_phone_field

# Fields that identify a person: emptied on erasure, exported on an access request.
PERSONAL_FIELDS = ("first_name", "last_name", "phone", "email", "birth_year", "notes")


class BeneficiaryQuerySet(models.QuerySet):
    def of_structure(self, structure: Structure) -> "BeneficiaryQuerySet":
        return self.filter(structure=structure)

    def current(self) -> "BeneficiaryQuerySet":
        """Not merged into another record (erased people stay: their profile counts)."""
        return self.filter(merged_into__isnull=True)

    def identified(self) -> "BeneficiaryQuerySet":
        return self.current().filter(anonymous=False, anonymised_at__isnull=True)

    def search(self, text: str) -> "BeneficiaryQuerySet":
        """Accent- and case-insensitive search on names, phone digits and e-mail."""
        query = self
        for word in fold(text).split():
            digits = "".join(c for c in word if c.isdigit())
            condition = models.Q(search_name__contains=word) | models.Q(email__icontains=word)
            if len(digits) >= 4:
                national = digits[1:] if digits.startswith("0") else digits
                condition |= models.Q(phone__contains=national)
            query = query.filter(condition)
        return query


class Beneficiary(models.Model):
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="beneficiaries")
    anonymous = models.BooleanField(
        _("anonyme"),
        default=False,
        help_text=_("Seul le profil statistique est gardé, sans nom ni coordonnées."),
    )
    first_name = models.CharField(_("prénom"), max_length=80, blank=True)
    last_name = models.CharField(_("nom"), max_length=80, blank=True)
    phone = models.CharField(
        _("téléphone"), max_length=20, blank=True, validators=[validate_phone_field]
    )
    email = models.EmailField(_("e-mail"), blank=True)
    birth_year = models.PositiveSmallIntegerField(
        _("année de naissance"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    age_band = models.CharField(
        _("tranche d'âge"), max_length=30, choices=taxonomy.AGE_BANDS, default=taxonomy.NOT_GIVEN
    )
    gender = models.CharField(
        _("genre"), max_length=20, choices=taxonomy.GENDERS, default=taxonomy.NOT_GIVEN
    )
    social_status = models.CharField(
        _("statut"), max_length=20, choices=taxonomy.SOCIAL_STATUSES, default=taxonomy.NOT_GIVEN
    )
    commune = models.CharField(_("commune"), max_length=120, blank=True)
    commune_insee = models.CharField(
        _("code INSEE de la commune"),
        max_length=5,
        blank=True,
        # Also returns the normalised value (for forms); Django ignores it.
        validators=[validate_insee_code],  # type: ignore[list-item]
    )
    postcode = models.CharField(_("code postal"), max_length=5, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    notice_given_on = models.DateField(_("notice d'information remise le"), null=True, blank=True)
    # Folded "first last" for accent-insensitive search; kept in step by save().
    search_name = models.CharField(max_length=170, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Last accompaniment or appointment: the retention clock starts here.
    last_activity_at = models.DateTimeField(default=timezone.now, db_index=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )

    objects = scoped_manager(BeneficiaryQuerySet)

    class Meta:
        verbose_name = _("personne accompagnée")
        verbose_name_plural = _("personnes accompagnées")
        ordering = ["search_name", "pk"]
        indexes = [
            models.Index(fields=["structure", "search_name"]),
            models.Index(fields=["structure", "birth_year"]),
            models.Index(fields=["structure", "phone"]),
            models.Index(Lower("email"), name="beneficiary_email_lower"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(anonymous=False)
                | models.Q(first_name="", last_name="", phone="", email="", notes=""),
                name="beneficiary_anonymous_has_no_identity",
            ),
            models.CheckConstraint(
                condition=models.Q(anonymous=True)
                | models.Q(anonymised_at__isnull=False)
                | ~models.Q(first_name="", last_name=""),
                name="beneficiary_identified_has_a_name",
            ),
            models.CheckConstraint(
                condition=models.Q(age_band__in=taxonomy.codes("beneficiary_age_band")),
                name="beneficiary_age_band_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(gender__in=taxonomy.codes("beneficiary_gender")),
                name="beneficiary_gender_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(social_status__in=taxonomy.codes("beneficiary_social_status")),
                name="beneficiary_social_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("pk")),
                name="beneficiary_not_merged_into_itself",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs):
        self.search_name = fold(f"{self.first_name} {self.last_name}")
        if self.birth_year:
            self.age_band = taxonomy.age_band(self.birth_year)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_name", "age_band"}
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        if self.anonymised_at:
            return str(_("Personne anonymisée n° %(pk)s") % {"pk": self.pk})
        if self.anonymous:
            return str(_("Personne anonyme n° %(pk)s") % {"pk": self.pk})
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_identified(self) -> bool:
        return not self.anonymous and self.anonymised_at is None


class ImportState(models.TextChoices):
    PENDING = "pending", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminé")
    FAILED = "failed", _("Refusé")


class BeneficiaryImport(models.Model):
    """One uploaded file of beneficiaries, checked then written by the worker."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    state = models.CharField(max_length=10, choices=ImportState.choices, default="pending")
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list, blank=True)  # [{"row": 3, "message": "…"}]
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0
