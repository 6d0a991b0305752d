from django.conf import settings
from django.db import models
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from lien.accounts.models import Structure
from lien.core.scopes import scoped_manager


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
    # Set by record() while it holds the structure's chain, so it is part of the hash.
    at = models.DateTimeField(db_index=True)
    shredded = models.BooleanField(default=False)
    # The structure's hash chain (journal/chain.py): this entry's number in it, the hash of
    # the entry before (chain.GENESIS for the first) and its own hash, over everything above
    # but `personal` and `shredded`.
    seq = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    # Read in a structure's scope only (core/scopes.py); cross-structure readers (the
    # verification, the chain's own lookups) say so with `_base_manager`.
    objects = scoped_manager()

    class Meta:
        verbose_name = "entrée du journal"
        verbose_name_plural = "journal"
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["structure", "at"]),
        ]
        constraints = [
            # One entry per number and structure; also the index record() reads the chain's
            # last entry through.
            models.UniqueConstraint(fields=["structure", "seq"], name="journal_chain_seq_unique"),
            models.CheckConstraint(
                condition=models.Q(seq__gte=1), name="journal_chain_seq_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class JournalCheck(models.Model):
    """One structure's result of one verification of its journal's hash chain.

    Written by `lien.journal.integrity.run_check()` (the worker's daily `journal.verify`,
    `manage.py verify_journal`). The head (last sequence number and hash seen) is kept so that
    the next check notices entries that disappeared from the end of the chain.
    """

    class Reason(models.TextChoices):
        HASH = "hash", _("son contenu ne correspond plus à son empreinte (entrée modifiée)")
        PREV = "prev", _("elle ne suit pas l'entrée précédente (entrée remplacée ou insérée)")
        GAP = "gap", _("des entrées manquent juste avant elle (entrée supprimée)")
        SEQ = "seq", _("son numéro d'ordre est en double ou en arrière")
        TAIL = "tail", _("les dernières entrées vues à la vérification précédente ont disparu")
        ANCHOR = (
            "anchor",
            _("l'entrée la plus récente à la vérification précédente a changé (chaîne réécrite)"),
        )

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    entries = models.PositiveBigIntegerField(default=0)  # entries of this chain checked
    # The chain's last entry when checked (0 and "" for an empty chain).
    head_seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    # The first broken link, when not ok: the sequence number where the chain breaks, the
    # entry found there (None when it is missing), and why.
    broken_seq = models.BigIntegerField(null=True, blank=True)
    broken_entry_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=10, choices=Reason.choices, blank=True)

    objects = scoped_manager()

    class Meta:
        verbose_name = _("vérification du journal")
        verbose_name_plural = _("vérifications du journal")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["structure", "at"])]

    def __str__(self) -> str:
        return self.summary

    @property
    def summary(self) -> str:
        """« Journal vérifié le 03/09/2026 14:05 : intact (12 345 entrées). » or the break,
        in the active time zone (a staff page runs in its structure's)."""
        from lien.core.timefmt import numeric_datetime

        when = numeric_datetime(self.at)
        if self.ok:
            return ngettext(
                "Journal vérifié le %(when)s : intact (%(count)s entrée).",
                "Journal vérifié le %(when)s : intact (%(count)s entrées).",
                self.entries,
            ) % {"when": when, "count": _grouped(self.entries)}
        return gettext(
            "Journal vérifié le %(when)s : chaîne rompue à l'entrée n° %(seq)s : %(reason)s. "
            "Prévenez l'opérateur de Lien."
        ) % {"when": when, "seq": self.broken_seq, "reason": self.get_reason_display()}


def _grouped(number: int) -> str:
    """12345 → « 12 345 » (French grouping with a narrow no-break space)."""
    return f"{number:,}".replace(",", "\u202f")
