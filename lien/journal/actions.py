"""Every action name the journal may hold, with its French label.

`record()` refuses a name that is not here, and tests/test_journal_actions.py finds every
name the code passes to the journal and checks it is here with a label: a new action is added
to this table, in its family, or nothing can journal it.

Each action says whether it is a READ (someone's personal data was shown: a page, a list, a
search, an export) or a CHANGE (something was created, modified or deleted, or an account
event: a sign-in, a lockout, the second factor). Coordinators filter on that.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

READ = "read"
CHANGE = "change"


@dataclass(frozen=True)
class Action:
    name: str  # dotted: "<family>.<what happened>"
    label: Promise  # French, lazy: shown to staff, and to a person in their access export
    kind: str  # READ or CHANGE

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def is_read(self) -> bool:
        return self.kind == READ


# The families, in the order the coordinator's filter lists them.
FAMILIES: dict[str, Promise] = {
    "account": _("Comptes et connexions"),
    "appointment": _("Rendez-vous"),
    "beneficiary": _("Personnes accompagnées"),
    "activity": _("Comptes rendus d’activité"),
    "motif": _("Motifs de rendez-vous"),
    "absence": _("Absences"),
    "calendar_feed": _("Agendas privés"),
    "message": _("Messages aux personnes"),
    "structure": _("Réglages de la structure"),
    "journal": _("Journal"),
    "booking_policy": _("Règles de réservation"),
    "place": _("Lieux"),
    "opening_hours": _("Horaires d’ouverture"),
    "closure": _("Fermetures exceptionnelles"),
    "presence": _("Planning des présences"),
    "presence_exception": _("Dates de présence annulées"),
    "membership": _("Équipe"),
    "user": _("Comptes de l’équipe"),
}

_ALL = (
    # Accounts: signing in, the second factor (lien/accounts/signals.py). Never a password
    # or a code in `data`.
    Action("account.signed_in", _("Connexion"), CHANGE),
    Action("account.sign_in_failed", _("Échec de connexion (mot de passe)"), CHANGE),
    Action("account.signed_out", _("Déconnexion"), CHANGE),
    Action("account.locked_out", _("Compte bloqué après trop d’échecs"), CHANGE),
    Action("account.second_factor_enrolled", _("Double authentification activée"), CHANGE),
    Action("account.second_factor_verified", _("Double authentification validée"), CHANGE),
    Action("account.second_factor_failed", _("Code de double authentification refusé"), CHANGE),
    Action("account.recovery_codes_generated", _("Codes de secours générés"), CHANGE),
    Action("account.recovery_code_used", _("Code de secours utilisé"), CHANGE),
    # Appointments.
    Action("appointment.booked", _("Rendez-vous pris"), CHANGE),
    Action("appointment.moved", _("Rendez-vous déplacé"), CHANGE),
    Action("appointment.cancelled", _("Rendez-vous annulé"), CHANGE),
    Action("appointment.status_changed", _("Issue du rendez-vous indiquée"), CHANGE),
    Action("appointment.walk_in_recorded", _("Passage sans rendez-vous enregistré"), CHANGE),
    Action(
        "appointment.walk_in_shortened",
        _("Passage sans rendez-vous terminé à l'arrivée du suivant"),
        CHANGE,
    ),
    Action("appointment.beneficiary_linked", _("Rendez-vous rattaché à une fiche"), CHANGE),
    Action("appointment.anonymised", _("Rendez-vous anonymisé"), CHANGE),
    Action("appointment.viewed", _("Rendez-vous consulté"), READ),
    Action("appointment.listed", _("Liste de rendez-vous consultée"), READ),
    Action("message.listed", _("Journal des messages envoyés consulté"), READ),
    Action("appointment.searched", _("Recherche de rendez-vous"), READ),
    # People helped.
    Action("beneficiary.created", _("Fiche créée"), CHANGE),
    Action("beneficiary.updated", _("Fiche modifiée"), CHANGE),
    Action("beneficiary.merged", _("Fiches regroupées"), CHANGE),
    Action("beneficiary.notice_given", _("Notice d’information remise"), CHANGE),
    Action("beneficiary.imported", _("Fiche importée"), CHANGE),
    Action("beneficiary.import_queued", _("Fichier de personnes déposé pour import"), CHANGE),
    Action("beneficiary.import_failed", _("Import de personnes refusé"), CHANGE),
    Action("beneficiary.erased", _("Données effacées"), CHANGE),
    Action("beneficiary.viewed", _("Fiche consultée"), READ),
    Action("beneficiary.listed", _("Liste de personnes consultée"), READ),
    Action("beneficiary.searched", _("Recherche de personnes"), READ),
    Action("beneficiary.exported", _("Données exportées (droit d’accès)"), READ),
    # Activity reports.
    Action("activity.created", _("Compte rendu créé"), CHANGE),
    Action("activity.updated", _("Compte rendu modifié"), CHANGE),
    Action("activity.deleted", _("Compte rendu supprimé"), CHANGE),
    Action("activity.participant_merged", _("Participant regroupé avec une autre fiche"), CHANGE),
    Action("activity.notes_erased", _("Notes du compte rendu effacées"), CHANGE),
    Action("activity.viewed", _("Compte rendu consulté"), READ),
    Action("activity.listed", _("Liste de comptes rendus consultée"), READ),
    # The service's settings.
    Action("motif.saved", _("Motif de rendez-vous enregistré"), CHANGE),  # older rows
    Action("motif.created", _("Motif de rendez-vous créé"), CHANGE),
    Action("motif.updated", _("Motif de rendez-vous modifié"), CHANGE),
    Action("absence.created", _("Absence ajoutée"), CHANGE),
    Action("absence.deleted", _("Absence supprimée"), CHANGE),
    Action("calendar_feed.created", _("Agenda privé créé"), CHANGE),
    Action("calendar_feed.revoked", _("Agenda privé révoqué"), CHANGE),
    Action("calendar_feed.read", _("Agenda privé lu par une application d’agenda"), READ),
    # Older rows; now a `structure.settings_updated` naming `retention_months`.
    Action("structure.retention_changed", _("Durée de conservation modifiée"), CHANGE),
    # The journal itself: the coordinator's page (lien/journal/views.py).
    Action("journal.listed", _("Journal consulté"), READ),
    Action("structure.created", _("Structure créée"), CHANGE),
    Action("structure.settings_updated", _("Réglages de la structure modifiés"), CHANGE),
    Action("booking_policy.created", _("Règles de réservation créées"), CHANGE),
    Action("booking_policy.updated", _("Règles de réservation modifiées"), CHANGE),
    # Places, their hours and closures (lien/places/services.py).
    Action("place.created", _("Lieu créé"), CHANGE),
    Action("place.updated", _("Lieu modifié"), CHANGE),
    Action("place.deleted", _("Lieu supprimé"), CHANGE),
    Action("opening_hours.updated", _("Horaires d’ouverture modifiés"), CHANGE),
    Action("closure.created", _("Fermeture exceptionnelle ajoutée"), CHANGE),
    Action("closure.deleted", _("Fermeture exceptionnelle supprimée"), CHANGE),
    # The itinerant schedule (lien/schedule/services.py).
    Action("presence.created", _("Présence ajoutée au planning"), CHANGE),
    Action("presence.updated", _("Présence modifiée"), CHANGE),
    Action("presence.deleted", _("Présence supprimée du planning"), CHANGE),
    Action("presence_exception.created", _("Date de présence annulée"), CHANGE),
    Action("presence_exception.deleted", _("Date de présence rétablie"), CHANGE),
    # The team: memberships and staff accounts (lien/accounts/services.py, often the admin).
    Action("membership.created", _("Membre ajouté à l’équipe"), CHANGE),
    Action("membership.updated", _("Rôle d’un membre modifié"), CHANGE),
    Action("membership.deleted", _("Membre retiré de l’équipe"), CHANGE),
    Action("user.updated", _("Compte d’un membre modifié"), CHANGE),
    Action("user.password_changed", _("Mot de passe d’un membre changé par un opérateur"), CHANGE),
    Action("user.deleted", _("Compte d’un membre supprimé"), CHANGE),
)

ACTIONS: dict[str, Action] = {action.name: action for action in _ALL}


def is_registered(name: str) -> bool:
    return name in ACTIONS


def label(name: str) -> str:
    """The French label of an action; an unknown name (an old row) is shown as it is."""
    action = ACTIONS.get(name)
    return str(action.label) if action is not None else name


def family_label(family: str) -> str:
    return str(FAMILIES.get(family, family))


def names(*, family: str | None = None, kind: str | None = None) -> list[str]:
    """The registered names of a family and/or a kind, in the table's order."""
    return [
        a.name
        for a in _ALL
        if (family is None or a.family == family) and (kind is None or a.kind == kind)
    ]


# Who acted when no staff member did (`JournalEntry.actor_label`), in words.
ACTORS: dict[str, Promise] = {
    "resident-link": _("la personne, par son lien privé"),
    "worker": _("tâche automatique"),
    "system": _("système"),
    "admin": _("administration du site"),
    "import": _("import de fichier"),
    "calendar-app": _("application d’agenda du membre"),
}


def actor_label(value: str) -> str:
    """The French words for an `actor_label`; an unknown one (an old row) as it is."""
    return str(ACTORS.get(value, value or "—"))
