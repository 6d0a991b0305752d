"""The legacy places schema (v0.1.x) and its conversion to the national standard v1.0.1.

A file is legacy when it has a column only v0.1.x has, or the old services (or `;` between
them). Each of its records is converted to v1 names and vocabularies before validation:
values the mapping does not know pass unchanged, so that validation reports them. The legacy
schema itself is copied in `places/standard/schema-v0.1.1.json`.
"""

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from django.utils.translation import gettext as _

from lien.places.importing.records import Row, split
from lien.places.opendata import FIELDS, SEPARATOR

_STANDARD = Path(__file__).resolve().parent.parent / "standard"


# Only v0.1.x has these columns; any of them marks a legacy file.
LEGACY_ONLY_FIELDS = frozenset(
    {
        "courriel",
        "conditions_acces",
        "labels_nationaux",
        "labels_autres",
        "publics_accueillis",
        "accessibilite",
        "cle_ban",
    }
)

# Every column of the legacy schema (v0.1.1, copied in standard/).
LEGACY_FIELDS = frozenset(
    field["name"]
    for field in json.loads((_STANDARD / "schema-v0.1.1.json").read_text("utf-8"))["fields"]
)

# 15 services → 9. Grouping of the v1.0.1 documentation: administrative and health procedures
# become "Aide aux démarches administratives"; first steps with devices "Maîtrise des outils
# numériques du quotidien"; digital citizenship (healthy, safe use) "Utilisation sécurisée du
# numérique"; starting a business joins professional integration.
LEGACY_SERVICES = {
    "Devenir autonome dans les démarches administratives": "Aide aux démarches administratives",
    "Réaliser des démarches administratives avec un accompagnement": (
        "Aide aux démarches administratives"
    ),
    "Accompagner les démarches de santé": "Aide aux démarches administratives",
    "Prendre en main un smartphone ou une tablette": "Maîtrise des outils numériques du quotidien",
    "Prendre en main un ordinateur": "Maîtrise des outils numériques du quotidien",
    "Utiliser le numérique au quotidien": "Maîtrise des outils numériques du quotidien",
    "Approfondir ma culture numérique": "Compréhension du monde numérique",
    "Promouvoir la citoyenneté numérique": "Utilisation sécurisée du numérique",
    "Favoriser mon insertion professionnelle": "Insertion professionnelle via le numérique",
    "Créer et développer mon entreprise": "Insertion professionnelle via le numérique",
    "Créer avec le numérique": "Loisirs et créations numériques",
    "Soutenir la parentalité et l'éducation avec le numérique": (
        "Parentalité et éducation avec le numérique"
    ),
    "Accéder à une connexion internet": "Accès internet et matériel informatique",
    "Accéder à du matériel": "Accès internet et matériel informatique",
    "S'équiper en matériel informatique": "Acquisition de matériel informatique à prix solidaire",
}

# publics_accueillis → (publics_specifiquement_adresses, prise_en_charge_specifique).
# "Adultes" is everybody, which v1 expresses by leaving both fields empty.
LEGACY_PUBLICS = {
    "Seniors (+ 65 ans)": ("Seniors", None),
    "Familles/enfants": ("Familles et/ou enfants", None),
    "Adultes": (None, None),
    "Jeunes (16-26 ans)": ("Jeunes", None),
    "Uniquement femmes": ("Femmes", None),
    "Public langues étrangères": (None, "Langues étrangères (autres)"),
    "Déficience visuelle": (None, "Déficience visuelle"),
    "Surdité": (None, "Surdité"),
    # v1 has no psychic disabilities; the nearest specific support is kept.
    "Handicaps psychiques": (None, "Handicaps mentaux"),
    "Handicaps mentaux": (None, "Handicaps mentaux"),
    "Personnes en situation d'illettrisme": (None, "Illettrisme"),
}

# conditions_acces labels (the text before " :") that are not v1 fees.
LEGACY_FEES = {
    "Adhésion": "Payant",
    "Accepte le Pass numérique": "Gratuit sous condition",
}

