"""What each role may do and see: the one table of named permissions.

The table is the rule (docs/ARCHITECTURE.md shows it in words), asked everywhere by name:
- a view: `@staff_view("place.edit")` (accounts/access.py);
- code (views, selectors, forms): `can(request.membership, "beneficiary.view_identity")`;
- a template: `{% if request.membership|can:"beneficiary.view_contact" %}`;
- a query picking members by what they may do: `memberships__role__in=roles_with("presence.hold")`.
No role is compared anywhere else (tests/test_permission_rule.py fails if one is), so one
change here changes every page.

Least privilege:
- an advisor helps people: sees and edits everything about them;
- reception books for them: sees their name and contact, never notes, messages or reports;
- a coordinator runs the service: sees no identity, no contact and no resident's message,
  only the activity without names and the aggregates; runs places, motifs and the schedule.
"""

from lien.accounts.models import Membership, Role

# --- People helped -------------------------------------------------------------------------
# A person's name (on a record, an appointment, a report, a message, the retention report).
VIEW_IDENTITY = "beneficiary.view_identity"
# Their phone, e-mail and home address (and the recipients of the messages sent to them).
VIEW_CONTACT = "beneficiary.view_contact"
# What they told the service in free text: a record's notes, an appointment's message.
VIEW_NOTES = "beneficiary.view_notes"
# The whole record: profile (birth year, gender, status, commune), timeline, anonymous records.
VIEW_PROFILE = "beneficiary.view_profile"
# Search people by name or phone (people list, agenda, merge).
SEARCH_PEOPLE = "beneficiary.search"
# Open one person's page (reception: its name, contact and coming appointments only).
VIEW_BENEFICIARY = "beneficiary.view"
# Create a record (likely duplicates shown first).
CREATE_BENEFICIARY = "beneficiary.create"
# Change a record, note that the information notice was handed over.
EDIT_BENEFICIARY = "beneficiary.edit"
# Merge two records of the same person.
MERGE_BENEFICIARY = "beneficiary.merge"
# Import people from the national tool's CSV/XLSX export.
IMPORT_BENEFICIARIES = "beneficiary.import"
# Aggregates about the people helped, without any name.
VIEW_STATISTICS = "statistics.view"

# --- GDPR ----------------------------------------------------------------------------------
# Everything held about one person, as a page or a JSON download (access request).
GDPR_EXPORT = "gdpr.export"
# Erase a person (anonymisation that keeps the statistics).
GDPR_ERASE = "gdpr.erase"
# The retention report: who would be anonymised now and soon (names only with VIEW_IDENTITY).
GDPR_RETENTION = "gdpr.retention"
# Change the structure's retention period.
GDPR_RETENTION_SET = "gdpr.retention_set"

# --- Activity reports ----------------------------------------------------------------------
# The list of reports (without any name unless VIEW_ACTIVITY_NAMES).
VIEW_ACTIVITIES = "activity.view"
# The names of the people helped on the list of reports.
VIEW_ACTIVITY_NAMES = "activity.view_names"
# Open one report: its people and its notes.
VIEW_ACTIVITY_NOTES = "activity.view_notes"
# Write, change, copy and delete reports (and search people to put in them).
EDIT_ACTIVITY = "activity.edit"

# --- Appointments --------------------------------------------------------------------------
# Book an appointment for someone (and so type and read their name and contact).
BOOK_FOR = "appointment.book_for"
# Record a walk-in: the advisor who helped the person.
RECORD_WALK_IN = "appointment.record_walk_in"
# Say what happened: honoured, no-show, excused.
RECORD_STATUS = "appointment.record_status"
# The delivery log of the messages sent to residents (state, errors; recipients need contact).
VIEW_MESSAGE_LOG = "message.view_log"
# Create and change the motifs residents book for.
EDIT_MOTIF = "motif.edit"
# Record and remove one's own absences (no slot offered meanwhile).
EDIT_OWN_ABSENCE = "absence.edit_own"
# ... and anybody's absences.
EDIT_ANY_ABSENCE = "absence.edit_any"
# One's own private ICS feed of appointments.
USE_CALENDAR_FEED = "calendar_feed.use"

