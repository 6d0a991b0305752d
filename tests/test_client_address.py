"""One client address for the sign-in lockout, the rate limits and the journal.

`lien.core.http.client_ip` reads `TRUSTED_PROXY_COUNT`: 0 → REMOTE_ADDR, X-Forwarded-For
ignored; N → the address the outermost of our N proxies saw, i.e. the N-th entry from the end
of X-Forwarded-For (the innermost proxy is REMOTE_ADDR). In the tests, "the proxy" is nginx
at 10.0.0.1 and a client's own header, if any, comes before what nginx appends.
"""

import runpy
from pathlib import Path

import pytest
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from lien.core.http import client_ip, rate_limit_key
from tests.conftest import PASSWORD

PROXY = "10.0.0.1"  # nginx, as Lien sees it (REMOTE_ADDR)
INNER_PROXY = "10.0.0.2"  # behind a load balancer: nginx is then the inner proxy
STRANGER = "198.51.100.66"
ADVISOR_AT_HOME = "203.0.113.5"
SETTINGS_FILE = Path(__file__).resolve().parent.parent / "lien" / "settings.py"


def request(remote_addr: str | None = PROXY, forwarded_for: str | None = None):
    meta = {}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    req = RequestFactory().get("/", **meta)
    if remote_addr is None:
        del req.META["REMOTE_ADDR"]
    else:
        req.META["REMOTE_ADDR"] = remote_addr
    return req


# --- client_ip ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        # Without a trusted proxy, X-Forwarded-For is anyone's to write: ignored entirely.
        ("203.0.113.5", "198.51.100.66", "203.0.113.5"),
        ("203.0.113.5", "198.51.100.66, 192.0.2.1", "203.0.113.5"),
        ("::ffff:203.0.113.5", None, "203.0.113.5"),  # dual-stack socket
        ("", None, ""),
        (None, None, ""),
        ("not-an-address", "198.51.100.66", ""),
        ("0.0.0.0", None, ""),  # noqa: S104 (a client address here, never bound)
    ],
)
def test_direct_the_client_is_the_connection(settings, remote_addr, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request(remote_addr, forwarded_for)) == expected


@pytest.mark.parametrize(
    ("forwarded_for", "expected"),
    [
        # nginx appended the address it saw: that is the client.
        ("203.0.113.5", "203.0.113.5"),
        # Anything the client wrote comes before it and never counts.
        ("198.51.100.66, 203.0.113.5", "203.0.113.5"),
        ("192.0.2.1, 198.51.100.66, 203.0.113.5", "203.0.113.5"),
        ("10.0.0.1, 203.0.113.5", "203.0.113.5"),
        # Garbage in the client's part is never even parsed.
        ("not-an-address, 203.0.113.5", "203.0.113.5"),
        ("unknown, 203.0.113.5", "203.0.113.5"),
        ('"198.51.100.66, 203.0.113.5', "203.0.113.5"),
        (", , 203.0.113.5", "203.0.113.5"),
        ("for=198.51.100.66;proto=https, 203.0.113.5", "203.0.113.5"),
        ("x" * 5000 + ", 203.0.113.5", "203.0.113.5"),
        # Ports and brackets, as some proxies write them.
        ("203.0.113.5:51234", "203.0.113.5"),
        # A private or local client (on the town's network) is still that client.
        ("192.168.1.20", "192.168.1.20"),
        ("127.0.0.1", "127.0.0.1"),
        # Not through the proxy (no header), or the proxy's entry is not an address: the
        # client is the connection, never a guess from the client's part.
        (None, PROXY),
        ("", PROXY),
        ("203.0.113.5, not-an-address", PROXY),
        ("203.0.113.5, ", PROXY),
        ("203.0.113.5, 0.0.0.0", PROXY),
    ],
)
def test_behind_one_proxy_the_client_is_what_the_proxy_saw(settings, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request(PROXY, forwarded_for)) == expected


