from django.conf import settings
from django.db import models

from lien.accounts.models import Structure


class JournalEntry(models.Model):
    """One thing that happened: who (staff member or resident link), what, on which object.

    Append-only: rows are written only through `lien.journal.record()`.
    """

    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="+")
    # PROTECT, not SET_NULL: the database refuses every UPDATE but a shred (migration 0004).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who acted when there is no staff account: "resident-link", "worker", "system".
    actor_label = models.CharField(max_length=40, blank=True)
    action = models.CharField(max_length=80)  # dotted, e.g. "appointment.cancelled"
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField(null=True)
    data = models.JSONField(default=dict, blank=True)
    # The person the entry is about (a Beneficiary pk), and values that identify them: those
    # are overwritten with null by `shred()` when the person is erased; the row stays.
    subject_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    personal = models.JSONField(default=dict, blank=True)
    # The staff member's client address (lien/core/http.client_ip); never a resident's.
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    shredded = models.BooleanField(default=False)

    class Meta:
        verbose_name = "entrée du journal"
        verbose_name_plural = "journal"
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["structure", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"
