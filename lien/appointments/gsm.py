"""SMS text in the GSM 7-bit alphabet (3GPP TS 23.038, formerly GSM 03.38), where one SMS
holds 160 characters.

A single character outside that alphabet (a French « ê », « ç », « œ », a typographic
apostrophe or a non-breaking space) switches the whole SMS to UCS-2, where one SMS holds 70
characters. So every SMS text goes through `to_gsm7` before it is measured and sent: letters
lose the accents the alphabet lacks (« ê » → « e »; « é », « è », « à », « ù », « É » are in
it and stay), punctuation becomes its plain form. The characters of the extension table
(« € [ ] { } ~ ^ \\ | ») are GSM-7 too but take two septets each (an escape, then the
character): `gsm7_length` counts them so.

Pure functions on strings; `delivery.render_sms` fits a message in one SMS with them.
"""

import math
import unicodedata

SINGLE_SEGMENT = 160  # septets in one SMS
MULTIPART_SEGMENT = 153  # septets in each part of a concatenated SMS (7 go to the header)
UCS2_SINGLE_SEGMENT = 70  # UTF-16 code units in one SMS outside GSM-7
UCS2_MULTIPART_SEGMENT = 67
ELLIPSIS = "..."  # « … » is not in the alphabet

# The basic table, by code point 0x00-0x7F. 0x1B is the escape to the extension table and
# stands for no character itself.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
_BASIC = frozenset(BASIC) - {"\x1b"}
# The extension table's characters (each sent as escape + character: two septets).
EXTENSION = frozenset("\f^{}\\[~]|€")

# Characters French text has that the alphabet lacks and that plain decomposition would not
# turn into something readable. Accented letters not listed here lose their accent through
# Unicode decomposition (« ê » → « e », « Â » → « A »).
_REPLACEMENTS = {
    # Quotes and apostrophes.
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "`": "'",
    "´": "'",
    # Dashes and hyphens.
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    # Spaces (French typography puts narrow non-breaking ones before « : ; ? ! »).
    "\u00a0": " ",
    "\u202f": " ",
    "\u2000": " ",
    "\u2001": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2004": " ",
    "\u2005": " ",
    "\u2006": " ",
    "\u2007": " ",
    "\u2008": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\t": " ",
    # Invisible characters.
    "\u00ad": "",  # soft hyphen
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
    # Letters and signs.
    "ç": "c",  # only the capital « Ç » is in the alphabet
    "œ": "oe",
    "Œ": "OE",
    "…": ELLIPSIS,
    "·": ".",  # « Absent·e »
    "•": "-",
    "°": "o",  # « n° »
    "×": "x",
    "ⁿ": "n",
}


def _transliterate(char: str) -> str:
    if char in _BASIC or char in EXTENSION:
        return char
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(
        c for c in decomposed if not unicodedata.combining(c) and (c in _BASIC or c in EXTENSION)
    )
    if kept and len(kept) == len([c for c in decomposed if not unicodedata.combining(c)]):
        return kept
    return "?"


def to_gsm7(text: str) -> str:
    """`text` with every character outside the GSM-7 alphabet replaced by its nearest plain
    form (« ê » → « e », « ’ » → « ' », « … » → « ... »), or « ? » when it has none.
    Applying it twice changes nothing more."""
    return "".join(_transliterate(char) for char in text)


def is_gsm7(text: str) -> bool:
    """Every character of `text` is in the GSM-7 alphabet (basic or extension table)."""
    return all(char in _BASIC or char in EXTENSION for char in text)


def gsm7_length(text: str) -> int:
    """Septets `text` takes once transliterated: 2 for an extension character, 1 otherwise."""
    return sum(2 if char in EXTENSION else 1 for char in to_gsm7(text))


def segments(text: str) -> int:
    """SMS messages (segments) the network bills for `text`, sent as it is: GSM-7 if every
    character is in the alphabet, UCS-2 otherwise. An extension character's two septets, or
    a UTF-16 surrogate pair, are never split between two parts."""
    if is_gsm7(text):
        sizes = [2 if char in EXTENSION else 1 for char in text]
        single, part = SINGLE_SEGMENT, MULTIPART_SEGMENT
    else:
        sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
        single, part = UCS2_SINGLE_SEGMENT, UCS2_MULTIPART_SEGMENT
    if sum(sizes) <= single:
        return 1 if sizes else 0
    count, used = 1, 0
    for size in sizes:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


def shorten(text: str, limit: int) -> str:
    """`text` (transliterated) in at most `limit` septets: whole if it fits, else cut,
    preferably after a word, and ended with « ... »."""
    text = to_gsm7(text)
    if gsm7_length(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return _cut(text, max(limit, 0))
    head = _cut(text, limit - len(ELLIPSIS))
    # Rather end on a whole word, unless that loses more than a third of what is kept.
    space = head.rfind(" ")
    if space >= math.ceil(len(head) * 2 / 3):
        head = head[:space]
    return head.rstrip(" ,;:-'(") + ELLIPSIS


def _cut(text: str, limit: int) -> str:
    """The longest start of `text` that takes at most `limit` septets."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if char in EXTENSION else 1
        if used > limit:
            return text[:index]
    return text
