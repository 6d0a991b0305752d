"""Forms of the GDPR and import pages."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier de personnes (export XLSX ou CSV de La Coop de la médiation numérique)"),
    )
    MAX_BYTES = 10 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(_("Fichier trop volumineux (10 Mo au maximum)."))
        return upload


class RetentionForm(forms.Form):
    months = forms.IntegerField(
        label=_("Durée de conservation sans activité (mois)"),
        min_value=1,
        max_value=120,
        help_text=_("12 mois est la durée recommandée pour l'accompagnement au numérique."),
    )
