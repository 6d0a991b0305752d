"""Forms of the GDPR and import pages."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from lien.beneficiaries import importer


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier de personnes (export XLSX ou CSV de La Coop de la médiation numérique)"),
    )
    MAX_BYTES = importer.MAX_BYTES  # refused before reading; `importer.check` refuses it too

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(
                _("Fichier trop volumineux (%(max)s Mo au maximum).")
                % {"max": self.MAX_BYTES // (1024 * 1024)}
            )
        return upload


class RetentionForm(forms.Form):
    months = forms.IntegerField(
        label=_("Durée de conservation sans activité (mois)"),
        min_value=1,
        max_value=120,
        help_text=_("12 mois est la durée recommandée pour l'accompagnement au numérique."),
    )
