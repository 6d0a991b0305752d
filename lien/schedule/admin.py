"""Presences are planned on the staff pages (which check overlaps and who may plan whom); an
operator may look at them and remove one, through the schedule's service (journalled)."""

from django.contrib import admin
from django.http import HttpRequest

from lien.accounts.requests import signed_in_user
from lien.core.admin import ADMIN, ReadOnlyAdmin, ReadOnlyInline, ServiceDeletesAdmin
from lien.schedule import services
from lien.schedule.models import Presence, PresenceException


class PresenceExceptionInline(ReadOnlyInline):
    model = PresenceException


@admin.register(Presence)
class PresenceAdmin(ServiceDeletesAdmin, ReadOnlyAdmin):
    list_display = ["advisor", "structure", "weekday", "start", "end", "place", "mode"]
    list_filter = ["structure", "mode"]
    inlines = [PresenceExceptionInline]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return True

    def delete_model(self, request: HttpRequest, obj: Presence) -> None:
        services.presence_delete(presence=obj, actor=signed_in_user(request), actor_label=ADMIN)
