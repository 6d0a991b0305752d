"""Operators may look at records' bookkeeping, never at the people: no personal field here.

Staff reach people through the staff pages, where every view is journalled.
"""

from django.contrib import admin

from lien.beneficiaries.models import PERSONAL_FIELDS, Beneficiary, BeneficiaryImport
from lien.core.admin import PersonalDataAdmin, ReadOnlyAdmin


@admin.register(Beneficiary)
class BeneficiaryAdmin(PersonalDataAdmin):
    list_display = ["pk", "structure", "created_at"]
    list_filter = ["structure", "anonymous"]
    exclude = [*PERSONAL_FIELDS, "search_name", "merged_into"]
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
        "merged_into_number",
    ]

    @admin.display(description="fusionnée dans")
    def merged_into_number(self, person: Beneficiary) -> str:
        return f"n° {person.merged_into_id}" if person.merged_into_id else "—"


@admin.register(BeneficiaryImport)
class BeneficiaryImportAdmin(ReadOnlyAdmin):
    """The file and its per-row report hold people's details: not shown."""

    list_display = ["pk", "structure", "state", "total", "done", "created_at"]
    list_filter = ["state", "structure"]
    exclude = ["content", "report"]
