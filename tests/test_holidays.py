"""Tests of lien.core.holidays: French public holidays by the commune's INSEE code.

Pure functions of a year and a code: the years below are arguments, not today's date.
"""

import datetime

import pytest

from lien.core.holidays import is_public_holiday, public_holidays

D = datetime.date


@pytest.mark.parametrize("insee_code", ["57463", "67482", "68224"])
def test_alsace_moselle_holidays(insee_code):
    days = public_holidays(2026, insee_code)
    assert days[D(2026, 4, 3)] == "Vendredi saint"
    assert days[D(2026, 12, 26)] == "Saint-Étienne"
    assert is_public_holiday(D(2026, 12, 26), insee_code)
    assert len(days) == 13


def test_seine_et_marne_has_no_alsace_moselle_holidays():
    days = public_holidays(2026, "77288")
    assert D(2026, 4, 3) not in days
    assert D(2026, 12, 26) not in days
    assert not is_public_holiday(D(2026, 12, 26), "77288")
    assert days == public_holidays(2026)


def test_metropolitan_holidays_in_french():
    days = public_holidays(2026, "16015")
    assert days[D(2026, 5, 25)] == "Lundi de Pentecôte"
    assert days[D(2026, 7, 14)] == "Fête nationale"
    assert days[D(2026, 1, 1)] == "Jour de l'an"
    assert len(days) == 11
    assert public_holidays(2027)[D(2027, 5, 17)] == "Lundi de Pentecôte"
    assert is_public_holiday(D(2026, 5, 25))
    assert not is_public_holiday(D(2026, 5, 26))


@pytest.mark.parametrize(
    "insee_code",
    [
        "2A004",  # Ajaccio: Corsica is metropolitan
        "2b033",  # Bastia, typed in lower case
        "",
        "97502",  # Saint-Pierre-et-Miquelon keeps the metropolitan days
        "05061",  # a code starting with 0 is not mistaken for anything else
    ],
)
def test_other_codes_have_the_metropolitan_calendar(insee_code):
    assert public_holidays(2026, insee_code) == public_holidays(2026, "75056")


# Each overseas area has its own days on top of the metropolitan ones (2026).
OVERSEAS = {
    "97105": {  # Guadeloupe, Basse-Terre
        D(2026, 3, 12): "Mi-Carême",
        D(2026, 4, 3): "Vendredi saint",
        D(2026, 5, 27): "Abolition de l'esclavage",
        D(2026, 7, 21): "Fête de Victor Schoelcher",
    },
    "97209": {  # Martinique, Fort-de-France
        D(2026, 4, 3): "Vendredi saint",
        D(2026, 5, 22): "Abolition de l'esclavage",
        D(2026, 7, 21): "Fête de Victor Schoelcher",
    },
    "97302": {D(2026, 6, 10): "Abolition de l'esclavage"},  # Guyane, Cayenne
    "97411": {D(2026, 12, 20): "Abolition de l'esclavage"},  # La Réunion, Saint-Denis
    "97611": {D(2026, 4, 27): "Abolition de l'esclavage"},  # Mayotte, Mamoudzou
    "97701": {D(2026, 10, 9): "Abolition de l'esclavage"},  # Saint-Barthélemy
    "97801": {  # Saint-Martin
        D(2026, 5, 28): "Abolition de l'esclavage",
        D(2026, 7, 21): "Fête de Victor Schoelcher",
    },
    "98613": {  # Wallis-et-Futuna, Uvea
        D(2026, 4, 28): "Saint Pierre Chanel",
        D(2026, 6, 29): "Saints Pierre et Paul",
        D(2026, 7, 29): "Fête du Territoire",
    },
    "98735": {  # Polynésie française, Papeete
        D(2026, 3, 5): "Arrivée de l'Évangile",
        D(2026, 4, 3): "Vendredi saint",
        D(2026, 11, 20): "Matāri'i",
    },
    "98818": {D(2026, 9, 24): "Fête de la Citoyenneté"},  # Nouvelle-Calédonie, Nouméa
}


@pytest.mark.parametrize("insee_code", sorted(OVERSEAS))
def test_overseas_holidays(insee_code):
    metropolitan = public_holidays(2026)
    days = public_holidays(2026, insee_code)
    assert {day: days[day] for day in days.keys() - metropolitan.keys()} == OVERSEAS[insee_code]
    assert metropolitan.items() <= days.items()
    for day in OVERSEAS[insee_code]:
        assert is_public_holiday(day, insee_code)
        assert not is_public_holiday(day, "75056")


def test_one_overseas_area_does_not_get_another_ones_days():
    assert D(2026, 12, 20) not in public_holidays(2026, "97105")  # La Réunion's, not Guadeloupe's
    assert D(2026, 5, 27) not in public_holidays(2026, "97411")


def test_surrounding_spaces_in_the_code_are_ignored():
    assert public_holidays(2026, " 57463 ") == public_holidays(2026, "57463")


def test_public_holidays_returns_a_copy_of_the_cache():
    days = public_holidays(2026, "57463")
    days.clear()
    assert len(public_holidays(2026, "57463")) == 13
