"""Bad input never gives a server error: a French 400 or 404 page, or the page's own message.

First the inputs an outside review found giving a 500 (each must stay fixed), then a
property-based test: random query strings and form values fired at every URL of the project
as every persona, on SQLite and on PostgreSQL (CI runs the suite on both). Any 5xx, or any
exception escaping a view, fails.
"""

import datetime as dt
import string

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lien.core import params
from tests.conftest import signed_in
from tests.test_permissions import MATRIX, PERSONAS, A, url_kwargs

# --- What the review found ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/ville-a/cette-semaine/?semaine=9999-12-31",
        "/ville-a/cette-semaine/?semaine=0001-01-01",
        "/equipe/ville-a/rendez-vous/?jour=9999-12-31",
        "/equipe/ville-a/rendez-vous/?jour=0001-01-01&vue=semaine",
        "/equipe/ville-a/rendez-vous/?conseiller=%C2%B2&lieu=" + "9" * 5000,
        "/equipe/ville-a/rendez-vous/nouveau/?motif=" + "9" * 30,
        "/equipe/ville-a/rendez-vous/nouveau/?motif=%C2%B2",
        "/equipe/ville-a/activites/?du=9999-12-31&au=0001-01-01&conseiller=" + "9" * 30,
        "/equipe/ville-a/activites/nouveau/?rdv=%D9%A3&personne=" + "9" * 5000,
    ],
)
def test_reported_navigation_values_give_the_page(personas, path):
    client = signed_in(personas.advisor)
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_reported_values_on_booking_and_moving(personas):
    motif, place = personas.motif_a, personas.place_a
    public = signed_in(None)
    book = f"/ville-a/rendez-vous/{motif.pk}/{place.pk}/reserver/"
    for debut in ("9999-12-31T23:59", "0001-01-01T00:00+00:00", "2026-02-30T10:00", "²"):
        assert public.get(book, {"debut": debut}).status_code == 200  # « choisissez un horaire »
        posted = public.post(book, {"debut": debut, "first_name": "Marc", "phone": "0611223344"})
        assert posted.status_code == 400
    slots = f"/ville-a/rendez-vous/{motif.pk}/{place.pk}/creneaux/?plus=%C2%B2"
    assert public.get(slots).status_code == 200
    staff = signed_in(personas.reception)
    page = staff.get(
        "/equipe/ville-a/rendez-vous/nouveau/",
        {"motif": motif.pk, "lieu": place.pk, "debut": "2026-02-30T10:00"},
    )
    assert page.status_code == 200
    moved = staff.post(
        f"/equipe/ville-a/rendez-vous/{personas.appointment_a.pk}/deplacer/",
        {"debut": "2026-02-30T10:00"},
    )
    assert moved.status_code == 200
    assert "Choisissez un nouvel horaire" in moved.content.decode()
    personas.appointment_a.refresh_from_db()
    assert personas.appointment_a.status == "unknown"  # nothing changed


@pytest.mark.django_db
def test_huge_ids_in_paths_are_not_found(personas):
    client = signed_in(personas.advisor)
    for path in (
        "/equipe/ville-a/rendez-vous/99999999999999999999/",
        "/equipe/ville-a/personnes/" + "9" * 5000 + "/",
        "/equipe/ville-a/lieux/9223372036854775808/modifier/",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert "Page introuvable" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/rdv/abc%00def/",
        "/agenda/abc%00.ics",
        "/equipe/ville-a/personnes/?q=Dur%00and",
        "/equipe/ville-a/rendez-vous/?q=%00",
        "/ville-a/cette-semaine/?semaine=2026%0012-01",
    ],
)
def test_a_nul_byte_gets_the_french_400_page(personas, path):
    response = signed_in(personas.advisor).get(path)
    assert response.status_code == 400
    assert "Demande incomprise" in response.content.decode()


@pytest.mark.django_db
def test_a_nul_byte_in_a_form_changes_nothing(personas):
    client = signed_in(personas.advisor)
    response = client.post(
        f"/equipe/ville-a/personnes/{personas.beneficiary_a.pk}/modifier/",
        {"first_name": "Jo\x00sette", "last_name": "Durand"},
    )
    assert response.status_code == 400
    personas.beneficiary_a.refresh_from_db()
    assert personas.beneficiary_a.first_name == "Josette"


def test_the_parsers_never_raise():
    assert params.positive_id("²") is None and params.positive_id("9" * 19) is None
    assert params.positive_id("42") == 42 and params.positive_id(" 7 ") == 7
    assert params.positive_id("0") is None and params.positive_id("-3") is None
    assert params.day("9999-12-31") is None and params.day("2026-02-30") is None
    assert params.day("2027-02-28") == dt.date(2027, 2, 28)
    assert params.instant("2026-02-30T10:00") is None and params.instant("x" * 100) is None
    assert params.instant("2027-03-28T02:30+01:00").utcoffset() == dt.timedelta(hours=1)
    assert params.text("a\x00b" + "c" * 500) == "ab" + "c" * 98


@given(st.text(max_size=60))
def test_the_parsers_accept_anything(value):
    params.positive_id(value)
    params.day(value)
    params.instant(value)
    assert "\x00" not in params.text(value)


# --- Everything, at random ------------------------------------------------------------------

# Names the views read, so that random values reach the parsing code, plus random names.
KNOWN_KEYS = [
    "q", "jour", "vue", "conseiller", "lieu", "semaine", "motif", "debut", "personne", "plus",
    "page", "rdv", "depuis", "kind", "champ", "beneficiary_q", "participants_q", "participants",
    "beneficiary", "avec", "etat", "type", "genre", "age", "statut", "notice", "du", "au",
    "theme", "status", "retour", "action", "first_name", "last_name", "phone", "email", "note",
    "address", "next", "dry_run", "months", "place", "date", "duration", "confirmer",
    "start", "end", "weekday", "valid_from", "valid_until", "every_n_weeks", "token", "code",
]  # fmt: skip
NASTY = [
    "", " ", "\x00", "a\x00b", "²", "٣", "9" * 19, "9" * 5000, "-1", "0", "1e309", "NaN",
    "9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "2026-02-30T10:00",
    "9999-12-31T23:59+14:00", "0001-01-01T00:00", "2027-03-28T02:30", "2027-10-31T02:30",
    "+", "%", "'", '"', "<script>", "../..", "ø" * 300, "x" * 5000, "\r\n", "\t=1+2",
]  # fmt: skip
# Any text a browser can send (UTF-8 cannot carry lone surrogates).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
VALUES = st.one_of(
    st.sampled_from(NASTY),
    TEXT,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
)
KEYS = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(string.ascii_letters + "_", min_size=1))
QUERIES = st.dictionaries(KEYS, VALUES, max_size=6)

URL_NAMES = [name for name, expected in MATRIX.items() if expected is not None]
FUZZ = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,  # the same inputs on every run: a failure reproduces
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("name", URL_NAMES)
@FUZZ
@given(query=QUERIES, form=QUERIES)
def test_no_server_error_on_random_input(personas, name, who, query, form):
    client = signed_in(None if who == "anonymous" else getattr(personas, who))
    url = reverse(name, kwargs=url_kwargs(personas, A).get(name, {}))
    for response in (client.get(url, query), client.post(url, form)):
        assert response.status_code < 500, f"{who} {response.request} → {response.status_code}"
