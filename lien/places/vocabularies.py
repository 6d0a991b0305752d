"""Exact vocabularies of the national places standard v1.0.1 (LaMednum, Licence Ouverte 2.0).

Generated from lien/places/standard/schema-v1.0.1.json; values must match to the accent.
"""

# itinerance
ITINERANCE = (
    "Itinérant",
    "Fixe",
)

# services
SERVICES = (
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
)

# publics_specifiquement_adresses
PUBLICS = (
    "Jeunes",
    "Étudiants",
    "Familles et/ou enfants",
    "Seniors",
    "Femmes",
)

# prise_en_charge_specifique
SPECIFIC_SUPPORT = (
    "Surdité",
    "Handicaps moteurs",
    "Handicaps mentaux",
    "Illettrisme",
    "Langues étrangères (anglais)",
    "Langues étrangères (autres)",
    "Déficience visuelle",
)

# frais_a_charge
FEES = (
    "Gratuit",
    "Gratuit sous condition",
    "Payant",
)

# dispositif_programmes_nationaux
NATIONAL_PROGRAMMES = (
    "Aidants Connect",
    "Bibliothèques numérique de référence",
    "Certification PIX",
    "Conseillers numériques",
    "Emmaüs Connect",
    "France Services",
    "Grande école du numérique",
    "La Croix Rouge",
    "Point d'accès numérique CAF",
    "Promeneurs du net",
    "Relais numérique (Emmaüs Connect)",
)

# formations_labels
TRAINING_LABELS = (
    "Formé à « Mon Espace Santé »",
    "Formé à « DUPLEX » (illettrisme)",
    "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
    "Collectif ressources et acteurs réemploi (Normandie)",
    "Fabriques de Territoire",
    "Les Éclaireurs du numérique (Drôme)",
    "Mes Papiers (Métropole de Lyon)",
    "ORDI 3.0",
    "SUD LABS (PACA)",
)

# modalites_acces
ACCESS_MODES = (
    "Se présenter",
    "Téléphoner",
    "Contacter par mail",
    "Prendre un RDV en ligne",
    "Ce lieu n'accueille pas de public",
    "Envoyer un mail avec une fiche de prescription",
)

# modalites_accompagnement
ACCOMPANIMENT_MODES = (
    "En autonomie",
    "Accompagnement individuel",
    "Dans un atelier collectif",
    "À distance",
)

FIELD_VOCABULARIES = {
    "services": SERVICES,
    "publics_specifiquement_adresses": PUBLICS,
    "prise_en_charge_specifique": SPECIFIC_SUPPORT,
    "frais_a_charge": FEES,
    "dispositif_programmes_nationaux": NATIONAL_PROGRAMMES,
    "formations_labels": TRAINING_LABELS,
    "modalites_acces": ACCESS_MODES,
    "modalites_accompagnement": ACCOMPANIMENT_MODES,
    "itinerance": ITINERANCE,
}
