"""The coordinator's view of the journal: who did what, when, on which object — never whom.

What a row may show is decided here, not in the template: the action's French label, the
staff member who acted (staff are not residents), the object's type and number, and a few
whitelisted counts from `data`. Never `personal`, never `subject_id`, never the object's
name, never free text from `data` (a key that is not whitelisted, or whose value is not a
number, is not shown at all).
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lien.accounts.models import Structure, User
from lien.core import params, timefmt
from lien.journal import actions
from lien.journal.models import JournalEntry

PAGE_SIZE = 50

# The only values of `data` shown: counts, in words. Anything else stays in the database.
COUNTS = {
    "results": lambda n: ngettext("%(n)d résultat", "%(n)d résultats", n),
    "shown": lambda n: ngettext("%(n)d ligne affichée", "%(n)d lignes affichées", n),
    "count": lambda n: ngettext("%(n)d code", "%(n)d codes", n),
    "left": lambda n: ngettext("%(n)d code restant", "%(n)d codes restants", n),
    "failures": lambda n: ngettext("%(n)d échec", "%(n)d échecs", n),
}
# The two kinds of action (journal/actions.py), for the filter.
KINDS = [
    (actions.READ, _("Lectures de données personnelles")),
    (actions.CHANGE, _("Modifications et connexions")),
]
STEPS = {"enrolment": _("à l’activation"), "sign_in": _("à la connexion")}


@dataclass
class Filters:
    """The page's filters, each validated (lien/core/params.py) or left out."""

    start: dt.date | None = None
    end: dt.date | None = None
    action: str = ""  # a registered action, or a family of them
    kind: str = ""  # actions.READ or actions.CHANGE
    actor_id: int | None = None  # a member of the structure
    object_type: str = ""
    members: list[User] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """For the journal's own entry and the pager's links: validated values only."""
        return {
            "du": self.start.isoformat() if self.start else "",
            "au": self.end.isoformat() if self.end else "",
            "action": self.action,
            "type": self.kind,
            "membre": self.actor_id or "",
            "objet": self.object_type,
        }


def members_of(structure: Structure) -> list[User]:
    """The structure's staff members, for the filter (by name)."""
    return list(
        User.objects.filter(memberships__structure=structure).order_by(
            "first_name", "last_name", "email"
        )
    )


def types_in(structure: Structure) -> list[tuple[str, str]]:
    """(object type, its French name) of the types the structure's journal holds."""
    names = object_types()
    found = (
        JournalEntry.objects.filter(structure=structure)
        .exclude(object_type="")
        .order_by()  # the model's ordering would make every row distinct
        .values_list("object_type", flat=True)
        .distinct()
    )
    return sorted(((t, names.get(t, t)) for t in found), key=lambda pair: pair[1].lower())


def object_types() -> dict[str, str]:
    """model_name → its French name, for every model of Lien (what `object_type` holds)."""
    return {
        str(model._meta.model_name): str(model._meta.verbose_name)
        for model in apps.get_models()
        if model.__module__.startswith("lien.")
    }


def parse_filters(structure: Structure, query: QueryDict) -> Filters:
    """Read the query string: a bad value is dropped (the page shows everything for it)."""
    members = members_of(structure)
    start, end = params.day(query.get("du")), params.day(query.get("au"))
    if start and end and start > end:
        start, end = end, start
    action = params.text(query.get("action"), 80)
    if not (actions.is_registered(action) or action in actions.FAMILIES):
        action = ""
    kind = params.text(query.get("type"), 10)
    if kind not in (actions.READ, actions.CHANGE):
        kind = ""
    actor_id = params.positive_id(query.get("membre"))
    if actor_id not in {m.pk for m in members}:
        actor_id = None
    object_type = params.text(query.get("objet"), 40)
    if object_type not in object_types():
        object_type = ""
    return Filters(start, end, action, kind, actor_id, object_type, members)


def _midnight(day: dt.date, structure: Structure) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timefmt.zone_of(structure))


def entries(structure: Structure, filters: Filters) -> QuerySet[JournalEntry]:
    """The structure's entries, newest first, filtered; only the columns the page shows."""
    found = JournalEntry.objects.filter(structure=structure)
    if filters.start:
        found = found.filter(at__gte=_midnight(filters.start, structure))
    if filters.end:
        found = found.filter(at__lt=_midnight(filters.end + dt.timedelta(days=1), structure))
    if actions.is_registered(filters.action):
        found = found.filter(action=filters.action)
    elif filters.action:
        found = found.filter(action__in=actions.names(family=filters.action))
    if filters.kind:
        found = found.filter(action__in=actions.names(kind=filters.kind))
    if filters.actor_id:
        found = found.filter(actor_id=filters.actor_id)
    if filters.object_type:
        found = found.filter(object_type=filters.object_type)
    # `personal`, `subject_id` and `client_ip` are not even read.
    return (
        found.select_related("actor")
        .only(
            "pk",
            "at",
            "action",
            "actor_label",
            "object_type",
            "object_id",
            "data",
            "actor__first_name",
            "actor__last_name",
            "actor__email",
        )
        .order_by("-at", "-pk")
    )


@dataclass(frozen=True)
class Row:
    at: dt.datetime
    action: str
    label: str
    who: str
    object_type: str
    object_id: int | None
    details: list[str]


def details(data: Any) -> list[str]:
    """The whitelisted counts (and the second-factor step) of an entry's `data`, in words."""
    if not isinstance(data, dict):
        return []
    shown: list[str] = []
    for key, words in COUNTS.items():
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            shown.append(words(value) % {"n": value})
    step = data.get("step")
    if isinstance(step, str) and step in STEPS:
        shown.append(str(STEPS[step]))
    return shown


def row(entry: JournalEntry, types: dict[str, str]) -> Row:
    who = str(entry.actor) if entry.actor is not None else actions.actor_label(entry.actor_label)
    return Row(
        at=entry.at,
        action=entry.action,
        label=actions.label(entry.action),
        who=who,
        object_type=types.get(entry.object_type, entry.object_type) if entry.object_type else "",
        object_id=entry.object_id,
        details=details(entry.data),
    )


def journal_page(structure: Structure, filters: Filters, number: Any) -> tuple[Page, list[Row]]:
    """One page of the journal (a count and one query for the rows) and its rows to show."""
    page = Paginator(entries(structure, filters), PAGE_SIZE).get_page(
        params.positive_id(number) or 1
    )
    types = object_types()
    return page, [row(entry, types) for entry in page.object_list]


def action_choices() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(family, its label, [(action, label)…]) for the filter, families in their order."""
    grouped = []
    for family, label in actions.FAMILIES.items():
        names = actions.names(family=family)
        if names:
            grouped.append((family, str(label), [(n, actions.label(n)) for n in names]))
    return grouped