@pytest.mark.parametrize(
    ("forwarded_for", "expected"),
    [
        # A load balancer saw the client and appended it; nginx appended the load balancer.
        ("203.0.113.5, 10.0.0.1", "203.0.113.5"),
        ("198.51.100.66, 203.0.113.5, 10.0.0.1", "203.0.113.5"),
        ("garbage, 198.51.100.66, 203.0.113.5, 10.0.0.1", "203.0.113.5"),
        # Shorter than two entries: the request did not come through both proxies.
        ("203.0.113.5", INNER_PROXY),
        (None, INNER_PROXY),
        ("not-an-address, 10.0.0.1", INNER_PROXY),
    ],
)
def test_behind_two_proxies_the_client_is_what_the_outer_one_saw(settings, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request(INNER_PROXY, forwarded_for)) == expected


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "count", "expected"),
    [
        ("2001:db8::1", None, 0, "2001:db8::1"),
        ("2001:db8::1", "2001:db8:ffff::9", 0, "2001:db8::1"),
        (PROXY, "2001:DB8:0:0:0:0:0:5", 1, "2001:db8::5"),  # one spelling per address
        (PROXY, "[2001:db8::5]:443", 1, "2001:db8::5"),
        (PROXY, "2001:db8:ffff::9, 2001:db8::5", 1, "2001:db8::5"),
        ("::1", "2001:db8::5", 1, "2001:db8::5"),  # IPv6 proxy, IPv6 client
        (PROXY, "64:ff9b::cb00:7105", 1, "203.0.113.5"),  # NAT64: the IPv4 client
        ("fe80::1%eth0", None, 0, "fe80::1"),  # no zone: databases cannot store it
    ],
)
def test_ipv6(settings, remote_addr, forwarded_for, count, expected):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(request(remote_addr, forwarded_for)) == expected


def test_it_is_computed_once_per_request(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    req = request(PROXY, f"{STRANGER}, {ADVISOR_AT_HOME}")
    assert client_ip(req) == ADVISOR_AT_HOME
    req.META["HTTP_X_FORWARDED_FOR"] = STRANGER
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(req) == ADVISOR_AT_HOME


def test_the_setting_is_read_at_call_time(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request(PROXY, ADVISOR_AT_HOME)) == PROXY
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request(PROXY, ADVISOR_AT_HOME)) == ADVISOR_AT_HOME


