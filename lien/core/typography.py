"""French typography, done once: the no-break spaces a French reader expects.

- a narrow no-break space (U+202F) before « ? », « ! » and « ; » (put in when missing);
- a no-break space (U+00A0) before « : », inside « guillemets », between a number and its
  « h » (« 14 h », « 14 h 30 ») and before « € » and « % »;
- « 1er » for the first day of a month (« 1er décembre »), as lien/core/timefmt.py writes it.

An ordinary space there becomes the no-break one, so that a line never breaks between a word
and its mark (« numérique / ? », « 14 / h »). Nothing else moves: a missing space is put in
only before « ? ! ; » and inside guillemets, never before « : » (times such as 14:30, URLs),
and never inside a URL or an e-mail address.

`plain()` is for text (e-mails); `html()` for a rendered page, where only the text between
tags changes, never a tag, an attribute, or what <script>, <style>, <pre>, <textarea> and
<code> hold. Every page gets it once, through the `typography` filter wrapping base.html
(lien/core/templatetags/lien.py). SMS text does not use it (GSM-7 has no such spaces).
"""

import html as html_module
import re

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space

# What a rule must never touch in running text: URLs and e-mail addresses.
_PROTECTED = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>«»\"]+"  # https://…, www.…
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # someone@example.org
    re.IGNORECASE,
)

# An ordinary space: a plain text keeps its line breaks; in HTML a line break is a space.
_PLAIN_SPACE = r"[ \t]+"
_HTML_SPACE = r"[ \t\r\n]+"
# Any space, the no-break ones included (`\s` holds them too, spelt out for the reader).
_ANY_SPACE = "\\s\u00a0\u202f"


_MONTHS = "(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)"


# A rule: the characters without which it cannot apply (a quick test), its pattern, and what
# replaces a match.
Rule = tuple[str, re.Pattern[str], str]


def _rules(space: str) -> list[Rule]:
    # After « ? ! ; »: a space, the end, or more punctuation; never « ?jour=… ».
    # (A private-use character stands for an entity, « &quot; », in a page: see html().)
    then = r"(?=[?!;](?:[\s\u00a0\u202f?!.,)\]»\"'’…\ue000-\uf8ff]|$))"
    return [
        # « ? ! ; »: the space before becomes narrow and no-break, or one is put in after a
        # letter, a digit or a closing mark.
        ("?!;", re.compile(space + then), NNBSP),
        ("?!;", re.compile(r"(?<=[^\W_]|[)\]»…])" + then), NNBSP),
        # « : » keeps a space only where there was one.
        (":", re.compile(space + r"(?=:(?:[\s\u00a0\u202f]|$))"), NBSP),
        # Inside guillemets.
        ("«", re.compile("«" + space), "«" + NBSP),
        ("«", re.compile(f"«(?=[^{_ANY_SPACE}])"), "«" + NBSP),
        ("»", re.compile(space + "»"), NBSP + "»"),
        ("»", re.compile(f"(?<=[^{_ANY_SPACE}])»"), NBSP + "»"),
        # « 14 h », « 14 h 30 », « 1 h 30 » (a duration).
        ("h", re.compile(r"(?<![\w,.])(\d{1,2})" + space + r"h(?![\w'’])"), "\\1" + NBSP + "h"),
        (
            "h",
            re.compile(r"(?<![\w,.])(\d{1,2}\u00a0h)" + space + r"(\d{2})(?![\w,.])"),
            "\\1" + NBSP + "\\2",
        ),
        # « 10 € », « 50 % ».
        ("€%", re.compile(r"(?<=\d)" + space + r"(?=[€%])"), NBSP),
        # « 1er décembre », whatever formatted the date (timefmt already says so).
        ("1", re.compile(r"(?<![\w,.])1(?=[ \u00a0]" + _MONTHS + r"\b)"), "1er"),
    ]


_PLAIN_RULES = _rules(_PLAIN_SPACE)
_HTML_RULES = _rules(_HTML_SPACE)


