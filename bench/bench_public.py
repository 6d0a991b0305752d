"""Public week page: full request through Django against /healthz in the same client."""

from statistics import median

from django.test import Client

from bench import fixtures

ADVISORS = 10
PRESENCES_PER_ADVISOR = 10
PLACES = 20


def run(timed, fmt) -> tuple[str, list[str]]:
    structure = fixtures.town("bench-semaine", "77890123100010")
    place_list = fixtures.places(structure, PLACES)
    fixtures.advisors_and_presences(structure, place_list, ADVISORS, PRESENCES_PER_ADVISOR)
    client = Client(HTTP_HOST="127.0.0.1")
    url = f"/{structure.slug}/cette-semaine/?semaine=2026-12-07"
    assert client.get(url).status_code == 200
    week = timed(lambda: client.get(url))
    home = timed(lambda: client.get(f"/{structure.slug}/"))
    health = timed(lambda: client.get("/healthz"))
    n = ADVISORS * PRESENCES_PER_ADVISOR
    return f"Public pages, {ADVISORS} advisors, {n} presences, {PLACES} places", [
        f"week page (/cette-semaine/)   {fmt(week)}",
        f"home page (next 5 times)      {fmt(home)}",
        f"/healthz baseline (1 query)   {fmt(health)}",
        f"ratio week / baseline         {median(week) / median(health):.1f}x",
    ]
