"""Page weight and self-containment of the public pages (no browser needed).

For each public page, with the demo data:
- its HTML + CSS + JS weigh at most 60 KB (uncompressed bytes, the worst case; images, if
  any, are reported separately);
- every resource it loads (stylesheet, icon, script, image, frame, media) comes from the site
  itself, never from another host (plain `<a href>` links to other sites are fine);
- it has no `<script>` at all: the resident's pages work without JavaScript;
- its stylesheets import nothing from another host either.

Static files are read through the staticfiles finders when the app does not serve them
(WhiteNoise serves them itself only with DEBUG on or after collectstatic).
"""

import gzip
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

BUDGET = 60 * 1024  # 61,440 bytes: HTML + CSS + JS of one page
SITE = "testserver"
# <link rel=…> values whose href the browser fetches.
LOADED_LINK_RELS = {
    "stylesheet",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "mask-icon",
    "manifest",
    "preload",
    "prefetch",
    "modulepreload",
    "preconnect",
    "dns-prefetch",
    "image_src",
}
LOADED_ATTRS = {  # tag → attributes naming something the browser loads by itself
    "script": ("src",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),  # type=image
}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


class Resources(HTMLParser):
    """Collects the URLs of resources an HTML page loads, and its <script> tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []
        self.images: list[str] = []
        self.loaded: list[tuple[str, str]] = []  # (tag, url) of everything fetched
        self.script_tags = 0
        self.inline_styles = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.script_tags += 1
        if tag == "style" or attrs.get("style"):
            self.inline_styles += 1
        if tag == "link" and attrs.get("href"):
            rels = set((attrs.get("rel") or "").lower().split())
            if rels & LOADED_LINK_RELS:
                self.loaded.append(("link", attrs["href"]))
                if "stylesheet" in rels:
                    self.stylesheets.append(attrs["href"])
        for name in LOADED_ATTRS.get(tag, ()):
            value = attrs.get(name)
            if not value:
                continue
            urls = (
                [part.split()[0] for part in value.split(",") if part.strip()]
                if name == "srcset"
                else [value]
            )
            for url in urls:
                self.loaded.append((tag, url))
                if tag == "script":
                    self.scripts.append(url)
                elif tag == "img":
                    self.images.append(url)


def is_foreign(url: str) -> bool:
    """True for a URL reaching another host: absolute http(s), protocol-relative, or any
    other scheme that fetches over the network. data: URIs are inline, hence local."""
    url = url.strip()
    if url.startswith("//"):
        return True
    parts = urlsplit(url)
    if parts.scheme in ("", "data"):
        return False
    if parts.scheme in ("http", "https"):
        return parts.hostname not in (SITE, None)
    return True


def fetch(client: Client, url: str) -> bytes:
    """The bytes of a same-site URL: through the app, or from the static files on disk."""
    path = urlsplit(url).path
    response = client.get(path)
    if response.status_code == 200:
        if getattr(response, "streaming", False):
            return b"".join(response.streaming_content)
        return response.content
    if path.startswith(django_settings.STATIC_URL):
        found = finders.find(path[len(django_settings.STATIC_URL) :])
        if found:
            return Path(found).read_bytes()
    raise AssertionError(f"{url}: HTTP {response.status_code} and not a static file")


def public_pages() -> list[str]:
    from lien.accounts.models import Structure
    from lien.places.models import Place

    pages = ["/"]
    for structure in Structure.objects.order_by("slug"):
        base = f"/{structure.slug}/"
        pages += [
            base,
            f"{base}cette-semaine/",
            f"{base}cette-semaine/?semaine=2027-01-04",
            f"{base}lieux/",
            f"{base}rendez-vous/",
        ]
        pages += [
            f"{base}lieux/{place.slug}/"
            for place in Place.objects.published().of_structure(structure)
        ]
        pages += booking_times_pages(structure)
    return pages


def booking_times_pages(structure) -> list[str]:
    """The residents' times screens: each on-site motif at each of its places (the next free
    times and the list of days), and the busiest day's times of each motif."""
    from lien.appointments.models import LocationType, Motif
    from lien.appointments.selectors import bookable_places, distinct_times, slots_for
    from lien.appointments.views_public import free_days

    pages = []
    motifs = Motif.objects.of_structure(structure).bookable_online()
    for motif in motifs.filter(location_type=LocationType.PUBLIC_OFFICE):
        for place in bookable_places(motif).filter(structure=structure):
            times = f"/{structure.slug}/rendez-vous/{motif.pk}/{place.pk}/creneaux/"
            pages.append(times)
            days = free_days(distinct_times(slots_for(motif, place=place)))
            if days:
                busiest = max(days, key=lambda day: len(days[day]))
                pages.append(f"{times}?jour={busiest.isoformat()}")
    return pages


@pytest.fixture
def demo(db, settings):
    call_command("load_demo", quiet=True)


