"""Tests of lien.core.text.fold: the one loose form used by searches, duplicates and imports."""

import importlib
import unicodedata

import pytest
from django.apps import apps as django_apps
from hypothesis import given
from hypothesis import strategies as st

from lien.beneficiaries.models import Beneficiary
from lien.core.text import fold
from tests.conftest import make_beneficiary


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Hélène", "helene"),
        ("HÉLÈNE", "helene"),
        ("  Hélène   D'Éon ", "helene d'eon"),
        ("Hélène D’Éon", "helene d'eon"),  # typographic apostrophe, as a phone types it
        ("L’Île-d’Yeu", "l'ile-d'yeu"),
        ("Ça\tva\n", "ca va"),
        ("François-Noël Lœuvre", "francois-noel lœuvre"),  # a ligature is a letter: kept
        ("Straße", "strasse"),
        ("Médiathèque\u00a0Jean-Moulin", "mediatheque jean-moulin"),  # no-break space
        ("ﬁn", "fin"),  # compatibility ligature of some PDFs
        ("Åsa Ñúñez", "asa nunez"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_decomposed_and_composed_accents_fold_alike():
    composed = "Hélène"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert fold(composed) == fold(decomposed) == "helene"


def test_a_search_word_is_found_in_the_folded_name():
    assert fold("d’eon") in fold("Hélène D'Éon")
    assert fold("DEON") not in fold("Hélène D'Éon")  # the apostrophe is kept, not dropped


@given(st.text())
def test_fold_is_idempotent_and_leaves_no_mark_or_extra_space(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert folded == folded.strip()
    assert "  " not in folded
    assert "’" not in folded
    assert not any(unicodedata.combining(c) for c in folded)
    assert folded == folded.casefold()


# --- Its callers: the people search and the stored search names ------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["d'eon", "D’ÉON", "helene d'Eon", "Hélène  D’Éon"])
def test_a_name_is_found_whichever_apostrophe_is_typed(personas, query):
    person = make_beneficiary(personas.a, first_name="Hélène", last_name="D’Éon")
    assert person.search_name == "helene d'eon"
    assert list(Beneficiary.objects.of_structure(personas.a).search(query)) == [person]


@pytest.mark.django_db
def test_the_migration_refolds_names_stored_with_the_typographic_apostrophe(personas):
    refold = importlib.import_module("lien.beneficiaries.migrations.0002_refold_search_names")
    person = make_beneficiary(personas.a, first_name="Hélène", last_name="D’Éon")
    other = personas.beneficiary_a
    Beneficiary.objects.filter(pk=person.pk).update(search_name="helene d’eon")  # as stored before

    refold.forwards(django_apps, None)
    person.refresh_from_db()
    assert person.search_name == "helene d'eon"
    assert list(Beneficiary.objects.of_structure(personas.a).search("d'eon")) == [person]
    assert Beneficiary.objects.get(pk=other.pk).search_name == other.search_name

    refold.backwards(django_apps, None)
    person.refresh_from_db()
    assert person.search_name == "helene d’eon"
