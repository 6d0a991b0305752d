"""Validators and normalisers for French identifiers, shared by forms, services and importers.

Each raises ValidationError with a French message naming what is wrong.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.fr import siret as stdnum_siret

POSTCODE_RE = re.compile(r"^\d{5}$")
# Same pattern as the national places standard: metropolitan, Corsica (2A/2B) and overseas.
INSEE_RE = re.compile(r"^([013-9]\d|2[AB1-9])\d{3}$")
# Phone prefixes the national places standard accepts.
STANDARD_PHONE_PREFIXES = (
    "+33",
    "+590",
    "+594",
    "+262",
    "+596",
    "+269",
    "+687",
    "+689",
    "+508",
    "+681",
)


def validate_siret(value: str) -> str:
    """Return the SIRET without spaces, or raise if its length or Luhn key is wrong."""
    compact = re.sub(r"[\s.]", "", value or "")
    if not compact.isdigit() or len(compact) != 14:
        raise ValidationError(_("Le SIRET doit comporter 14 chiffres."), code="siret_length")
    if not stdnum_siret.is_valid(compact):
        raise ValidationError(
            _("Ce SIRET n'est pas valide : sa clé de contrôle ne correspond pas."),
            code="siret_checksum",
        )
    return compact


def validate_postcode(value: str) -> str:
    value = (value or "").strip()
    if not POSTCODE_RE.match(value):
        raise ValidationError(_("Le code postal doit comporter 5 chiffres."), code="postcode")
    return value


def validate_insee_code(value: str) -> str:
    value = (value or "").strip().upper()
    if not INSEE_RE.match(value):
        raise ValidationError(
            _("Le code INSEE doit comporter 5 caractères (par exemple 77284 ou 2A004)."),
            code="insee",
        )
    return value


def normalise_phone(value: str) -> str:
    """Return the number in E.164 form (+33…), or raise a French message."""
    raw = (value or "").strip()
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("Numéro de téléphone non reconnu : « %(value)s ».") % {"value": raw},
            code="phone",
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Numéro de téléphone non valide : « %(value)s ».") % {"value": raw}, code="phone"
        )
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not formatted.startswith(STANDARD_PHONE_PREFIXES):
        raise ValidationError(
            _("Seuls les numéros français (métropole et outre-mer) sont acceptés."), code="phone"
        )
    return formatted


def display_phone(e164: str) -> str:
    """Format +33123456789 as 01 23 45 67 89 for residents."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def validate_phone_field(value: str) -> None:
    """Model-field validator: the stored value must already be normalised."""
    if value and normalise_phone(value) != value:
        raise ValidationError(_("Le numéro doit être enregistré au format +33…"), code="phone")