def _apply(text: str, rules: list[Rule]) -> str:
    """The rules over the text, URLs and e-mail addresses left as they are."""
    if "@" not in text and "://" not in text and "www." not in text.lower():
        return _apply_rules(text, rules)
    pieces = []
    last = 0
    for match in _PROTECTED.finditer(text):
        pieces.append(_apply_rules(text[last : match.start()], rules))
        pieces.append(match.group())
        last = match.end()
    pieces.append(_apply_rules(text[last:], rules))
    return "".join(pieces)


def _apply_rules(text: str, rules: list[Rule]) -> str:
    for needles, pattern, replacement in rules:
        if any(map(text.__contains__, needles)):
            text = pattern.sub(replacement, text)
    return text


def plain(text: str) -> str:
    """French no-break spaces in a plain text (an e-mail): « Une question ? » never breaks."""
    if not text:
        return text
    return _apply(text, _PLAIN_RULES)


# Elements whose text is not prose: left whole, up to their closing tag.
_CODE_ELEMENT = re.compile(r"(?:script|style|pre|textarea|code)(?:[\s/]|$)", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_SPACE_ENTITIES = {NBSP, NNBSP}
_PLACEHOLDER = 0xE000  # private use: one character stands for one entity while rules run
_MAX_ENTITIES = 0xF8FF - _PLACEHOLDER  # a text with more is left as it is
# Every rule needs one of these: a text without any is left alone at once (most are).
_NEEDLES = re.compile("[?!;:«»€%h1]")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def html(markup: str) -> str:
    """French no-break spaces in the text of a rendered page (tags and code left alone).

    The page is cut at each « < » (str.split: a page of rows stays a few milliseconds);
    what follows a tag's « > » up to the next « < » is a text. Comments and code elements
    are carried over whole. Django escapes « < » and « > » in text and attributes.
    """
    if not markup:
        return markup
    parts = markup.split("<")
    out = [_text_node(parts[0])]
    waiting_for = ""  # the end of a comment ("-->") or of a code element ("/script")
    for part in parts[1:]:
        if waiting_for:
            if waiting_for == "-->":
                end = part.find("-->")
                if end < 0:
                    out.append("<" + part)
                    continue
                out.append("<" + part[: end + 3] + _text_node(part[end + 3 :]))
                waiting_for = ""
                continue
            if part[: len(waiting_for)].lower() != waiting_for:
                out.append("<" + part)
                continue
            waiting_for = ""
        elif part.startswith("!--"):
            end = part.find("-->", 3)
            if end < 0:
                waiting_for = "-->"
                out.append("<" + part)
            else:
                out.append("<" + part[: end + 3] + _text_node(part[end + 3 :]))
            continue
        tag, closed, text = part.partition(">")
        if _CODE_ELEMENT.match(tag):
            name = tag.split(None, 1)[0].rstrip("/").lower()
            waiting_for = "/" + name
            out.append("<" + part)
        elif closed:
            out.append("<" + tag + ">" + _text_node(text))
        else:
            out.append("<" + part)  # no tag after all: left as it is
    return "".join(out)


def _text_node(text: str) -> str:
    """One text between tags: its entities (« &amp; », « &#x27; ») stay as they are."""
    if not text or not _NEEDLES.search(text) or _PRIVATE_USE.search(text):
        return text
    if text.count("&") > _MAX_ENTITIES:
        return text
    entities: list[str] = []

    def hide(match: re.Match[str]) -> str:
        decoded = html_module.unescape(match.group())
        if decoded in _SPACE_ENTITIES:
            return decoded  # a no-break space written as an entity counts as one
        entities.append(match.group())
        return chr(_PLACEHOLDER + len(entities) - 1)

    hidden = _ENTITY.sub(hide, text)
    changed = _apply(hidden, _HTML_RULES)
    if changed == hidden:
        return text
    if entities:
        changed = _PRIVATE_USE.sub(lambda m: entities[ord(m.group()) - _PLACEHOLDER], changed)
    return changed
