"""Tests of lien.core.http beyond the client's address (tests/test_client_address.py): the 429
page and htmx requests, and that no other module reads the headers they depend on itself."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils.module_loading import import_string
from django_ratelimit.exceptions import Ratelimited

from lien.core.http import is_htmx, rate_limited

LIEN = Path(__file__).resolve().parent.parent / "lien"


def test_rate_limited_is_a_french_429_page():
    response = rate_limited(RequestFactory().post("/ville-a/rendez-vous/"))
    assert response.status_code == 429
    assert "Trop de demandes en peu de temps" in response.content.decode()


def test_django_ratelimit_answers_with_the_same_page():
    view = import_string(settings.RATELIMIT_VIEW)
    assert view is rate_limited
    assert view(RequestFactory().get("/"), Ratelimited()).status_code == 429


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"HTTP_HX_REQUEST": "true"}, True), ({}, False), ({"HTTP_HX_REQUEST": ""}, False)],
)
def test_is_htmx(headers, expected):
    assert is_htmx(RequestFactory().get("/", **headers)) is expected


# What only lien/core/http.py may read or answer: the peer's address, the proxies' header,
# htmx's header, the 429 page.
PLUMBING = re.compile(r"""REMOTE_ADDR["']|HTTP_X_FORWARDED_FOR|["']HX-Request["']|429\.html""")


def test_no_other_module_reads_the_client_address_or_htmx_header_itself():
    found = [
        f"{path.relative_to(LIEN)}:{number}: {line.strip()}"
        for path in LIEN.rglob("*.py")
        if path != LIEN / "core" / "http.py"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if PLUMBING.search(line)
    ]
    assert found == []
