"""Operators may look at records' bookkeeping, never at the people: no personal field here.

Staff reach people through the staff pages, where every view is journalled.
"""

from django.contrib import admin

from lien.beneficiaries.models import PERSONAL_FIELDS, Beneficiary, BeneficiaryImport


@admin.register(Beneficiary)
class BeneficiaryAdmin(admin.ModelAdmin):
    list_display = ["pk", "structure", "created_at"]
    list_filter = ["structure", "anonymous"]
    exclude = [*PERSONAL_FIELDS, "search_name"]
    readonly_fields = [
        "structure",
        "anonymous",
        "age_band",
        "gender",
        "social_status",
        "commune",
        "commune_insee",
        "postcode",
        "notice_given_on",
        "created_by",
        "created_at",
        "last_activity_at",
        "anonymised_at",
        "merged_into",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BeneficiaryImport)
class BeneficiaryImportAdmin(admin.ModelAdmin):
    list_display = ["pk", "structure", "state", "total", "done", "created_at"]
    list_filter = ["state", "structure"]
    exclude = ["content", "report"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
