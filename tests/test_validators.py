import pytest
from django.core.exceptions import ValidationError

from lien.accounts.models import Structure
from lien.core.validators import (
    display_phone,
    normalise_phone,
    validate_insee_code,
    validate_postcode,
    validate_siret,
)


def test_siret_luhn_key_is_checked():
    assert validate_siret("217 799 907 00019") == "21779990700019"
    with pytest.raises(ValidationError, match="clé de contrôle"):
        validate_siret("21779990700018")
    with pytest.raises(ValidationError, match="14 chiffres"):
        validate_siret("2177999070001")


@pytest.mark.parametrize("value", ["7700", "770000", "ABCDE", ""])
def test_postcode_must_be_five_digits(value):
    with pytest.raises(ValidationError, match="5 chiffres"):
        validate_postcode(value)


def test_insee_code_accepts_corsica_and_overseas():
    assert validate_insee_code("2a004") == "2A004"
    assert validate_insee_code("97411") == "97411"
    for bad in ("20004", "7728", "2C004"):
        with pytest.raises(ValidationError, match="code INSEE"):
            validate_insee_code(bad)


@pytest.mark.parametrize(
    "raw", ["01 64 00 00 00", "0164000000", "+33 1 64 00 00 00", "01.64.00.00.00"]
)
def test_phone_is_normalised_to_plus_33(raw):
    assert normalise_phone(raw) == "+33164000000"
    assert display_phone("+33164000000") == "01 64 00 00 00"


def test_overseas_phone_keeps_its_prefix():
    assert normalise_phone("+262 262 12 34 56") == "+262262123456"


@pytest.mark.parametrize("raw", ["12", "abc", "+44 20 7946 0958", "06 12"])
def test_bad_phone_is_refused_in_french(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_phone(raw)
    assert "uméro" in str(exc.value)


@pytest.mark.django_db
def test_structure_full_clean_names_every_bad_field():
    structure = Structure(
        name="X",
        slug="equipe",
        kind="commune",
        siret="12345678901234",
        insee_code="999",
        contact_phone="0164000000",
        colour="blue",
    )
    with pytest.raises(ValidationError) as exc:
        structure.full_clean()
    assert set(exc.value.message_dict) >= {"slug", "siret", "insee_code", "contact_phone", "colour"}
    assert Structure.objects.count() == 0
