from django.contrib import admin

from lien.places.models import Closure, OpeningRule, Place


class OpeningRuleInline(admin.TabularInline):
    model = OpeningRule
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "structure", "kind", "city", "published"]
    list_filter = ["structure", "kind", "published"]
    search_fields = ["name", "city"]
    inlines = [OpeningRuleInline, ClosureInline]
