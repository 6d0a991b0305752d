"""A small breadth-first crawler over Django's test client, for tests/test_crawler.py.

It follows what a signed-in person is offered, as a browser (and htmx) would:
- `<a href>` and `<link href>` (downloads included);
- `hx-get` / `hx-post` / … URLs, fetched with the `HX-Request: true` header; an `input` that
  carries `hx-get` sends its own name and value, as `hx-include="this"` does;
- `<form method="get">` submitted with its default values, once more with every text or
  search field set to a probe word (so searches show their results), and once per other
  option of each of its lists (filters, views; a sample of a long list);
- an address to copy (a read-only field holding a URL: the ICS feed);
- the `action` of POST forms, fetched with GET only: a crawler never changes data, and the
  page answers with its confirmation step or 405.

Each response body is kept as text for the caller to scan: HTML, CSV, ICS and JSON as UTF-8
(errors ignored, BOM stripped); a ZIP body (XLSX, ODS) as the text of all its members, since
its XML is compressed. URLs are normalised so that pagination and date pickers do not explode
(`Crawler.key`): one visit per path and query shape, where an id, a date or a page number in
a parameter counts once (an id in a path is another object, so another path).
"""

from __future__ import annotations

import io
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from django.test import Client
from django.urls import Resolver404, resolve

HTMX_ATTRIBUTES = ("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")
TEXT_INPUTS = {"", "text", "search"}
SKIPPED_INPUTS = {"submit", "button", "image", "reset", "file"}
URL_STARTS = ("http://", "https://", "/")
OPTIONS_PER_LIST = 8  # options of one list tried, besides the default


@dataclass(frozen=True)
class Link:
    """Something a page offers: a URL, how it is fetched, and the page that offered it."""

    url: str
    htmx: bool = False
    via: str = ""  # the page that offered it ("" for the start)
    how: str = "link"  # link, htmx, form-get, post-action, redirect
    # A form tried another way ("probe", or "name=value" for another option of a list): tried
    # once per form address, not once per page that shows the form (no combinations).
    variant: str = ""


@dataclass
class Visit:
    link: Link
    status: int
    content_type: str
    url_name: str | None
    body: str  # the body as text (see body_text)
    location: str  # where a redirect goes
    text: str  # the body and Content-Disposition, lower-cased: what a test searches
    reads: int = 0  # journal entries of a read written while serving it (see Crawler)


@dataclass
class _Form:
    method: str
    action: str | None
    hx_get: str | None
    hx_post: str | None
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, name, value)
    select: tuple[str, bool, list[tuple[str, bool]]] | None = None  # name, multiple, options
    option: list | None = None  # the option being read: [value, selected, text]
    textarea: list[str] | None = None  # [name, text]
    options: dict[str, list[str]] = field(default_factory=dict)  # a select's option values