# labels_nationaux → (field, v1 value). Absent labels go to autres_formations_labels.
LEGACY_LABELS = {
    "France Services": ("dispositif_programmes_nationaux", "France Services"),
    "CNFS": ("dispositif_programmes_nationaux", "Conseillers numériques"),
    "Aidants Connect": ("dispositif_programmes_nationaux", "Aidants Connect"),
    "Grandes écoles du numérique": ("dispositif_programmes_nationaux", "Grande école du numérique"),
    "Point relais CAF": ("dispositif_programmes_nationaux", "Point d'accès numérique CAF"),
    "Point numérique CAF": ("dispositif_programmes_nationaux", "Point d'accès numérique CAF"),
    "Fabriques de Territoire": ("formations_labels", "Fabriques de Territoire"),
}

# modalites_accompagnement: legacy labels (text before " :") and the long v1 description forms.
ACCOMPANIMENT_ALIASES = {
    "Seul": "En autonomie",
    "Avec de l'aide": "Accompagnement individuel",
    "Dans un atelier": "Dans un atelier collectif",
    "A ma place": "Accompagnement individuel",
    "À ma place": "Accompagnement individuel",
}


def has_legacy_values(rows: list[Row]) -> bool:
    for row in rows[:50]:
        services = row.values.get("services", "")
        if any(s.strip() in LEGACY_SERVICES for s in re.split(r"[;|]", services)):
            return True
        if ";" in services:
            return True
    return False


def _label(value: str) -> str:
    """The short label of a legacy long value: "Gratuit : Je peux…" → "Gratuit"."""
    return value.split(" :", 1)[0].strip()


def legacy_to_v1(values: dict[str, str], warn: Callable[[str, str], None]) -> dict[str, str]:
    """Convert a v0.1.x record to v1.0.1 field names and vocabularies.

    Values the mapping does not know are passed on unchanged, so that v1 validation reports
    them. v1 columns found in the same record are kept alongside the converted ones.
    """

    def listed(name: str, separators: str = ";|") -> list[str]:
        return split(values.get(name, ""), separators)

    def joined(items: Iterable[str]) -> str:
        return SEPARATOR.join(dict.fromkeys(items))

    out = {k: v for k, v in values.items() if k in FIELDS}
    out["typologie"] = joined(listed("typologie"))
    out["courriels"] = joined(listed("courriels") + listed("courriel", ";|,"))
    # Legacy site_web was documented as comma-, then semicolon-separated.
    out["site_web"] = joined(listed("site_web", ";|, "))
    out["fiche_acces_libre"] = values.get("fiche_acces_libre") or values.get("accessibilite", "")
    out["services"] = joined(
        LEGACY_SERVICES.get(item.replace("’", "'"), item) for item in listed("services")
    )

    publics = listed("publics_specifiquement_adresses")
    support = listed("prise_en_charge_specifique")
    for item in listed("publics_accueillis"):
        public, specific = LEGACY_PUBLICS.get(item, LEGACY_PUBLICS.get(_label(item), (item, None)))
        publics += [public] if public else []
        support += [specific] if specific else []
    out["publics_specifiquement_adresses"] = joined(publics)
    out["prise_en_charge_specifique"] = joined(support)

    fees = listed("frais_a_charge")
    for item in listed("conditions_acces"):
        label = _label(item)
        if label in LEGACY_FEES:
            warn(
                "frais_a_charge",
                _("« %(old)s » n'existe plus dans le standard 1.0 : converti en « %(new)s ».")
                % {"old": label, "new": LEGACY_FEES[label]},
            )
            label = LEGACY_FEES[label]
        fees.append(label)
    out["frais_a_charge"] = joined(fees)

    programmes = listed("dispositif_programmes_nationaux")
    trainings = listed("formations_labels")
    other_labels = listed("autres_formations_labels", "|") + listed("labels_autres")
    for item in listed("labels_nationaux"):
        target = LEGACY_LABELS.get(item)
        if target is None:
            warn(
                "autres_formations_labels",
                _(
                    "Le label « %(label)s » n'a pas d'équivalent dans le standard 1.0 : "
                    "reporté dans les autres formations et labels."
                )
                % {"label": item},
            )
            other_labels.append(item)
        elif target[0] == "formations_labels":
            trainings.append(target[1])
        else:
            programmes.append(target[1])
    out["dispositif_programmes_nationaux"] = joined(programmes)
    out["formations_labels"] = joined(trainings)
    out["autres_formations_labels"] = joined(other_labels)

    modes = (_label(m) for m in listed("modalites_accompagnement"))
    out["modalites_accompagnement"] = joined(ACCOMPANIMENT_ALIASES.get(m, m) for m in modes)
    return out
