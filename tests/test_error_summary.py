"""After a form error, a page opens on one error summary: first in <main>, announced
(role="alert") and focused (tabindex="-1" + autofocus), each error linking to its field, on
the residents' pages and the staff's alike, whatever the view named its form."""

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.forms import Form, IntegerField, formset_factory
from django.test import Client
from django.utils import timezone

from lien.appointments.models import Appointment, Motif
from lien.appointments.selectors import slots_for
from lien.core.templatetags.error_summary import ErrorItem, error_items
from tests.conftest import signed_in


class Page(HTMLParser):
    """What the tests look at: the elements of <main> in order, and every id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.in_main = 0
        self.main_children: list[tuple[str, dict]] = []
        self.summaries: list[dict] = []
        self.links: list[str] = []  # hrefs inside the summary
        self._in_summary = 0
        self._stack: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.ids.add(attributes["id"])
        void = tag in {"input", "br", "img", "meta", "link", "hr"}
        if tag == "main":
            self.in_main = len(self._stack) + 1
        elif self.in_main and len(self._stack) == self.in_main:
            self.main_children.append((tag, attributes))
        if "data-error-summary" in attributes:
            self.summaries.append(attributes)
            self._in_summary = len(self._stack) + 1
        if self._in_summary and tag == "a":
            self.links.append(attributes.get("href", ""))
        if not void:
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag in {"input", "br", "img", "meta", "link", "hr"}:
            return
        if self._stack:
            self._stack.pop()
        if self._in_summary and len(self._stack) < self._in_summary:
            self._in_summary = 0
        if self.in_main and len(self._stack) < self.in_main:
            self.in_main = 0


def summary_of(response) -> Page:
    page = Page(response.content.decode())
    assert len(page.summaries) == 1, "one error summary"
    tag, attributes = page.main_children[0]
    assert tag == "div" and "data-error-summary" in attributes, "first in <main>"
    assert attributes["role"] == "alert"
    assert attributes["tabindex"] == "-1" and "autofocus" in attributes
    for href in page.links:
        assert href.startswith("#") and href[1:] in page.ids, f"{href} leads nowhere"
    return page


def summary_text(response) -> str:
    html = response.content.decode()
    start = html.index(">", html.index("data-error-summary")) + 1
    text = re.sub(r"<[^>]+>", " ", html[start : html.index("</div>", start)])
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


# --- The residents' booking form ----------------------------------------------------------


@pytest.fixture
def booking_url(personas) -> str:
    motif: Motif = personas.motif_a
    after = timezone.now() + dt.timedelta(days=3)
    slot = next(s for s in slots_for(motif, place=personas.place_a) if s.start > after)
    start = timezone.localtime(slot.start).isoformat(timespec="minutes")
    return f"/ville-a/rendez-vous/{motif.pk}/{personas.place_a.pk}/reserver/?debut={quote(start)}"


@pytest.mark.django_db
def test_the_public_booking_form_opens_on_the_summary(personas, booking_url):
    client = Client()
    assert "data-error-summary" not in client.get(booking_url).content.decode()
    before = Appointment.objects.count()
    response = client.post(
        booking_url,
        {"first_name": "", "last_name": "Morel", "phone": "12", "email": "", "site_web": ""},
    )
    assert response.status_code == 400
    page = summary_of(response)
    assert "#id_first_name" in page.links and "#id_phone" in page.links
    text = summary_text(response)
    assert "Votre prénom : Indiquez votre prénom." in text
    assert "12" in text  # the phone's message quotes what was typed
    # Residents' pages load no script: autofocus alone focuses the summary.
    assert "<script" not in response.content.decode()
    # The form's own list of errors is gone: the summary is the one list.
    assert response.content.decode().count("Indiquez votre prénom.") == 2  # summary + field
    assert Appointment.objects.count() == before


# --- Staff forms --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_staff_place_form_opens_on_the_summary(personas):
    client = signed_in(personas.coordinator)
    url = "/equipe/ville-a/lieux/nouveau/"
    assert "data-error-summary" not in client.get(url).content.decode()
    response = client.post(url, {"name": "", "kind": "office", "postcode": "7700"})
    assert response.status_code == 200
    page = summary_of(response)
    assert {"#id_name", "#id_address", "#id_postcode"} <= set(page.links)
    assert "Nom : " in summary_text(response)
    body = response.content.decode()
    assert '<script src="/static/js/error-summary.js" defer></script>' in body
    assert body.count("Le formulaire contient des erreurs") == 1


@pytest.mark.django_db
def test_a_motif_form_with_a_form_wide_error(personas):
    """« Choisissez au moins un lieu » is said in the summary, linked to the places."""
    client = signed_in(personas.coordinator)
    response = client.post(
        "/equipe/ville-a/rendez-vous/motifs/nouveau/",
        {
            "title": "",
            "duration": "45",
            "location_type": "public_office",
            "min_delay_hours": "2",
            "max_delay_days": "30",
            "buffer_minutes": "0",
        },
    )
    page = summary_of(response)
    assert "#id_title" in page.links
    assert "Choisissez au moins un lieu" in summary_text(response)


@pytest.mark.django_db
def test_a_formset_named_otherwise_is_found_too(personas):
    """The hours page names its forms `formset` and `holidays_form`."""
    client = signed_in(personas.coordinator)
    url = f"/equipe/ville-a/lieux/{personas.place_a.pk}/horaires/"
    data = {
        "rules-TOTAL_FORMS": "1",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "rules-0-weekday": "3",
        "rules-0-start": "25:00",
        "rules-0-end": "17:00",
        "rules-0-weeks": "all",
    }
    response = client.post(url, data)
    page = summary_of(response)
    assert "#id_rules-0-start" in page.links


@pytest.mark.django_db
def test_a_closure_form_shown_on_its_own_page(personas):
    """Without JavaScript, a refused closure comes back as a page whose form is
    `closure_form`."""
    response = signed_in(personas.coordinator).post(
        f"/equipe/ville-a/lieux/{personas.place_a.pk}/fermetures/",
        {"start_date": "2027-02-03", "end_date": "2027-02-01"},
    )
    summary_of(response)
    assert "La date de fin doit être le même jour ou après" in summary_text(response)


@pytest.mark.django_db
def test_a_form_wide_error_without_a_field(personas):
    """The sign-in form's error is about no one field: said, with nothing to link to."""
    response = Client().post(
        "/compte/connexion/", {"username": "conseiller@a.example", "password": "faux"}
    )
    page = summary_of(response)
    assert page.links == []
    assert summary_text(response).startswith("Le formulaire contient des erreurs")


