"""French folding: the one loose form of a text, for searching and matching.

People type "helene", "Hélène" or "HÉLÈNE", "l'Ile" or "L’Île", with stray spaces; a search,
a duplicate check or a vocabulary match must see the same words. Pure: a string in, a string
out, no database and no settings.
"""

import unicodedata

# The typographic apostrophe (what word processors and phones type) and the plain one are the
# same letter to a reader; keyboards type the plain one.
_APOSTROPHES = str.maketrans({"’": "'"})


def fold(text: str | None) -> str:
    """Lower-case, without accents, typographic apostrophes or extra spaces:
    "  Hélène  D’Éon " → "helene d'eon"; "Œuvre" → "œuvre" (ligatures are letters, kept)."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_APOSTROPHES))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())
