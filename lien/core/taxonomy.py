"""The national vocabularies of activity reports (La Coop de la médiation numérique).

`taxonomy.json` is a copy of `shared/reference/taxonomy.json`: codes are the national tool's
database values and must never be translated or renamed; labels are its French UI labels.
Multi-valued fields (themes, materials, tags…) are stored as codes between pipes,
"|email|sante|", so one LIKE finds a code on SQLite and PostgreSQL alike and a CHECK
constraint can test for one.
"""

import datetime as dt
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

PROCEDURE_THEME = "aide_aux_demarches_administratives"


@cache
def _data() -> dict:
    return json.loads((Path(__file__).with_name("taxonomy.json")).read_text(encoding="utf-8"))


def _values(key: str) -> list[dict]:
    value = _data()[key]
    return value["values"] if isinstance(value, dict) else value


def choices(key: str) -> list[tuple[str, str]]:
    """(code, label) pairs of one vocabulary, in the national order."""
    return [(item["code"], item["label"]) for item in _values(key)]


def codes(key: str) -> list[str]:
    return [item["code"] for item in _values(key)]


def label(key: str, code: str) -> str:
    return dict(choices(key)).get(code, code)


def raw(key: str) -> Any:
    return _data()[key]


ACTIVITY_TYPES = choices("activity_types")
THEMES = choices("themes")
PROCEDURE_THEMES = choices("procedure_themes")
DURATION_PRESETS = list(_data()["duration_presets_minutes"])
PLACE_TYPES = choices("place_types")
MATERIALS = choices("materials")
AUTONOMY = choices("autonomy")
WORKSHOP_LEVELS = choices("workshop_levels")
REFERRALS = choices("referral_structures")
GENDERS = choices("beneficiary_gender")
AGE_BANDS = choices("beneficiary_age_band")
SOCIAL_STATUSES = choices("beneficiary_social_status")
COLLECTIVE_COUNTERS = list(_data()["collective_anonymous_counters"])
NOT_GIVEN = "non_communique"

# Upper bound (exclusive) of each age band, in years.
_AGE_LIMITS = (
    (12, "moins_de_douze"),
    (18, "douze_dix_huit"),
    (25, "dix_huit_vingt_quatre"),
    (40, "vingt_cinq_trente_neuf"),
    (60, "quarante_cinquante_neuf"),
    (70, "soixante_soixante_neuf"),
)


def age_band(birth_year: int | None, today: dt.date | None = None) -> str:
    """The national age band for a birth year (age reached this calendar year)."""
    if not birth_year:
        return NOT_GIVEN
    from django.utils import timezone

    age = (today or timezone.localdate()).year - birth_year
    for limit, code in _AGE_LIMITS:
        if age < limit:
            return code
    return "soixante_dix_plus"


def pack(values: Iterable[str]) -> str:
    """["email", "sante"] → "|email|sante|"; nothing → ""."""
    values = [v for v in dict.fromkeys(values) if v]
    return f"|{'|'.join(values)}|" if values else ""


def unpack(value: str) -> list[str]:
    return [v for v in (value or "").split("|") if v]


def contains(code: str) -> str:
    """The substring a packed field holds when it contains `code`."""
    return f"|{code}|"
