"""The activity report form: built for a phone, checked with the services' taxonomy rules."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from lien.activities import services
from lien.activities.models import MAX_DURATION, Kind
from lien.beneficiaries.models import Beneficiary
from lien.core import params, taxonomy
from lien.core.formfields import choice, model_choice
from lien.core.validators import validate_insee_code
from lien.places.models import Place


def _minutes(value: int) -> str:
    hours, minutes = divmod(value, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"


def _checks(choices, label) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, required=False, choices=choices, widget=forms.CheckboxSelectMultiple
    )


def _radios(choices, label) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=choices, widget=forms.RadioSelect)


def _blank(choices) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


def counter_label(code: str) -> str:
    if code == "total":
        return str(_("Participants anonymes (nombre)"))
    if code == "deja_accompagne":
        return str(_("dont déjà accompagnés auparavant"))
    for prefix, key in (
        ("genre_", "beneficiary_gender"),
        ("tranche_age_", "beneficiary_age_band"),
        ("statut_social_", "beneficiary_social_status"),
    ):
        if code.startswith(prefix):
            return taxonomy.label(key, code.removeprefix(prefix))
    return code


COUNTER_PREFIX = "n_"  # form field names of the anonymous counters: "n_genre_feminin"…
# The value of the person choice that asks to find or create the appointment's person.
FROM_APPOINTMENT = "rdv"
# The remembered values (`selectors.defaults_for`) by group: one sentence each on the form.
REMEMBERED_GROUPS = {
    "duration": ("duration",),
    "where": ("place_type", "place", "commune", "commune_insee"),
    "materials": ("materials",),
}


def _usable(remembered: dict[str, Any], initial: dict[str, Any], places) -> dict[str, Any]:
    """The remembered values that still read right, by whole groups: a group that `initial`
    sets (from the appointment, or a copied report) is left out, and so is one that no longer
    makes sense (a place since removed, a code no longer in the taxonomy)."""
    usable: dict[str, Any] = {}
    duration = remembered.get("duration")
    if (
        "duration" not in initial
        and isinstance(duration, int)
        and not isinstance(duration, bool)
        and 1 <= duration <= MAX_DURATION
    ):
        usable["duration"] = duration
    where = {name: remembered.get(name) for name in REMEMBERED_GROUPS["where"]}
    if not any(name in initial for name in where):
        place_type = where["place_type"]
        if place_type == "lieu_activite":
            place = params.positive_id(where["place"])
            if place is not None and places.filter(pk=place).exists():
                usable.update(place_type=place_type, place=place)
        elif (
            place_type in taxonomy.codes("place_types")
            and isinstance(where["commune"], str)
            and isinstance(where["commune_insee"], str)
            and where["commune"]
            and where["commune_insee"]
        ):
            usable.update(
                place_type=place_type,
                commune=where["commune"],
                commune_insee=where["commune_insee"],
            )
    materials = remembered.get("materials")
    if "materials" not in initial and isinstance(materials, list):
        kept = [code for code in taxonomy.codes("materials") if code in materials]
        if kept:
            usable["materials"] = kept
    return usable


class ActivityForm(forms.Form):
    """A report, that never decides anything the advisor did not see and choose.

    The person: an appointment linked to a person on record starts with that person chosen;
    otherwise the report starts *without a record* (counted anonymously, with a profile). A
    record is found or created from the appointment's name and contact only when the advisor
    chooses that option (`FROM_APPOINTMENT` among the people: never pre-chosen).

    Remembered values (what `services._remember` stored from the advisor's last report, passed
    as `remembered`) are shown as one sentence per group, « Comme la dernière fois : … —
    modifier », the fields themselves folded under « modifier »:
    - single values (duration; place type, place and commune) are pre-selected inside the fold,
      so the report keeps them unless the advisor opens it and picks another;
    - remembered materials are not ticked boxes: they travel as hidden `materials_kept` values
      and are kept; the boxes under « modifier » only add (`materials`, the others) or, each
      saying so, remove one remembered value (`materials_drop`). A tap that meant "add" can
      therefore never remove a remembered value.
    A group that the appointment or the copied report sets (`initial`) is not taken from
    memory; a copy and an edit show their own values as plain fields.
    """

    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    duration = _radios([(str(m), _minutes(m)) for m in taxonomy.DURATION_PRESETS], _("Durée"))
    duration_other = forms.IntegerField(
        label=_("Autre durée, en minutes"),
        required=False,
        min_value=1,
        max_value=MAX_DURATION,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    # The person of an individual accompaniment.
    beneficiary: "forms.ModelChoiceField[Beneficiary]" = forms.ModelChoiceField(
        label=_("Personne accompagnée"),
        queryset=Beneficiary.objects.none(),
        required=False,
        empty_label=_("— Sans fiche —"),
    )
    # Set by choosing FROM_APPOINTMENT among the people (see `__init__`); never pre-chosen.
    from_contact = forms.BooleanField(
        label=_("Retrouver ou créer la fiche de la personne du rendez-vous"), required=False
    )
    anon_gender = forms.ChoiceField(
        label=_("Genre"), required=False, choices=taxonomy.GENDERS, initial=taxonomy.NOT_GIVEN
    )
    anon_age_band = forms.ChoiceField(
        label=_("Tranche d'âge"),
        required=False,
        choices=taxonomy.AGE_BANDS,
        initial=taxonomy.NOT_GIVEN,
    )
    anon_social_status = forms.ChoiceField(
        label=_("Statut"),
        required=False,
        choices=taxonomy.SOCIAL_STATUSES,
        initial=taxonomy.NOT_GIVEN,
    )
    anon_commune = forms.CharField(
        label=_("Commune de la personne"), max_length=120, required=False
    )
    anon_commune_insee = forms.CharField(
        label=_("Code INSEE de sa commune"), max_length=5, required=False
    )
    anon_returning = forms.BooleanField(label=_("Déjà accompagnée auparavant"), required=False)
    # The people of a workshop.
    workshop_title = forms.CharField(label=_("Nom de l'atelier"), max_length=200, required=False)
    participants: "forms.ModelMultipleChoiceField[Beneficiary]" = forms.ModelMultipleChoiceField(
        label=_("Participants dont vous avez la fiche"),
        queryset=Beneficiary.objects.none(),
        required=False,
    )
    place_type = _radios(taxonomy.PLACE_TYPES, _("Lieu"))
    place: "forms.ModelChoiceField[Place]" = forms.ModelChoiceField(
        label=_("Lequel de vos lieux"), queryset=Place.objects.none(), required=False
    )
    commune = forms.CharField(label=_("Commune"), max_length=120, required=False)
    commune_insee = forms.CharField(
        label=_("Code INSEE de la commune"), max_length=5, required=False
    )
    themes = _checks(taxonomy.THEMES, _("Thématiques"))
    procedure_themes = _checks(taxonomy.PROCEDURE_THEMES, _("Démarches administratives"))
    procedure_text = forms.CharField(
        label=_("Précision de la démarche"), max_length=300, required=False
    )
    materials = _checks(taxonomy.MATERIALS, _("Matériel utilisé"))
    # Remembered materials: kept as shown unless removed one by one (see `ActivityForm`).
    materials_kept = forms.MultipleChoiceField(
        required=False, choices=taxonomy.MATERIALS, widget=forms.MultipleHiddenInput
    )
    materials_drop = _checks(taxonomy.MATERIALS, _("Ne plus compter"))
    autonomy = _radios(taxonomy.AUTONOMY, _("Autonomie de la personne"))
    level = _radios(taxonomy.WORKSHOP_LEVELS, _("Niveau de l'atelier"))
    referred = forms.BooleanField(label=_("Personne réorientée"), required=False)
    referral = forms.ChoiceField(
        label=_("Vers quelle structure"), required=False, choices=_blank(taxonomy.REFERRALS)
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Visibles des seuls conseillers ; n'y écrivez que l'utile."),
    )
    tags = forms.CharField(
        label=_("Étiquettes"),
        max_length=380,
        required=False,
        help_text=_("Mots libres séparés par des virgules."),
    )

    def __init__(
        self,
        *args,
        structure,
        kind: str,
        appointment=None,
        remembered: dict[str, Any] | None = None,
        **kwargs,
    ):
        initial = dict(kwargs.pop("initial", None) or {})
        places = Place.objects.of_structure(structure)
        remembered = _usable(remembered or {}, initial, places)
        remembered_materials = remembered.pop("materials", [])
        initial.update(remembered)
        duration = initial.pop("duration", None)
        if duration is not None:
            if duration in taxonomy.DURATION_PRESETS:
                initial["duration"] = str(duration)
            else:
                initial["duration_other"] = duration
        if isinstance(initial.get("tags"), list):
            initial["tags"] = ", ".join(initial["tags"])
        for code, value in (initial.pop("counters", None) or {}).items():
            initial[COUNTER_PREFIX + code] = value
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.appointment = appointment
        self.remembered_values = remembered
        self.places = places
        people = Beneficiary.objects.of_structure(structure).identified()
        model_choice(self, "beneficiary").queryset = people
        model_choice(self, "participants").queryset = people
        model_choice(self, "place").queryset = places
        self._keep_materials(remembered_materials)
        if appointment is not None and initial.get("themes"):
            self.fields["themes"].help_text = _("Cochées d'après le motif du rendez-vous.")
        drop: tuple[str, ...]
        if kind == Kind.COLLECTIVE:
            for code in taxonomy.COLLECTIVE_COUNTERS:
                self.fields[COUNTER_PREFIX + code] = forms.IntegerField(
                    label=counter_label(code),
                    required=False,
                    min_value=0,
                    max_value=services.MAX_PARTICIPANTS,
                    initial=0,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                )
            drop = ("beneficiary", "from_contact", "autonomy", *self.profile_fields)
        else:
            drop = ("participants", "workshop_title", "level")
            if not self._offers_record(appointment):
                drop += ("from_contact",)
        for name in drop:
            del self.fields[name]
        self.people = people
        if isinstance(self.data, QueryDict):
            self.data = self._plain_data(self.data)

    def _plain_data(self, posted: QueryDict) -> QueryDict:
        """The posted data as the fields understand it.

        The person is one group of radios: "no record", FROM_APPOINTMENT, or a person on
        record; FROM_APPOINTMENT stands for `from_contact` without a person. An id no
        database can hold becomes one that matches nobody ("choose a valid value"), not a
        server error.
        """
        data = posted.copy()
        if "from_contact" in self.fields and data.get("beneficiary") == FROM_APPOINTMENT:
            data["beneficiary"] = ""
            data["from_contact"] = "on"
        for name in ("beneficiary", "participants", "place"):
            if name in data:
                ids = [v if v == "" or params.positive_id(v) else "0" for v in data.getlist(name)]
                data.setlist(name, ids)
        return data

    @staticmethod
    def _offers_record(appointment) -> bool:
        """Whether the report may find or create the record of an appointment's person: one
        not linked to anybody, with something to find or name them by (a walk-in known by a
        first name only is searched for, or counted without a record)."""
        if appointment is None or appointment.beneficiary_id:
            return False
        return bool(appointment.phone or appointment.email or appointment.last_name)

    def _keep_materials(self, remembered: list[str]) -> None:
        """The remembered materials kept as they are (hidden), removable one by one, and the
        boxes to add the others (see the class docstring)."""
        if self.is_bound:
            posted = self.data.getlist("materials_kept") if hasattr(self.data, "getlist") else []
            valid = taxonomy.codes("materials")
            kept = [c for c in valid if c in posted]
        else:
            kept = remembered
            self.initial["materials_kept"] = kept
        self.kept_materials = kept
        labels = dict(taxonomy.MATERIALS)
        choice(self, "materials_drop").choices = [(c, labels[c]) for c in kept]
        # Validation still accepts any material (adding a kept one changes nothing); only
        # the others are offered.
        widget = self.fields["materials"].widget
        assert isinstance(widget, forms.CheckboxSelectMultiple)
        widget.choices = [(c, label) for c, label in taxonomy.MATERIALS if c not in kept]

    @property
    def remembered(self) -> dict[str, dict[str, Any]]:
        """Each remembered group shown: its sentence ("text") and whether its fold opens
        ("open": the advisor changed something in it, or it has an error to correct)."""
        shown: dict[str, dict[str, Any]] = {}
        values = self.remembered_values
        if "duration" in values:
            shown["duration"] = {"text": _minutes(values["duration"])}
        if values.get("place_type") == "lieu_activite":
            place = self.places.filter(pk=values["place"]).first()
            if place is not None:
                shown["where"] = {"text": place.name}
        elif "place_type" in values:
            kind = taxonomy.label("place_types", values["place_type"])
            shown["where"] = {"text": f"{kind}, {values['commune']} ({values['commune_insee']})"}
        if self.kept_materials:
            labels = dict(taxonomy.MATERIALS)
            shown["materials"] = {"text": ", ".join(labels[c] for c in self.kept_materials)}
        changed = set(self.changed_data) if self.is_bound else set()
        fields = {
            "duration": ("duration", "duration_other"),
            "where": REMEMBERED_GROUPS["where"],
            "materials": ("materials", "materials_drop"),
        }
        for group, item in shown.items():
            names = set(fields[group])
            item["open"] = bool(names & (changed | set(self.errors)))
        return shown

    @property
    def chosen_beneficiary(self) -> list[Beneficiary]:
        return self.chosen("beneficiary")

    @property
    def chosen_participants(self) -> list[Beneficiary]:
        return self.chosen("participants")

    def chosen(self, name: str) -> list[Beneficiary]:
        """The people currently chosen in `name` (posted or initial), for the search picker.

        The picker shows only these plus search results, never the structure's whole list.
        """
        if name not in self.fields:
            return []
        if self.is_bound:
            raw = self.data.getlist(name) if hasattr(self.data, "getlist") else []
        else:
            value = self.initial.get(name)
            raw = value if isinstance(value, list | tuple) else [value]
        pks = params.ids([getattr(item, "pk", item) for item in raw])
        return list(self.people.filter(pk__in=pks)) if pks else []

    profile_fields = (
        "anon_gender",
        "anon_age_band",
        "anon_social_status",
        "anon_commune",
        "anon_commune_insee",
        "anon_returning",
    )

    def counter_fields(self):
        return [self[COUNTER_PREFIX + c] for c in taxonomy.COLLECTIVE_COUNTERS[:2]]

    def counter_groups(self):
        """The counters by category, for one fieldset each."""
        groups = []
        for prefix, legend in (
            ("genre_", _("Genre")),
            ("tranche_age_", _("Tranche d'âge")),
            ("statut_social_", _("Statut")),
        ):
            names = [c for c in taxonomy.COLLECTIVE_COUNTERS if c.startswith(prefix)]
            groups.append((legend, [self[COUNTER_PREFIX + n] for n in names]))
        return groups

    def clean_tags(self) -> list[str]:
        words = [w.strip().replace("|", " ") for w in self.cleaned_data["tags"].split(",")]
        return [w[:60] for w in words if w]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        # Remembered materials stay unless removed one by one; ticked ones are added.
        dropped = data.get("materials_drop") or []
        kept = [c for c in data.get("materials_kept") or [] if c not in dropped]
        added = data.get("materials") or []
        data["materials"] = [c for c in taxonomy.codes("materials") if c in kept or c in added]
        if data.get("from_contact") and data.get("beneficiary"):
            self._error(
                "beneficiary",
                _("Choisissez une seule personne : une fiche existante ou celle du rendez-vous."),
            )
        other = data.get("duration_other")
        preset = data.get("duration")
        if other is not None:
            data["duration"] = other
        elif preset:
            data["duration"] = int(preset)
        else:
            data["duration"] = None
        if "duration_other" in self.errors:
            return data
        values = self.values()
        for field, message in services.check_rules(values, kind=self.kind).items():
            self._error(field, message)
        if self.kind == Kind.COLLECTIVE and not any(
            COUNTER_PREFIX + c in self.errors for c in taxonomy.COLLECTIVE_COUNTERS
        ):
            counters = self.counters()
            for field, message in services.check_counters(counters).items():
                self._error(COUNTER_PREFIX + field, message)
            if not counters.get("total") and not data.get("participants"):
                self._error(
                    COUNTER_PREFIX + "total",
                    _("Indiquez au moins un participant : une fiche ou un nombre anonyme."),
                )
        if data.get("anon_commune_insee") and not data.get("beneficiary"):
            try:
                validate_insee_code(data["anon_commune_insee"])
            except ValidationError as exc:
                self._error("anon_commune_insee", " ".join(exc.messages))
        return data

    def _error(self, field: str, message) -> None:
        if field in self.errors:
            return
        self.add_error(field if field in self.fields else None, message)

    # --- What the services need ---------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data.get(name) for name in services.FIELDS}

    def profile(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "gender": data.get("anon_gender"),
            "age_band": data.get("anon_age_band"),
            "social_status": data.get("anon_social_status"),
            "commune": data.get("anon_commune"),
            "commune_insee": data.get("anon_commune_insee"),
            "returning": bool(data.get("anon_returning")),
        }

    def counters(self) -> dict[str, int]:
        return {
            c: self.cleaned_data.get(COUNTER_PREFIX + c) or 0 for c in taxonomy.COLLECTIVE_COUNTERS
        }


class FilterForm(forms.Form):
    """The list's filters; a bad value is dropped, never an error page."""

    du = forms.DateField(
        label=_("Du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    au = forms.DateField(
        label=_("Au"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    theme = forms.ChoiceField(
        label=_("Thématique"), required=False, choices=_blank(taxonomy.THEMES)
    )
    type = forms.ChoiceField(label=_("Type"), required=False, choices=_blank(Kind.choices))
    conseiller = forms.TypedChoiceField(label=_("Conseiller"), required=False, coerce=int)
    lieu = forms.TypedChoiceField(label=_("Lieu"), required=False, coerce=int)

    def __init__(self, *args, advisors, places, **kwargs):
        super().__init__(*args, **kwargs)
        choice(self, "conseiller").choices = _blank([(u.pk, str(u)) for u in advisors])
        choice(self, "lieu").choices = _blank([(p.pk, p.name) for p in places])

    def filters(self) -> dict[str, Any]:
        self.is_valid()  # fields with a bad value are left out of cleaned_data
        cleaned = getattr(self, "cleaned_data", {})
        data = {k: v for k, v in cleaned.items() if v not in (None, "")}
        return {
            "period_start": data.get("du"),
            "period_end": data.get("au"),
            "theme": data.get("theme"),
            "kind": data.get("type"),
            "advisor_id": data.get("conseiller"),
            "place_id": data.get("lieu"),
        }
