from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from lien.core.validators import normalise_phone
from lien.places import vocabularies as voc
from lien.places.hours import WeeklyRule, find_overlaps
from lien.places.models import Closure, OpeningRule, Place, Weeks


def _multi(values, label) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        choices=[(v, v) for v in values],
        widget=forms.CheckboxSelectMultiple,
    )


class PlaceForm(forms.ModelForm):
    services = _multi(voc.SERVICES, _("Services proposés"))
    publics = _multi(voc.PUBLICS, _("Publics spécifiquement adressés"))
    specific_support = _multi(voc.SPECIFIC_SUPPORT, _("Prise en charge spécifique"))
    fees = _multi(voc.FEES, _("Frais à charge"))
    access_modes = _multi(voc.ACCESS_MODES, _("Modalités d'accès"))
    accompaniment_modes = _multi(voc.ACCOMPANIMENT_MODES, _("Modalités d'accompagnement"))
    national_programmes = _multi(voc.NATIONAL_PROGRAMMES, _("Dispositifs et programmes nationaux"))
    training_labels = _multi(voc.TRAINING_LABELS, _("Formations et labels"))

    class Meta:
        model = Place
        fields = [
            "name",
            "kind",
            "address",
            "address_complement",
            "postcode",
            "city",
            "insee_code",
            "latitude",
            "longitude",
            "phone",
            "email",
            "website",
            "summary",
            "description",
            "accessibility_notes",
            "acceslibre_url",
            "itinerant",
            "published",
            "services",
            "publics",
            "specific_support",
            "fees",
            "access_modes",
            "accompaniment_modes",
            "national_programmes",
            "training_labels",
            "other_labels",
            "pivot",
            "typology",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3, "maxlength": 280}),
            "description": forms.Textarea(attrs={"rows": 5}),
            "accessibility_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_phone(self) -> str:
        value = self.cleaned_data.get("phone", "")
        return normalise_phone(value) if value else ""


class OpeningRuleForm(forms.ModelForm):
    class Meta:
        model = OpeningRule
        fields = ["weekday", "start", "end", "weeks"]
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean(self):
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and start >= end:
            self.add_error("end", _("L'heure de fin doit être après l'heure de début."))
        return data


class BaseOpeningRuleFormSet(forms.BaseInlineFormSet):
    def rules(self) -> list[WeeklyRule]:
        return [
            WeeklyRule(
                f.cleaned_data["weekday"],
                f.cleaned_data["start"],
                f.cleaned_data["end"],
                f.cleaned_data.get("weeks") or Weeks.ALL,
            )
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        problems = find_overlaps(self.rules())
        if problems:
            raise ValidationError(problems)


# The factory's type forgets the base class given as `formset`: say it.
OpeningRuleFormSet = cast(
    type[BaseOpeningRuleFormSet],
    forms.inlineformset_factory(
        Place,
        OpeningRule,
        form=OpeningRuleForm,
        formset=BaseOpeningRuleFormSet,
        extra=3,
        can_delete=True,
    ),
)


class HolidaysForm(forms.Form):
    closed_on_public_holidays = forms.BooleanField(
        label=_("Fermé les jours fériés"), required=False
    )


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ["start_date", "end_date", "reason"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
        }

    def clean(self):
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error(
                "end_date", _("La date de fin doit être le même jour ou après la date de début.")
            )
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier de lieux (CSV du standard national ou JSON, y compris l'ancien format)"),
    )
    MAX_BYTES = 5 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(_("Fichier trop volumineux (5 Mo au maximum)."))
        return upload