@pytest.mark.django_db
def test_an_htmx_fragment_has_no_summary(personas):
    response = signed_in(personas.coordinator).post(
        f"/equipe/ville-a/lieux/{personas.place_a.pk}/fermetures/",
        {"start_date": "2027-02-03", "end_date": "2027-02-01"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "data-error-summary" not in body and "errorlist" in body


# --- The pieces -----------------------------------------------------------------------------


class Age(Form):
    age = IntegerField(label="Âge")
    secret = IntegerField(widget=IntegerField.hidden_widget)


def test_error_items_in_field_order_each_form_once():
    form = Age({"age": "x", "secret": "y"})
    formset = formset_factory(Age)(
        {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "form-0-age": "z"}
    )
    items = error_items([form, Age(), form, formset, formset.forms[0], "form", None])
    assert items[0] == ErrorItem("Saisissez un nombre entier.", "Âge", "id_age")
    assert items[1] == ErrorItem("Saisissez un nombre entier.")  # hidden: nothing to link to
    assert [i.target for i in items[2:]] == ["id_form-0-age", ""]
    assert len(items) == 4  # the unbound form has none; each form counted once


def test_the_focus_script_is_a_static_file():
    """The CSP forbids inline scripts: the summary's focus script is a static file."""
    assert "'unsafe-inline'" not in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"]
    path = Path(settings.BASE_DIR) / "lien" / "static" / "js" / "error-summary.js"
    assert "[data-error-summary]" in path.read_text()
