from django.contrib import admin

from lien.schedule.models import Presence, PresenceException


class PresenceExceptionInline(admin.TabularInline):
    model = PresenceException
    extra = 0


@admin.register(Presence)
class PresenceAdmin(admin.ModelAdmin):
    list_display = ["advisor", "structure", "weekday", "start", "end", "place", "mode"]
    list_filter = ["structure", "mode"]
    inlines = [PresenceExceptionInline]