class PageParser(HTMLParser):
    """Collects the links, htmx URLs and forms of one HTML page."""

    def __init__(self, probe: str):
        super().__init__(convert_charrefs=True)
        self.probe = probe
        self.found: list[Link] = []
        self.forms: list[_Form] = []
        self._form: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag in ("a", "link", "area") and a.get("href"):
            self.found.append(Link(a["href"]))
        if tag == "input" and "readonly" in a and a.get("value", "").startswith(URL_STARTS):
            self.found.append(Link(a["value"]))  # an address to copy (ICS feed)
        for name in HTMX_ATTRIBUTES:
            if name in a and tag != "form":
                self._htmx(tag, a, a[name] or "")
        if tag == "form":
            self._form = _Form(
                method=(a.get("method") or "get").lower(),
                action=a.get("action"),
                hx_get=a.get("hx-get"),
                hx_post=next((a[n] for n in HTMX_ATTRIBUTES[1:] if n in a), None),
            )
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        if tag == "input":
            kind = (a.get("type") or "").lower()
            name = a.get("name")
            if not name or kind in SKIPPED_INPUTS or "disabled" in a:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.fields.append((kind, name, a.get("value") or "on"))
                return
            form.fields.append((kind, name, a.get("value") or ""))
        elif tag == "select" and a.get("name") and "disabled" not in a:
            form.select = (a["name"], "multiple" in a, [])
        elif tag == "option" and form.select is not None:
            form.option = [a.get("value"), "selected" in a, ""]
        elif tag == "textarea" and a.get("name"):
            form.textarea = [a["name"], ""]

    def handle_data(self, data: str) -> None:
        form = self._form
        if form is None:
            return
        if form.option is not None:
            form.option[2] += data
        if form.textarea is not None:
            form.textarea[1] += data

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if form is None:
            return
        if tag == "option" and form.option is not None and form.select is not None:
            value, selected, text = form.option
            form.select[2].append((value if value is not None else text.strip(), selected))
            form.option = None
        elif tag == "select" and form.select is not None:
            name, multiple, options = form.select
            chosen = [v for v, selected in options if selected]
            if not chosen and options and not multiple:
                chosen = [options[0][0]]  # a browser submits the first option
            form.fields += [("select", name, v) for v in (chosen if multiple else chosen[:1])]
            form.options[name] = [v for v, _selected in options]
            form.select = None
        elif tag == "textarea" and form.textarea is not None:
            form.fields.append(("textarea", form.textarea[0], form.textarea[1].lstrip("\n")))
            form.textarea = None
        elif tag == "form":
            self._form = None

    def _htmx(self, tag: str, a: dict[str, str], url: str) -> None:
        """An element's own htmx request; a named field sends its value (and the probe)."""
        name = a.get("name")
        if tag in ("input", "select", "textarea") and name:
            value = a.get("value") or ""
            self.found.append(Link(_with_params(url, [(name, value)]), True, how="htmx"))
            if (a.get("type") or "").lower() in TEXT_INPUTS:
                probed = _with_params(url, [(name, self.probe)])
                self.found.append(Link(probed, True, how="htmx", variant="probe"))
        else:
            self.found.append(Link(url, True, how="htmx"))

    def submissions(self, page_url: str) -> Iterator[Link]:
        """Every form: GET forms submitted (and varied), POST forms' actions."""
        for form in self.forms:
            htmx = bool(form.hx_get or form.hx_post)
            if form.hx_post or form.method != "get":
                yield Link(form.hx_post or form.action or page_url, htmx, how="post-action")
                continue
            action = urljoin(page_url, form.hx_get or form.action or page_url)
            values = [(name, value) for _kind, name, value in form.fields]
            yield Link(_replace_query(action, values), htmx, how="form-get")
            if any(kind in TEXT_INPUTS for kind, _name, _value in form.fields):
                probed = [
                    (name, self.probe if kind in TEXT_INPUTS else value)
                    for kind, name, value in form.fields
                ]
                yield Link(_replace_query(action, probed), htmx, how="form-get", variant="probe")
            # Each other option of each list, the rest left as it is (filters, views); a long
            # list (themes, journal actions) by a spread sample, so that it costs no more than
            # a few pages.
            for select, options in form.options.items():
                current = {v for n, v in values if n == select}
                others = [option for option in options if option not in current]
                for option in _sample(others, OPTIONS_PER_LIST):
                    chosen = [(n, option if n == select else v) for n, v in values]
                    url = _replace_query(action, chosen)
                    variant = f"{select}={_value_class(option)}"
                    yield Link(url, htmx, how="form-get", variant=variant)


def _sample(values: list[str], n: int) -> list[str]:
    """At most n values, spread evenly from the first to the last."""
    if len(values) <= n:
        return values
    return [values[round(i * (len(values) - 1) / (n - 1))] for i in range(n)]


