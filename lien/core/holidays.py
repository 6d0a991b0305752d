"""French public holidays for a commune: the one calendar for hours, the schedule and slots.

Which days are holidays depends on where the commune is: Alsace-Moselle (Moselle 57,
Bas-Rhin 67, Haut-Rhin 68) adds Good Friday and 26 December; each overseas département or
collectivité adds its own days (abolition of slavery, Nouvelle-Calédonie's citizenship day…).
The area is read from the commune's INSEE code; the dates and their French names come from
the `holidays` library. Pure: no database, no settings; results are cached per year and area.
"""

import datetime
import functools

import holidays

# INSEE prefix → the `holidays` library's subdivision of France.
_OVERSEAS_SUBDIVISIONS = {
    "971": "971",  # Guadeloupe
    "972": "972",  # Martinique
    "973": "973",  # Guyane
    "974": "974",  # La Réunion
    "975": "PM",  # Saint-Pierre-et-Miquelon
    "976": "976",  # Mayotte
    "977": "BL",  # Saint-Barthélemy
    "978": "MF",  # Saint-Martin
    "986": "WF",  # Wallis-et-Futuna
    "987": "PF",  # Polynésie française
    "988": "NC",  # Nouvelle-Calédonie
}


def _subdivision(insee_code: str) -> str | None:
    """The `holidays` subdivision of a commune INSEE code (None: metropolitan France)."""
    code = (insee_code or "").strip().upper()
    if code[:2] == "57":
        return "57"  # Moselle
    if code[:2] in ("67", "68"):
        return "6AE"  # Collectivité européenne d'Alsace (Bas-Rhin, Haut-Rhin)
    return _OVERSEAS_SUBDIVISIONS.get(code[:3])


@functools.lru_cache(maxsize=256)
def _holidays(year: int, subdivision: str | None) -> tuple[tuple[datetime.date, str], ...]:
    calendar = holidays.France(years=year, subdiv=subdivision, language="fr")
    return tuple(sorted(calendar.items()))


def public_holidays(year: int, insee_code: str = "") -> dict[datetime.date, str]:
    """French public holidays of a year with their French names, for the commune's area:
    Alsace-Moselle (57, 67, 68), overseas départements and collectivités, else metropolitan."""
    return dict(_holidays(year, _subdivision(insee_code)))


def is_public_holiday(day: datetime.date, insee_code: str = "") -> bool:
    return day in public_holidays(day.year, insee_code)