def test_ipware_settings_do_not_change_it(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.IPWARE_ALGORITHM = "legacy"
    settings.IPWARE_META_PROXY_COUNT = 3
    settings.IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_REAL_IP",)
    req = request(PROXY, f"{STRANGER}, {ADVISOR_AT_HOME}")
    req.META["HTTP_X_REAL_IP"] = STRANGER
    req.META["HTTP_CLIENT_IP"] = STRANGER
    assert client_ip(req) == ADVISOR_AT_HOME


# --- The rate-limit key ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "count", "expected"),
    [
        ("203.0.113.5", None, 0, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.66", 0, "203.0.113.5"),
        (PROXY, "203.0.113.5", 1, "203.0.113.5"),
        (PROXY, "198.51.100.66, 203.0.113.5", 1, "203.0.113.5"),
        (PROXY, "garbage, 203.0.113.5", 1, "203.0.113.5"),
        (INNER_PROXY, "198.51.100.66, 203.0.113.5, 10.0.0.1", 2, "203.0.113.5"),
        (PROXY, None, 1, PROXY),
        # IPv6 counts per /64: one subscriber holds a whole /64.
        ("2001:db8:1:2:3:4:5:6", None, 0, "2001:db8:1:2::"),
        (PROXY, "2001:db8:1:2:3:4:5:6", 1, "2001:db8:1:2::"),
        (PROXY, "2001:db8:9::1, 2001:db8:1:2:ffff::1", 1, "2001:db8:1:2::"),
        ("", None, 0, "unknown"),
    ],
)
def test_rate_limit_key(settings, remote_addr, forwarded_for, count, expected):
    settings.TRUSTED_PROXY_COUNT = count
    assert rate_limit_key("booking", request(remote_addr, forwarded_for)) == expected


def test_the_rate_limit_key_separates_neighbouring_64s(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    one = rate_limit_key("booking", request(PROXY, "2001:db8:1:2::1"))
    same = rate_limit_key("booking", request(PROXY, "2001:db8:1:2:ffff:ffff:ffff:ffff"))
    other = rate_limit_key("booking", request(PROXY, "2001:db8:1:3::1"))
    assert one == same != other


# --- django-axes counts the same address ----------------------------------------------------
def test_axes_uses_the_one_client_address(settings):
    assert settings.AXES_CLIENT_IP_CALLABLE == "lien.core.http.client_ip"
    settings.TRUSTED_PROXY_COUNT = 1
    req = request(PROXY, f"{ADVISOR_AT_HOME}, {STRANGER}")
    assert get_client_ip_address(req) == client_ip(req) == STRANGER
    settings.TRUSTED_PROXY_COUNT = 0
    req = request(PROXY, STRANGER)
    assert get_client_ip_address(req) == client_ip(req) == PROXY


# --- Sign-in through the proxy, end to end --------------------------------------------------
def through_proxy(forwarded_for: str) -> Client:
    """A browser whose requests reach Lien through nginx, which wrote `forwarded_for`."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


def sign_in(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post("/compte/connexion/", {"username": email, "password": password}, **extra)


def locked_out(response) -> bool:
    return response.status_code == 429 and "Trop de tentatives" in response.content.decode()


@pytest.mark.django_db
def test_a_stranger_cannot_lock_the_advisor_out_through_the_proxy(personas, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    stranger = through_proxy(STRANGER)
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        sign_in(stranger, personas.advisor.email, "wrong-password")
    # The stranger is locked out, even with the right password…
    assert locked_out(sign_in(stranger, personas.advisor.email))
    # …but the real advisor, through the same proxy from elsewhere, still signs in…
    advisor = through_proxy(ADVISOR_AT_HOME)
    response = sign_in(advisor, personas.advisor.email)
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/double-authentification/")
    # …because the failures were counted at the stranger's address, not the proxy's.
    attempts = AccessAttempt.objects.filter(username=personas.advisor.email)
    assert list(attempts.values_list("ip_address", flat=True)) == [STRANGER]


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_neither_frees_the_stranger_nor_blames_the_advisor(
    personas, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    limit = settings.AXES_FAILURE_LIMIT
    # The stranger writes their own X-Forwarded-For, a new one each time, starting with the
    # advisor's address; nginx appends the stranger's real one.
    for i in range(limit):
        spoofed = f"{ADVISOR_AT_HOME}, 192.0.2.{i + 1}"
        sign_in(through_proxy(f"{spoofed}, {STRANGER}"), personas.advisor.email, "wrong")
    for spoofed in ("192.0.2.200", "garbage", ADVISOR_AT_HOME, ""):
        forwarded_for = f"{spoofed}, {STRANGER}" if spoofed else STRANGER
        assert locked_out(sign_in(through_proxy(forwarded_for), personas.advisor.email))
    assert sign_in(through_proxy(ADVISOR_AT_HOME), personas.advisor.email).status_code == 302
    attempts = AccessAttempt.objects.filter(username=personas.advisor.email)
    assert set(attempts.values_list("ip_address", flat=True)) == {STRANGER}


@pytest.mark.django_db
def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(personas, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for i in range(settings.AXES_FAILURE_LIMIT):
        client = Client(REMOTE_ADDR=STRANGER, HTTP_X_FORWARDED_FOR=f"192.0.2.{i + 1}")
        sign_in(client, personas.advisor.email, "wrong")
    dodging = Client(REMOTE_ADDR=STRANGER, HTTP_X_FORWARDED_FOR="192.0.2.250")
    assert locked_out(sign_in(dodging, personas.advisor.email))
    assert sign_in(Client(REMOTE_ADDR=ADVISOR_AT_HOME), personas.advisor.email).status_code == 302


# --- The setting ----------------------------------------------------------------------------
def load_settings(monkeypatch, **environ) -> dict:
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.delenv("BEHIND_PROXY", raising=False)
    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE), run_name="lien_settings_under_test")


def test_trusted_proxy_count_defaults_to_no_proxy(monkeypatch):
    values = load_settings(monkeypatch)
    assert values["TRUSTED_PROXY_COUNT"] == 0
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["AXES_CLIENT_IP_CALLABLE"] == "lien.core.http.client_ip"
    assert not any(name.startswith("AXES_IPWARE_") for name in values)


def test_the_old_setting_off_is_harmless(monkeypatch):
    assert load_settings(monkeypatch, BEHIND_PROXY="false")["TRUSTED_PROXY_COUNT"] == 0


def test_behind_a_proxy_https_is_read_from_the_proxy(monkeypatch):
    values = load_settings(monkeypatch, TRUSTED_PROXY_COUNT="1")
    assert values["TRUSTED_PROXY_COUNT"] == 1
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.parametrize(
    "environ",
    [
        {"TRUSTED_PROXY_COUNT": "-1"},
        {"TRUSTED_PROXY_COUNT": "one"},
        {"TRUSTED_PROXY_COUNT": "true"},
        # The old setting on: refused rather than silently ignored.
        {"BEHIND_PROXY": "true"},
        {"BEHIND_PROXY": "true", "TRUSTED_PROXY_COUNT": "0"},
    ],
)
def test_a_bad_proxy_setting_stops_start_up(monkeypatch, environ):
    with pytest.raises(ImproperlyConfigured):
        load_settings(monkeypatch, **environ)
