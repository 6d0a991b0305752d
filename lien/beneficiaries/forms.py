from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lien.beneficiaries.services import EARLIEST_BIRTH_YEAR, IDENTITY_FIELDS
from lien.core import taxonomy
from lien.core.validators import normalise_phone, validate_insee_code, validate_postcode


class BeneficiaryForm(forms.Form):
    """A person's record; the service re-checks everything and writes."""

    anonymous = forms.BooleanField(
        label=_("Personne anonyme"),
        required=False,
        help_text=_("Seul le profil statistique est gardé, sans nom ni coordonnées."),
    )
    first_name = forms.CharField(label=_("Prénom"), max_length=80, required=False)
    last_name = forms.CharField(label=_("Nom"), max_length=80, required=False)
    phone = forms.CharField(
        label=_("Téléphone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    birth_year = forms.IntegerField(
        label=_("Année de naissance"),
        required=False,
        help_text=_("La tranche d'âge en est déduite."),
    )
    age_band = forms.ChoiceField(
        label=_("Tranche d'âge"),
        choices=taxonomy.AGE_BANDS,
        initial=taxonomy.NOT_GIVEN,
        help_text=_("Seulement si l'année de naissance n'est pas connue."),
    )
    gender = forms.ChoiceField(
        label=_("Genre"), choices=taxonomy.GENDERS, initial=taxonomy.NOT_GIVEN
    )
    social_status = forms.ChoiceField(
        label=_("Statut"), choices=taxonomy.SOCIAL_STATUSES, initial=taxonomy.NOT_GIVEN
    )
    commune = forms.CharField(label=_("Commune de résidence"), max_length=120, required=False)
    commune_insee = forms.CharField(label=_("Code INSEE"), max_length=5, required=False)
    postcode = forms.CharField(label=_("Code postal"), max_length=5, required=False)
    notes = forms.CharField(
        label=_("Notes"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Visibles des seuls conseillers. Restez factuel."),
    )

    def __init__(self, *args, birth_year_known: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if birth_year_known:
            # The band follows the birth year; the national rule forbids typing it then.
            self.fields["age_band"].disabled = True
            self.fields["age_band"].help_text = _("Calculée à partir de l'année de naissance.")

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        return normalise_phone(value) if value else ""

    def clean_birth_year(self) -> int | None:
        year = self.cleaned_data["birth_year"]
        last = timezone.localdate().year
        if year is not None and not (EARLIEST_BIRTH_YEAR <= year <= last):
            raise ValidationError(
                _("L'année de naissance doit être comprise entre %(first)s et %(last)s.")
                % {"first": EARLIEST_BIRTH_YEAR, "last": last}
            )
        return year

    def clean_commune_insee(self) -> str:
        value = self.cleaned_data["commune_insee"].strip()
        return validate_insee_code(value) if value else ""

    def clean_postcode(self) -> str:
        value = self.cleaned_data["postcode"].strip()
        return validate_postcode(value) if value else ""

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("anonymous"):
            given = [name for name in IDENTITY_FIELDS if data.get(name)]
            if given:
                raise ValidationError(
                    _(
                        "Une personne anonyme n'a ni nom, ni coordonnées, ni notes : videz ces "
                        "champs ou décochez « Personne anonyme »."
                    )
                )
        elif not self.errors and not (data.get("first_name") or data.get("last_name")):
            self.add_error(
                "last_name",
                _("Indiquez le prénom ou le nom, ou cochez « Personne anonyme »."),
            )
        return data


class MergeSearchForm(forms.Form):
    q = forms.CharField(label=_("Chercher l'autre fiche"), max_length=100, required=False)
