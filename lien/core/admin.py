"""The operators' admin (Django's), and what every admin of Lien's models shares.

Operators see across structures (core/admin_site.py). What they may still change there goes
through the owning app's services, journalled with the operator as `actor` and
`actor_label=ADMIN`; the journal, people, appointments, messages and reports are read-only.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from lien.core.models import ScheduledTask

# The `actor_label` of the journal entries written by an operator in the admin.
ADMIN = "admin"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operators may look, never add, change or delete: these rows are written by the
    services of the staff pages, which journal each change."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@dataclass(frozen=True)
class _Numbered:
    """Stands for an object in the change page's title and breadcrumbs (`original`)."""

    pk: int
    label: str

    def __str__(self) -> str:
        return self.label


class PersonalDataAdmin(ReadOnlyAdmin):
    """Read-only rows about a person (a record, an appointment, a message): their pages name
    them by number, never by their `str()` (a name, a phone), and the admin using it excludes
    every personal field and every link whose `str()` is a name."""

    def number(self, obj: Model) -> str:
        return _("%(what)s n° %(pk)s") % {"what": self.opts.verbose_name, "pk": obj.pk}

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if obj is not None:
            label = self.number(obj)
            extra_context = {
                **(extra_context or {}),
                "subtitle": label,
                "original": _Numbered(obj.pk, label),
            }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            label = self.number(obj)
            title = _("Historique : %(what)s") % {"what": label}
            extra_context = {
                **(extra_context or {}),
                "title": title,
                "object": _Numbered(obj.pk, label),
            }
        return super().history_view(request, object_id, extra_context)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, changed only on the staff pages (through services)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ServiceDeletesAdmin(admin.ModelAdmin):
    """A deletion goes through the app's service (which journals it), one object at a time:
    the list's bulk "delete selected" would bypass it."""

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(ScheduledTask)
class ScheduledTaskAdmin(admin.ModelAdmin):
    """The worker's periodic jobs. Not a structure's data (the journal is per structure): an
    operator may move `next_run_at` to run a job now."""

    list_display = ["name", "last_run_at", "next_run_at", "last_duration_ms", "has_error"]
    readonly_fields = ["name", "last_run_at", "last_duration_ms", "last_error"]

    @admin.display(boolean=True, description="erreur")
    def has_error(self, task: ScheduledTask) -> bool:
        return bool(task.last_error)