@pytest.fixture(params=["villebrie", ""], ids=["home-structure", "chooser"])
def home_setting(request, settings):
    """`/` is the town's home (HOME_STRUCTURE set) or the chooser (unset, two structures)."""
    settings.HOME_STRUCTURE = request.param
    return request.param


def weigh(client: Client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, f"{path}: HTTP {response.status_code}"
    assert response["Content-Type"].startswith("text/html")
    html = response.content
    parser = Resources()
    parser.feed(html.decode(response.charset or "utf-8"))
    page_url = f"http://{SITE}{path}"
    foreign = [f"<{tag}> {url}" for tag, url in parser.loaded if is_foreign(url)]
    sizes = {"html": len(html), "css": 0, "js": 0, "img": 0}
    gzipped = len(gzip.compress(html))
    for kind, urls in (("css", parser.stylesheets), ("js", parser.scripts), ("img", parser.images)):
        for url in urls:
            if is_foreign(url) or url.startswith("data:"):
                continue
            body = fetch(client, urljoin(page_url, url))
            sizes[kind] += len(body)
            gzipped += len(gzip.compress(body))
            if kind == "css":
                for match in CSS_URL.finditer(body.decode("utf-8")):
                    ref = match.group(1) or match.group(2)
                    if is_foreign(ref):
                        foreign.append(f"{url} → {ref}")
    return {
        "path": path,
        "sizes": sizes,
        "total": sizes["html"] + sizes["css"] + sizes["js"],
        "gzipped": gzipped,
        "foreign": foreign,
        "scripts": parser.script_tags,
        "inline_styles": parser.inline_styles,
    }


def report(result: dict) -> str:
    s = result["sizes"]
    return (
        f"{result['path']:<60} {result['total']:>6} B  (html {s['html']}, css {s['css']}, "
        f"js {s['js']}; images {s['img']}; all gzipped {result['gzipped']} B)"
    )


@pytest.mark.django_db
def test_public_pages_are_light_and_self_contained(demo, home_setting, client):
    pages = public_pages()
    assert len(pages) >= 12
    results = [weigh(client, path) for path in pages]
    print(f"\nPage weight (HOME_STRUCTURE={home_setting!r}), budget {BUDGET} B:")
    for result in results:
        print(report(result))
    too_heavy = [report(r) for r in results if r["total"] > BUDGET]
    assert not too_heavy, "pages over 60 KB:\n" + "\n".join(too_heavy)
    foreign = [f"{r['path']}: {item}" for r in results for item in r["foreign"]]
    assert not foreign, "resources from another host:\n" + "\n".join(foreign)
    with_script = [f"{r['path']}: {r['scripts']} <script>" for r in results if r["scripts"]]
    assert not with_script, "public pages must work without JavaScript:\n" + "\n".join(with_script)
    inline = [f"{r['path']}: {r['inline_styles']}" for r in results if r["inline_styles"]]
    assert not inline, "inline styles (blocked by the CSP style-src 'self'):\n" + "\n".join(inline)


@pytest.mark.django_db
def test_chooser_lists_the_structures(demo, client, settings):
    settings.HOME_STRUCTURE = ""
    response = client.get("/")
    assert response.status_code == 200
    assert b"Choisissez votre commune" in response.content
    assert b"Ville de Villebrie" in response.content
    assert b"Num\xc3\xa9rique solidaire 77" in response.content


@pytest.mark.django_db
def test_login_page_weight(demo, client):
    """The staff login page is public too; it loads htmx (staff pages use it) but stays within
    the budget and loads nothing from another host."""
    result = weigh(client, "/compte/connexion/")
    print(f"\nPage weight: {report(result)}")
    assert result["total"] <= BUDGET, report(result)
    assert not result["foreign"], result["foreign"]


def test_detector_catches_foreign_resources():
    """The parser and `is_foreign` on a page loading things from elsewhere."""
    parser = Resources()
    parser.feed(
        '<link rel="stylesheet" href="https://cdn.example.net/a.css">'
        '<link rel="icon" href="//cdn.example.net/i.png">'
        '<link rel="canonical" href="https://other.example/">'
        '<script src="/static/x.js"></script>'
        '<img src="data:image/png;base64,AAAA" srcset="/a.png 1x, http://img.example/b.png 2x">'
        '<iframe src="https://www.youtube.com/embed/x"></iframe>'
        '<video><source src="https://media.example/v.mp4"></video>'
        '<a href="https://www.openstreetmap.org/">carte</a>'
    )
    foreign = [url for _tag, url in parser.loaded if is_foreign(url)]
    assert foreign == [
        "https://cdn.example.net/a.css",
        "//cdn.example.net/i.png",
        "http://img.example/b.png",
        "https://www.youtube.com/embed/x",
        "https://media.example/v.mp4",
    ]
    assert parser.script_tags == 1
    assert not is_foreign("http://testserver/static/css/lien.css")
    assert not is_foreign("/villebrie/theme.css")
