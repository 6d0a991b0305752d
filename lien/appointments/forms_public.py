"""The resident's booking form: a few plain questions, French messages, a honeypot."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from lien.appointments.models import LocationType, Motif
from lien.core.validators import normalise_phone

HONEYPOT = "site_web"


class BookingForm(forms.Form):
    """Who the appointment is for and how to reach them.

    The time (`debut`) travels in the URL and, after a conflict, as a radio choice; the
    view reads it. `site_web` is a honeypot: hidden from people, filled by some robots.
    """

    first_name = forms.CharField(
        label=_("Votre prénom"),
        max_length=80,
        error_messages={"required": _("Indiquez votre prénom.")},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Votre nom (facultatif)"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    phone = forms.CharField(
        label=_("Votre numéro de téléphone"),
        max_length=30,
        required=False,
        help_text=_("Par exemple 06 12 34 56 78. Nous vous enverrons un rappel par SMS."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label=_("Votre adresse e-mail"),
        max_length=254,
        required=False,
        error_messages={"invalid": _("Cette adresse e-mail n'est pas valide. Vérifiez-la.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    address = forms.CharField(
        label=_("Votre adresse, pour la visite à domicile"),
        max_length=250,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    note = forms.CharField(
        label=_("Un mot pour le conseiller (facultatif)"),
        max_length=1000,
        required=False,
        help_text=_(
            "Par exemple : ce que vous voulez faire, ou si vous avez besoin d'aide pour venir."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    site_web = forms.CharField(
        label=_("Laissez ce champ vide"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, motif: Motif, **kwargs):
        super().__init__(*args, **kwargs)
        self.motif = motif
        if motif.location_type == LocationType.HOME:
            self.fields["address"].required = True
            self.fields["address"].error_messages["required"] = _(
                "Indiquez votre adresse : le conseiller vient chez vous."
            )
        else:
            del self.fields["address"]
        if motif.location_type == LocationType.PHONE:
            self.fields["phone"].required = True
            self.fields["phone"].error_messages["required"] = _(
                "Indiquez votre numéro : le conseiller vous appellera."
            )
            self.fields["phone"].help_text = _(
                "Par exemple 06 12 34 56 78. Le conseiller vous appellera à ce numéro."
            )
            self.fields["email"].label = _("Votre adresse e-mail (facultatif)")

    @property
    def honeypot_filled(self) -> bool:
        return bool((self.data.get(HONEYPOT) or "").strip())

    def clean_first_name(self) -> str:
        value = self.cleaned_data["first_name"].strip()
        if not value:
            raise ValidationError(_("Indiquez votre prénom."))
        return value

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        return normalise_phone(value) if value else ""

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if (
            not self.errors.get("phone")
            and not self.errors.get("email")
            and not cleaned.get("phone")
            and not cleaned.get("email")
        ):
            raise ValidationError(
                _(
                    "Indiquez un numéro de téléphone ou une adresse e-mail pour "
                    "que nous puissions vous prévenir."
                ),
                code="no_contact",
            )
        return cleaned
