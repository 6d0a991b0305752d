"""What each role may see of a person, and do with them: named permissions.

The table is the rule; `docs/ARCHITECTURE.md` shows it in words. Views, selectors and
templates ask `can(membership, "person.view_contact")` (templates: `request.membership|can:
"person.view_contact"`) instead of comparing roles, so one change here changes every page.

Least privilege:
- an advisor helps people: sees and edits everything about them;
- reception books for them: sees their name and contact, never notes, messages or reports;
- a coordinator runs the service: sees no identity, no contact and no resident's message,
  only the activity without names and the aggregates.
"""

from lien.accounts.models import Role

# A person's name (on a record, an appointment, a report, a message).
VIEW_IDENTITY = "person.view_identity"
# Their phone, e-mail and home address (and the recipients of the messages sent to them).
VIEW_CONTACT = "person.view_contact"
# What they told the service in free text: a record's notes, an appointment's message.
VIEW_NOTES = "person.view_notes"
# Book an appointment for someone (and so type and read their name and contact).
BOOK_FOR = "appointment.book_for"
# Record a walk-in: the advisor who helped the person.
RECORD_WALK_IN = "appointment.record_walk_in"
# Say what happened: honoured, no-show, excused.
RECORD_STATUS = "appointment.record_status"
# Search the appointments by a person's name, phone or e-mail.
SEARCH_PEOPLE = "person.search"
# The delivery log of the messages sent to residents (state, errors).
VIEW_MESSAGE_LOG = "message.view_log"
# The journal page: who did what and when, without any person's name or personal values.
VIEW_JOURNAL = "journal.view"

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADVISOR: frozenset(
        {
            VIEW_IDENTITY,
            VIEW_CONTACT,
            VIEW_NOTES,
            BOOK_FOR,
            RECORD_WALK_IN,
            RECORD_STATUS,
            SEARCH_PEOPLE,
            VIEW_MESSAGE_LOG,
        }
    ),
    Role.RECEPTION: frozenset({VIEW_IDENTITY, VIEW_CONTACT, BOOK_FOR, SEARCH_PEOPLE}),
    Role.COORDINATOR: frozenset({RECORD_STATUS, VIEW_MESSAGE_LOG, VIEW_JOURNAL}),
}

ALL = frozenset().union(*PERMISSIONS.values())


def can(membership, permission: str) -> bool:
    """Does this membership's role carry `permission`? Unknown names are refused loudly."""
    if permission not in ALL:
        raise ValueError(f"unknown permission {permission!r}")
    if membership is None:
        return False
    return permission in PERMISSIONS.get(membership.role, frozenset())


def roles_with(permission: str) -> tuple[str, ...]:
    """The roles carrying `permission`, for `staff_view(*roles_with(...))`."""
    if permission not in ALL:
        raise ValueError(f"unknown permission {permission!r}")
    return tuple(role for role, granted in PERMISSIONS.items() if permission in granted)
