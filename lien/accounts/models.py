from typing import ClassVar

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lien.core.timefmt import ZONE_CHOICES, zone_for_insee
from lien.core.validators import (
    validate_insee_code,
    validate_phone_field,
    validate_siret,
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A staff member. Residents never have an account."""

    username = None  # type: ignore[assignment]  # signed in by e-mail: the field is removed
    email = models.EmailField(_("adresse e-mail"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    # Not auth's UserManager, whose create_user() takes a username.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("membre de l'équipe")
        verbose_name_plural = _("membres de l'équipe")

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def needs_two_factor(self) -> bool:
        """Operators, and members whose role says so (accounts/permissions.py), use a second
        factor."""
        from lien.accounts.permissions import roles_with  # it imports Role from here

        if self.is_superuser or self.is_staff:
            return True
        return self.memberships.filter(role__in=roles_with("account.two_factor")).exists()


# First path segments the site uses itself; a structure's public pages live at /<slug>/.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "compte",
        "equipe",
        "donnees",
        "static",
        "media",
        "healthz",
        "api",
        "rdv",
        "r",  # /r/<token>, the resident's link in an SMS
        "agenda",
    }
)


def validate_structure_slug(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(
            _("Cet identifiant est réservé par le site : choisissez-en un autre.")
        )


class StructureKind(models.TextChoices):
    COMMUNE = "commune", _("Commune")
    INTERCOMMUNALITY = "intercommunalite", _("Intercommunalité")
    ASSOCIATION = "association", _("Association")


class Structure(models.Model):
    """A town, an intercommunality or an association: the tenant that owns everything else."""

    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(
        _("identifiant dans les adresses"),
        unique=True,
        max_length=60,
        validators=[validate_structure_slug],
    )
    kind = models.CharField(_("type"), max_length=20, choices=StructureKind.choices)
    # These validators also return the normalised value (for forms); Django ignores it.
    siret = models.CharField(
        _("SIRET"),
        max_length=14,
        unique=True,
        validators=[validate_siret],  # type: ignore[list-item]
    )
    insee_code = models.CharField(
        _("code INSEE"),
        max_length=5,
        validators=[validate_insee_code],  # type: ignore[list-item]
    )
    contact_email = models.EmailField(_("e-mail de contact"), blank=True)
    contact_phone = models.CharField(
        _("téléphone de contact"), max_length=16, blank=True, validators=[validate_phone_field]
    )
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    colour = models.CharField(
        _("couleur des pages publiques"),
        max_length=7,
        default="#1d4f91",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Couleur au format #RRGGBB."))],
    )
    retention_months = models.PositiveSmallIntegerField(
        _("durée de conservation des données personnelles (mois)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_(
            "Les personnes sans activité depuis cette durée sont anonymisées automatiquement."
        ),
    )
    # Every date and time the structure's staff and residents read is in this zone
    # (lien/core/timefmt.py). Left blank, it follows the INSEE code (overseas zones).
    time_zone = models.CharField(
        _("fuseau horaire"),
        max_length=40,
        choices=ZONE_CHOICES,
        blank=True,
        help_text=_("Laissé vide, il est déduit du code INSEE (outre-mer compris)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("structure")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(siret__regex=r"^[0-9]{14}$"), name="structure_siret_digits"
            ),
            models.CheckConstraint(
                condition=models.Q(time_zone__in=[zone for zone, _label in ZONE_CHOICES]),
                name="structure_time_zone_known",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.time_zone:
            self.time_zone = zone_for_insee(self.insee_code)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "time_zone"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if not self.time_zone:
            self.time_zone = zone_for_insee(self.insee_code)


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordination")
    ADVISOR = "advisor", _("Conseiller·ère numérique")
    RECEPTION = "reception", _("Accueil")


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user) -> "MembershipQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user, user__is_active=True)


class Membership(models.Model):
    """A staff member's role in one structure. One person can work for several structures."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("rattachement")
        constraints = [
            models.UniqueConstraint(fields=["user", "structure"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["coordinator", "advisor", "reception"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.structure} ({self.get_role_display()})"