def _with_params(url: str, extra: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + extra
    return urlunsplit(parts._replace(query=urlencode(query)))


def _replace_query(url: str, values: list[tuple[str, str]]) -> str:
    """What a browser does with a GET form: the action's query string is replaced."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode(values), fragment=""))


def body_text(content: bytes) -> str:
    """A response body as searchable text: ZIP members unpacked, UTF-8, BOM stripped."""
    if content[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                content = b"\n".join(archive.read(name) for name in archive.namelist())
        except zipfile.BadZipFile:
            pass
    return content.decode("utf-8", errors="ignore").replace("\ufeff", "")


def _value_class(value: str) -> str:
    if not value:
        return ""
    if any(c.isdigit() for c in value) or len(value) > 30:
        return "#"
    return value


def url_name(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


class Crawler:
    """Breadth-first from `start`, through everything `allowed(path)` accepts.

    `limit` caps the number of requests; `complete` tells whether the crawl ended by itself
    (a crawl stopped by the cap proves nothing about the pages it did not reach).
    """

    def __init__(
        self,
        client: Client,
        *,
        allowed: Callable[[str], bool],
        probe: str,
        limit: int = 400,
        count_reads: Callable[[], int] | None = None,
    ):
        self.client = client
        self.count_reads = count_reads
        self.allowed = allowed
        self.probe = probe
        self.limit = limit
        self.visits: list[Visit] = []
        self.complete = False
        self._seen: set[tuple] = set()

    @staticmethod
    def key(link: Link) -> tuple:
        """One visit per path, htmx or not, and query shape: the parameter names, and each
        value as a class ("" empty, "#" anything with a digit: an id, a date, a page number)
        or as itself when it is a word (a view, a kind, a state, the probe)."""
        parts = urlsplit(link.url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if link.variant:
            return (link.htmx, parts.path, tuple(sorted({k for k, _ in query})), link.variant)
        shape = sorted({(k, _value_class(v)) for k, v in query})
        return (link.htmx, parts.path, tuple(shape))

    def _normalise(self, url: str, base: str) -> str | None:
        url = url.strip()
        if not url or url.startswith(("#", "mailto:", "tel:", "javascript:", "data:", "sms:")):
            return None
        parts = urlsplit(urljoin(base, url))
        if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
            return None  # another site (or https, which the test server never is)
        if not self.allowed(parts.path):
            return None
        return urlunsplit(("", "", parts.path, parts.query, ""))

    def crawl(self, start: str) -> list[Visit]:
        queue: deque[Link] = deque()
        self._offer(queue, Link(start), base=start)
        while queue:
            if len(self.visits) >= self.limit:
                return self.visits  # incomplete: the caller fails on it
            self.visits.append(visit := self._fetch(queue.popleft()))
            self._follow(queue, visit)
        self.complete = True
        return self.visits

    def _offer(self, queue: deque[Link], link: Link, base: str) -> None:
        url = self._normalise(link.url, base)
        if url is None:
            return
        link = replace(link, url=url)
        key = self.key(link)
        if key not in self._seen:
            self._seen.add(key)
            queue.append(link)

    def _fetch(self, link: Link) -> Visit:
        headers = {"HX-Request": "true"} if link.htmx else {}
        before = self.count_reads() if self.count_reads else 0
        response = self.client.get(link.url, headers=headers)
        content = b"".join(response) if response.streaming else response.content
        reads = (self.count_reads() - before) if self.count_reads else 0
        text = body_text(content)
        disposition = response.headers.get("Content-Disposition", "")
        return Visit(
            link=link,
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            url_name=url_name(urlsplit(link.url).path),
            body=text,
            location=response.headers.get("Location", ""),
            text=f"{disposition}\n{text}".lower(),
            reads=reads,
        )

    def _follow(self, queue: deque[Link], visit: Visit) -> None:
        page = visit.link.url
        if 300 <= visit.status < 400:
            if visit.location:
                self._offer(queue, Link(visit.location, False, page, "redirect"), base=page)
            return
        if visit.status != 200 or not visit.content_type.startswith("text/html"):
            return
        parser = PageParser(self.probe)
        parser.feed(visit.body)
        parser.close()
        for link in [*parser.found, *parser.submissions(page)]:
            self._offer(queue, replace(link, via=page), base=page)
