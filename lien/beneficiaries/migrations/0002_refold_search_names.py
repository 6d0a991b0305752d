"""Stored search names follow the one French folding, `lien.core.text.fold`, which also turns
the typographic apostrophe into the plain one: « D’Éon » is now stored "d'eon", so typing
"d'eon" finds it. Only names holding that apostrophe change."""

import unicodedata

from django.db import migrations
from django.db.models import Q

APOSTROPHE = "’"


def _refold(apps, folding) -> None:
    Beneficiary = apps.get_model("beneficiaries", "Beneficiary")
    people = Beneficiary.objects.filter(
        Q(first_name__contains=APOSTROPHE) | Q(last_name__contains=APOSTROPHE)
    ).only("pk", "first_name", "last_name", "search_name")
    changed = []
    for person in people.iterator(chunk_size=1000):
        folded = folding(f"{person.first_name} {person.last_name}")
        if folded != person.search_name:
            person.search_name = folded
            changed.append(person)
    Beneficiary.objects.bulk_update(changed, ["search_name"], batch_size=500)


def forwards(apps, schema_editor) -> None:
    from lien.core.text import fold

    _refold(apps, fold)


def _fold_before(text: str) -> str:
    """The folding of the search names before this migration (apostrophes kept as typed)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def backwards(apps, schema_editor) -> None:
    _refold(apps, _fold_before)


class Migration(migrations.Migration):
    dependencies = [("beneficiaries", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
