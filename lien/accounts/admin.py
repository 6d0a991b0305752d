"""Operators manage structures, staff accounts and memberships here. Every change goes through
the accounts' services, which journal it in the structures concerned with the operator as
`actor` (`actor_label="admin"`): settings, memberships given, changed or withdrawn, accounts
changed or deleted, passwords set."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from lien.accounts import services
from lien.accounts.models import Membership, Structure, User
from lien.accounts.requests import signed_in_user
from lien.core.admin import ADMIN, ServiceDeletesAdmin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


class MembershipsThroughServices(admin.ModelAdmin):
    """Memberships edited inline are saved and deleted by the services, one by one."""

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        changed = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_delete(
                membership=membership, actor=signed_in_user(request), actor_label=ADMIN
            )
        for membership in changed:
            services.membership_save(
                membership=membership, actor=signed_in_user(request), actor_label=ADMIN
            )


@admin.register(User)
class UserAdmin(ServiceDeletesAdmin, MembershipsThroughServices, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name")}),
        (_("Droits"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "password1", "password2"),
            },
        ),
    )

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        services.user_save(user=obj, actor=signed_in_user(request), actor_label=ADMIN)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.user_delete(user=obj, actor=signed_in_user(request), actor_label=ADMIN)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Django's view saves the password with its own form; a redirect to the user's page
        # means it did (a refused form is shown again, a conflict redirects to this page).
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if (
                request.method == "POST"
                and response.status_code == 302
                and response["Location"] != request.get_full_path()
            ):
                user = self.get_object(request, unquote(id))
                if user is not None:
                    services.user_password_changed(
                        user=user, actor=signed_in_user(request), actor_label=ADMIN
                    )
        return response


@admin.register(Structure)
class StructureAdmin(MembershipsThroughServices):
    list_display = ["name", "kind", "siret", "insee_code"]
    search_fields = ["name", "siret"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Structure, form, change: bool) -> None:
        services.structure_save(structure=obj, actor=signed_in_user(request), actor_label=ADMIN)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a structure's journal and reports must outlive any mistake