# --- Places and schedule -------------------------------------------------------------------
# Create, import, change and delete places, their opening hours and closures.
EDIT_PLACE = "place.edit"
# Hold presences and receive appointments: listed wherever an advisor is chosen.
HOLD_PRESENCE = "presence.hold"
# Create, change and cancel dates of one's own presences.
EDIT_OWN_PRESENCE = "presence.edit_own"
# ... and anybody's presences.
EDIT_ANY_PRESENCE = "presence.edit_any"

# --- Accounts ------------------------------------------------------------------------------
# Sign in with a second factor: notes, exports, erasure and the structure's settings are
# worth more than a password (reception, which books, signs in with a password).
TWO_FACTOR = "account.two_factor"

# --- Journal -------------------------------------------------------------------------------
# The journal page: who did what and when, without any person's name or personal values.
VIEW_JOURNAL = "journal.view"

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADVISOR: frozenset(
        {
            VIEW_IDENTITY,
            VIEW_CONTACT,
            VIEW_NOTES,
            VIEW_PROFILE,
            SEARCH_PEOPLE,
            VIEW_BENEFICIARY,
            CREATE_BENEFICIARY,
            EDIT_BENEFICIARY,
            MERGE_BENEFICIARY,
            IMPORT_BENEFICIARIES,
            VIEW_STATISTICS,
            GDPR_EXPORT,
            GDPR_ERASE,
            GDPR_RETENTION,
            VIEW_ACTIVITIES,
            VIEW_ACTIVITY_NAMES,
            VIEW_ACTIVITY_NOTES,
            EDIT_ACTIVITY,
            BOOK_FOR,
            RECORD_WALK_IN,
            RECORD_STATUS,
            VIEW_MESSAGE_LOG,
            EDIT_OWN_ABSENCE,
            USE_CALENDAR_FEED,
            HOLD_PRESENCE,
            EDIT_OWN_PRESENCE,
            TWO_FACTOR,
        }
    ),
    Role.RECEPTION: frozenset(
        {
            VIEW_IDENTITY,
            VIEW_CONTACT,
            SEARCH_PEOPLE,
            VIEW_BENEFICIARY,
            BOOK_FOR,
        }
    ),
    Role.COORDINATOR: frozenset(
        {
            VIEW_STATISTICS,
            GDPR_RETENTION,
            GDPR_RETENTION_SET,
            VIEW_ACTIVITIES,
            RECORD_STATUS,
            VIEW_MESSAGE_LOG,
            EDIT_MOTIF,
            EDIT_OWN_ABSENCE,
            EDIT_ANY_ABSENCE,
            USE_CALENDAR_FEED,
            EDIT_PLACE,
            HOLD_PRESENCE,
            EDIT_OWN_PRESENCE,
            EDIT_ANY_PRESENCE,
            TWO_FACTOR,
            VIEW_JOURNAL,
        }
    ),
}

ROLES: tuple[str, ...] = tuple(PERMISSIONS)
ALL = frozenset().union(*PERMISSIONS.values())


def check(permission: str) -> str:
    """`permission` itself if it is in the table; a typo raises instead of refusing quietly."""
    if permission not in ALL:
        raise ValueError(f"unknown permission {permission!r}")
    return permission


def can(membership: Membership | None, permission: str) -> bool:
    """Does this membership's role carry `permission`? Unknown names are refused loudly."""
    check(permission)
    if membership is None:
        return False
    return permission in PERMISSIONS.get(membership.role, frozenset())


def roles_with(permission: str) -> tuple[str, ...]:
    """The roles carrying `permission`, for queries: `memberships__role__in=roles_with(...)`."""
    check(permission)
    return tuple(role for role, granted in PERMISSIONS.items() if permission in granted)
