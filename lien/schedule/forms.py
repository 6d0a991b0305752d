from django import forms
from django.utils.translation import gettext_lazy as _

from lien.accounts.models import User
from lien.accounts.permissions import can, roles_with
from lien.core.formfields import model_choice
from lien.places.models import Place
from lien.schedule.models import Presence, PresenceException


class PresenceForm(forms.ModelForm):
    class Meta:
        model = Presence
        fields = [
            "advisor",
            "mode",
            "place",
            "weekday",
            "start",
            "end",
            "every_n_weeks",
            "valid_from",
            "valid_until",
            "note",
        ]
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "every_n_weeks": _(
                "1 = chaque semaine, 2 = une semaine sur deux (à partir de la "
                "semaine de la date de début)."
            ),
            "valid_until": _(
                "Laisser vide si la présence continue sans date de fin. Pour une "
                "présence ponctuelle, mettez la même date qu'au début."
            ),
        }

    def __init__(self, *args, structure, membership, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice(self, "place").queryset = Place.objects.of_structure(structure)
        advisors = User.objects.filter(
            memberships__structure=structure,
            memberships__role__in=roles_with("presence.hold"),
            is_active=True,
        ).order_by("first_name", "last_name")
        if not can(membership, "presence.edit_any"):
            advisors = advisors.filter(pk=membership.user_id)
        model_choice(self, "advisor").queryset = advisors
        model_choice(self, "advisor").empty_label = None

    def clean(self):
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and start >= end:
            self.add_error("end", _("L'heure de fin doit être après l'heure de début."))
        if data.get("mode") == "public_office" and not data.get("place"):
            self.add_error("place", _("Choisissez le lieu de la permanence."))
        if data.get("mode") and data.get("mode") != "public_office":
            data["place"] = None
        frm, until = data.get("valid_from"), data.get("valid_until")
        if frm and until and until < frm:
            self.add_error("valid_until", _("La date de fin doit être après la date de début."))
        return data


class PresenceExceptionForm(forms.ModelForm):
    class Meta:
        model = PresenceException
        fields = ["date", "reason"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}
