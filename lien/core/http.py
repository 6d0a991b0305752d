"""Shared HTTP plumbing: the client's address, the rate-limit key, the 429 answer, htmx.

One client address for the whole site. The sign-in lockout (django-axes, through
`AXES_CLIENT_IP_CALLABLE`) and the rate limits (django-ratelimit, through `rate_limit_key`)
call `client_ip(request)`, and so does anything that records where a request came from (the
journal): they can never disagree on who the client is.

`TRUSTED_PROXY_COUNT` (environment, default 0) says how many reverse proxies stand in front of
Lien:

- 0: the client is `REMOTE_ADDR`, the peer of the TCP connection; `X-Forwarded-For` is
  ignored entirely (anyone can write it).
- N > 0: each trusted proxy appends the address of its own peer to `X-Forwarded-For`, and
  Lien's peer, `REMOTE_ADDR`, is the innermost proxy. So the last N entries of
  `X-Forwarded-For` were written by our proxies, and the client is the N-th from the end: the
  address the outermost trusted proxy saw. Whatever the client itself put in front (a spoofed
  prefix, garbage, quotes) is never read. If the header is shorter than N, or its trusted
  entries are not addresses, the request did not come through all our proxies: the client is
  `REMOTE_ADDR`.

Parsing and validation are python-ipware's (the engine of django-ipware): ports, brackets,
IPv4-mapped IPv6 and NAT64 prefixes are unwrapped, and unspecified, multicast and reserved
addresses are refused. Only the part our proxies wrote is handed to it, with an exact proxy
count (strict). Not django-ipware's `get_client_ip(request)`: it would parse the client's part
too (in strict mode one bad token there discards the whole header) and look at other,
client-written headers (X-Real-IP, Client-IP…), and `IPWARE_*` settings could change it.
"""

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from python_ipware import IpWare

_CACHE_ATTRIBUTE = "_lien_client_ip"
_FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"
_REMOTE_ADDR = "REMOTE_ADDR"


def client_ip(request: HttpRequest) -> str:
    """The client's address, e.g. "203.0.113.5" or "2001:db8::1"; "" when unknown.

    Computed once per request from `TRUSTED_PROXY_COUNT` (read at call time) and cached on
    the request. This is the address the sign-in lockout counts, the rate limits key on and
    the journal records; it is always a valid IP address or "", so it fits a
    `GenericIPAddressField` (django-axes stores it in one).
    """
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = _resolve(request.META, settings.TRUSTED_PROXY_COUNT)
        setattr(request, _CACHE_ATTRIBUTE, cached)
    return cached


def _resolve(meta: Mapping[str, Any], trusted_proxies: int) -> str:
    if trusted_proxies > 0:
        entries = meta.get(_FORWARDED_FOR, "").split(",")
        written_by_our_proxies = [entry.strip() for entry in entries][-trusted_proxies:]
        if len(written_by_our_proxies) == trusted_proxies:
            # ipware counts the proxies listed in the header: the innermost one is
            # REMOTE_ADDR, absent from it, so N trusted proxies list N - 1 of theirs.
            address = _ipware(
                _FORWARDED_FOR, ", ".join(written_by_our_proxies), proxy_count=trusted_proxies - 1
            )
            if address:
                return address
    return _ipware(_REMOTE_ADDR, meta.get(_REMOTE_ADDR, ""), proxy_count=0)


def _ipware(header: str, value: str, *, proxy_count: int) -> str:
    """The client's address in `value` (one header, exactly `proxy_count` proxies after it)."""
    if not isinstance(value, str) or not value.strip():
        return ""
    resolver = IpWare(precedence=(header,), proxy_count=proxy_count, algorithm="modern")
    address, _trusted_route = resolver.get_client_ip({header: value}, strict=True)
    if address is None:
        return ""
    if getattr(address, "scope_id", None):  # "fe80::1%eth0": databases store no zone
        address = ipaddress.IPv6Address(int(address))
    return str(address)


def rate_limit_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit's key: the client's address, IPv6 counted per /64 (one subscriber
    usually holds a whole /64, so per-address counting would let one person rotate)."""
    address = client_ip(request)
    if not address:
        return "unknown"
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site's French 429 page. django-ratelimit's `RATELIMIT_VIEW`; the views, which use
    `block=False`, return it themselves, so it works whether or not RatelimitMiddleware is
    installed."""
    return render(request, "429.html", status=429)


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (it adds `HX-Request: true`): answer with a partial."""
    return bool(request.headers.get("HX-Request"))


def render_fragment(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None
) -> HttpResponse:
    """An htmx partial (a template that does not extend base.html), with the French typography
    base.html gives whole pages (core/typography.html: idempotent, so a fragment also included
    in a page is fine)."""
    from lien.core import typography

    response = render(request, template, context)
    response.content = typography.html(response.content.decode(response.charset)).encode(
        response.charset
    )
    return response
