"""Operators may create and change places (through the places' services, journalled); opening
hours and closures are shown, and changed on the staff pages, which check their overlaps."""

from django.contrib import admin
from django.http import HttpRequest

from lien.accounts.requests import signed_in_user
from lien.core.admin import ADMIN, ReadOnlyInline, ServiceDeletesAdmin
from lien.places import services
from lien.places.models import Closure, OpeningRule, Place


class OpeningRuleInline(ReadOnlyInline):
    model = OpeningRule


class ClosureInline(ReadOnlyInline):
    model = Closure


@admin.register(Place)
class PlaceAdmin(ServiceDeletesAdmin):
    list_display = ["name", "structure", "kind", "city", "published"]
    list_filter = ["structure", "kind", "published"]
    search_fields = ["name", "city"]
    inlines = [OpeningRuleInline, ClosureInline]

    def save_model(self, request: HttpRequest, obj: Place, form, change: bool) -> None:
        services.place_save(
            structure=obj.structure, place=obj, actor=signed_in_user(request), actor_label=ADMIN
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is None or services.place_deletable(obj)

    def delete_model(self, request: HttpRequest, obj: Place) -> None:
        services.place_delete(place=obj, actor=signed_in_user(request), actor_label=ADMIN)
