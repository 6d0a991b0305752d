import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from lien.accounts.models import User
from lien.accounts.permissions import can, roles_with
from lien.appointments.models import Absence, LocationType, Motif, Status
from lien.beneficiaries.models import Beneficiary
from lien.core import taxonomy, timefmt
from lien.core.formfields import model_choice
from lien.places.models import Place


def advisors_of(structure):
    """The structure's members who hold presences and receive appointments."""
    return User.objects.filter(
        memberships__structure=structure,
        memberships__role__in=roles_with("presence.hold"),
        is_active=True,
    ).order_by("first_name", "last_name")


class MotifForm(forms.ModelForm):
    themes = forms.MultipleChoiceField(
        label=_("Thématiques du compte rendu"),
        required=False,
        choices=taxonomy.THEMES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Cochées d'avance dans le compte rendu d'un rendez-vous de ce motif."),
    )

    class Meta:
        model = Motif
        fields = [
            "title",
            "description",
            "duration",
            "location_type",
            "places",
            "bookable_by_residents",
            "min_delay_hours",
            "max_delay_days",
            "what_to_bring",
            "buffer_minutes",
            "active",
            "themes",
        ]
        widgets = {
            "places": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 3}),
            "what_to_bring": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "title": _("Avec les mots des habitants, par exemple « Refaire ma carte d'identité »."),
            "buffer_minutes": _("Pour les visites à domicile et les lieux itinérants."),
        }

    def __init__(self, *args, structure, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice(self, "places").queryset = Place.objects.of_structure(structure)
        self.initial["themes"] = taxonomy.unpack(self.instance.themes)

    def clean_themes(self) -> str:
        return taxonomy.pack(self.cleaned_data["themes"])

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("location_type") == LocationType.PUBLIC_OFFICE and not data.get("places"):
            self.add_error(
                "places", _("Choisissez au moins un lieu pour un rendez-vous sur place.")
            )
        if data.get("location_type") and data["location_type"] != LocationType.PUBLIC_OFFICE:
            data["places"] = Place.objects.none()
        return data


class AbsenceForm(forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["advisor", "start", "end", "reason"]
        widgets = {
            "start": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "end": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, structure, membership, **kwargs):
        super().__init__(*args, **kwargs)
        advisors = advisors_of(structure)
        if not can(membership, "absence.edit_any"):
            advisors = advisors.filter(pk=membership.user_id)
        model_choice(self, "advisor").queryset = advisors
        model_choice(self, "advisor").empty_label = None

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("La fin de l'absence doit être après son début."))
        return data


class StaffBookingForm(forms.Form):
    first_name = forms.CharField(label=_("Prénom"), max_length=80)
    last_name = forms.CharField(label=_("Nom"), max_length=80, required=False)
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    address = forms.CharField(
        label=_("Adresse (visite à domicile)"), max_length=250, required=False
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class WalkInForm(forms.Form):
    """A walk-in: when the person came (today, at the latest now), why (a motif of those
    taken on site), where, and a first name unless they are a person on record (chosen with
    the picker above the form: then `person` is given and no name is asked)."""

    arrival = forms.TimeField(
        label=_("Heure d'arrivée"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Aujourd'hui ; laissée vide, c'est maintenant."),
    )
    motif: "forms.ModelChoiceField[Motif]" = forms.ModelChoiceField(
        label=_("Motif"), queryset=Motif.objects.none()
    )
    place: "forms.ModelChoiceField[Place]" = forms.ModelChoiceField(
        label=_("Lieu"), queryset=Place.objects.none()
    )
    first_name = forms.CharField(
        label=_("Prénom (facultatif)"),
        max_length=80,
        required=False,
        help_text=_("Pour une personne sans fiche ; rien n'est enregistré d'autre."),
    )

    def __init__(
        self,
        *args,
        structure,
        now: dt.datetime,
        person: Beneficiary | None = None,
        place: Place | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.zone = timefmt.zone_of(structure)
        self.now = now
        motifs = on_site_motifs(structure)
        model_choice(self, "motif").queryset = motifs
        model_choice(self, "place").queryset = Place.objects.of_structure(structure)
        self.fields["arrival"].initial = (
            now.astimezone(self.zone).time().replace(second=0, microsecond=0)
        )
        if place is not None:
            self.fields["place"].initial = place.pk
        first_two = list(motifs[:2])
        if len(first_two) == 1:
            self.fields["motif"].initial = first_two[0].pk
        if person is not None:
            del self.fields["first_name"]

    def clean_arrival(self) -> dt.datetime:
        """Today at the time given (now if none); a time still to come is refused."""
        time = self.cleaned_data.get("arrival")
        if time is None:
            return self.now.replace(second=0, microsecond=0)
        today = self.now.astimezone(self.zone).date()
        start = dt.datetime.combine(today, time.replace(second=0, microsecond=0), self.zone)
        if start > self.now:
            raise forms.ValidationError(
                _("L'heure d'arrivée est encore à venir : indiquez une heure passée.")
            )
        return start


def on_site_motifs(structure):
    """The active motifs taken at a place: the ones a walk-in can be for."""
    return Motif.objects.of_structure(structure).filter(
        active=True, location_type=LocationType.PUBLIC_OFFICE
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
