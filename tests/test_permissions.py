"""The permission matrix: every URL of the project × every persona.

Each URL pattern must be classified below. A new URL without a row makes
test_every_url_is_classified fail, so nobody adds a page without deciding who may see it.
For staff pages, objects of structure B are tried too: the outsider of A and every member of A
must get 404 on B's objects, never 403 and never the page.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests import perm_activities, perm_beneficiaries, perm_gdpr, perm_journal
from tests.conftest import signed_in

# Left out of CI's date matrix: who may open which URL does not depend on the date.
pytestmark = pytest.mark.slow

# Apps added later classify their URLs in their own module (same shapes as below).
EXTRA_MODULES = (perm_beneficiaries, perm_gdpr, perm_activities, perm_journal)

PERSONAS = ("coordinator", "advisor", "reception", "outsider", "anonymous")

# Public: everybody gets the page.
PUBLIC = dict.fromkeys(PERSONAS, 200)
# Staff page of structure A readable by all its roles; outsider 404, anonymous to login.
ALL_STAFF = {
    "coordinator": 200,
    "advisor": 200,
    "reception": 200,
    "outsider": 404,
    "anonymous": 302,
}
COORD_ONLY = {
    "coordinator": 200,
    "advisor": 403,
    "reception": 403,
    "outsider": 404,
    "anonymous": 302,
}
EDITORS = {"coordinator": 200, "advisor": 200, "reception": 403, "outsider": 404, "anonymous": 302}
POST_ONLY_COORD = {
    "coordinator": 405,
    "advisor": 403,
    "reception": 403,
    "outsider": 404,
    "anonymous": 302,
}
POST_ONLY_CARE = {
    "coordinator": 405,
    "advisor": 405,
    "reception": 403,
    "outsider": 404,
    "anonymous": 302,
}
SIGNED_IN = {
    "coordinator": 200,
    "advisor": 200,
    "reception": 200,
    "outsider": 200,
    "anonymous": 302,
}
# /equipe/: a member of one structure is sent to its dashboard.
STAFF_HOME = {
    "coordinator": 302,
    "advisor": 302,
    "reception": 302,
    "outsider": 302,
    "anonymous": 302,
}
# Pages about signing in: reachable by everybody (signed-in users are redirected).
LOGIN = {"coordinator": 302, "advisor": 302, "reception": 302, "outsider": 302, "anonymous": 200}
LOGOUT = dict.fromkeys(PERSONAS, 405)  # POST only
TWO_FACTOR = {
    "coordinator": 302,
    "advisor": 302,
    "reception": 302,
    "outsider": 302,
    "anonymous": 302,
}  # verified users go on; anonymous to login
RECOVERY = dict.fromkeys(PERSONAS, 302)  # codes are shown once, right after enrolment
ADMIN = dict.fromkeys(PERSONAS, 302)  # none of these personas is an operator

# name → (kwargs builder for structure A objects, expected statuses, B-variant kwargs or None)
A = "a"
B = "b"


def url_kwargs(p, which: str) -> dict[str, dict]:
    s = p.a if which == A else p.b
    place = p.place_a if which == A else p.place_b
    closure = p.closure_a if which == A else p.closure_b
    presence = p.presence_a if which == A else p.presence_b
    exception = p.exception_a if which == A else p.exception_b
    appointment = p.appointment_a if which == A else p.appointment_b
    motif = p.motif_a if which == A else p.motif_b
    absence = p.absence_a if which == A else p.absence_b
    slug = {"structure_slug": p.a.slug}  # staff URLs always name A; objects vary
    return {
        "site:structure_home": {"structure_slug": s.slug},
        "site:theme": {"structure_slug": s.slug},
        "site:week": {"structure_slug": s.slug},
        "site:places": {"structure_slug": s.slug},
        "site:place": {"structure_slug": s.slug, "place_slug": place.slug},
        "site:staff_dashboard": {"structure_slug": s.slug},
        "places:list": {"structure_slug": s.slug},
        "places:create": {"structure_slug": s.slug},
        "places:import": {"structure_slug": s.slug},
        "places:edit": {**slug, "pk": place.pk},
        "places:delete": {**slug, "pk": place.pk},
        "places:hours": {**slug, "pk": place.pk},
        "places:closure_add": {**slug, "pk": place.pk},
        "places:closure_delete": {**slug, "pk": place.pk, "closure_pk": closure.pk},
        "schedule:list": {"structure_slug": s.slug},
        "schedule:create": {"structure_slug": s.slug},
        "schedule:edit": {**slug, "pk": presence.pk},
        "schedule:delete": {**slug, "pk": presence.pk},
        "schedule:exception_add": {**slug, "pk": presence.pk},
        "schedule:exception_delete": {**slug, "pk": presence.pk, "exception_pk": exception.pk},
        "agenda:agenda": {"structure_slug": s.slug},
        "agenda:book": {"structure_slug": s.slug},
        "agenda:walk_in": {"structure_slug": s.slug},
        "agenda:motifs": {"structure_slug": s.slug},
        "agenda:motif_create": {"structure_slug": s.slug},
        "agenda:absences": {"structure_slug": s.slug},
        "agenda:messages": {"structure_slug": s.slug},
        "agenda:feed": {"structure_slug": s.slug},
        "booking:start": {"structure_slug": s.slug},
        "booking:place": {"structure_slug": s.slug, "motif_pk": motif.pk},
        "booking:slots": {"structure_slug": s.slug, "motif_pk": motif.pk, "place_pk": place.pk},
        "booking:book": {"structure_slug": s.slug, "motif_pk": motif.pk, "place_pk": place.pk},
        "booking:short": {"token": appointment.token},
        "booking:manage": {"token": appointment.token},
        "booking:cancel": {"token": appointment.token},
        "booking:move": {"token": appointment.token},
        "feeds:feed": {"token": p.feed_a.token},
        "agenda:detail": {**slug, "pk": appointment.pk},
        "agenda:cancel": {**slug, "pk": appointment.pk},
        "agenda:move": {**slug, "pk": appointment.pk},
        "agenda:status": {**slug, "pk": appointment.pk},
        "agenda:motif_edit": {**slug, "pk": motif.pk},
        "agenda:absence_delete": {**slug, "pk": absence.pk},
        **{k: v for m in EXTRA_MODULES for k, v in m.url_kwargs(p, which).items()},
    }


MATRIX = {
    "site:home": PUBLIC,
    "site:healthz": PUBLIC,
    "site:opendata_csv": PUBLIC,
    "site:opendata_json": PUBLIC,
    "site:structure_home": PUBLIC,
    "site:theme": PUBLIC,
    "site:week": PUBLIC,
    "site:places": PUBLIC,
    "site:place": PUBLIC,
    "site:staff_home": STAFF_HOME,
    "site:staff_dashboard": ALL_STAFF,
    "accounts:login": LOGIN,
    "accounts:logout": LOGOUT,
    "accounts:two_factor": TWO_FACTOR,
    "accounts:recovery_codes": RECOVERY,
    "accounts:security": SIGNED_IN,
    "places:list": ALL_STAFF,
    "places:create": COORD_ONLY,
    "places:import": COORD_ONLY,
    "places:edit": COORD_ONLY,
    "places:delete": COORD_ONLY,
    "places:hours": COORD_ONLY,
    "places:closure_add": POST_ONLY_COORD,
    "places:closure_delete": COORD_ONLY,
    "schedule:list": ALL_STAFF,
    "schedule:create": EDITORS,
    "schedule:edit": EDITORS,
    "schedule:delete": EDITORS,
    "schedule:exception_add": EDITORS,
    "schedule:exception_delete": EDITORS,
    "agenda:agenda": ALL_STAFF,
    # Booking for someone means typing and reading their name and contact: never coordinators.
    "agenda:book": {**ALL_STAFF, "coordinator": 403},
    # A walk-in is recorded by the advisor who helped the person.
    "agenda:walk_in": {**EDITORS, "coordinator": 403},
    "agenda:detail": ALL_STAFF,
    "agenda:cancel": ALL_STAFF,
    "agenda:move": ALL_STAFF,
    "agenda:status": POST_ONLY_CARE,
    "agenda:motifs": ALL_STAFF,
    "agenda:motif_create": COORD_ONLY,
    "agenda:motif_edit": COORD_ONLY,
    "agenda:absences": EDITORS,
    "agenda:absence_delete": EDITORS,
    "agenda:messages": EDITORS,  # recipients only for those who may read a contact
    "agenda:feed": EDITORS,
    # Resident booking: public; the private pages are reached by the secret token only.
    "booking:start": PUBLIC,
    "booking:place": dict.fromkeys(PERSONAS, 302),  # one place only: straight to the times
    "booking:slots": PUBLIC,
    "booking:book": PUBLIC,
    "booking:short": dict.fromkeys(PERSONAS, 302),  # the SMS form of the link: on to the page
    "booking:manage": PUBLIC,
    "booking:cancel": PUBLIC,
    "booking:move": PUBLIC,
    "feeds:feed": PUBLIC,
    "media": None,  # uploaded files; tested separately below
}
for _module in EXTRA_MODULES:
    MATRIX.update(_module.MATRIX)
# Staff pages whose object (or structure) can belong to B: everybody of A must get 404.
OBJECT_SCOPED = [
    name
    for name in MATRIX
    if name.split(":")[0]
    in ("places", "schedule", "agenda", "beneficiaries", "gdpr", "activities", "journal")
    or name == "site:staff_dashboard"
]


def _all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str = ""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue  # Django's admin: checked as a whole in test_admin_needs_operator
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, ns)
            elif isinstance(pattern, URLPattern):
                names.add(f"{namespace}{pattern.name}" if pattern.name else repr(pattern))

    walk(get_resolver().url_patterns)
    return names


def test_every_url_is_classified():
    unclassified = _all_url_names() - set(MATRIX)
    assert not unclassified, f"classify these URLs in tests/test_permissions.py: {unclassified}"


def _client(personas, who: str):
    return signed_in(None if who == "anonymous" else getattr(personas, who))


@pytest.mark.django_db
@pytest.mark.parametrize("name", [n for n, v in MATRIX.items() if v is not None])
def test_matrix(personas, name):
    from django.urls import reverse

    kwargs = url_kwargs(personas, A).get(name, {})
    url = reverse(name, kwargs=kwargs)
    got = {who: _client(personas, who).get(url).status_code for who in PERSONAS}
    assert got == MATRIX[name], f"{url}: {got}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", OBJECT_SCOPED)
def test_objects_of_another_structure_are_404(personas, name):
    from django.urls import reverse

    kwargs = url_kwargs(personas, B)[name]
    url = reverse(name, kwargs=kwargs)
    for who in ("coordinator", "advisor", "reception"):
        # In A's URLs, a role refused on the page anyway gets its 403 (or 405 for a POST-only
        # URL) whatever the object, so nothing leaks; B's own URLs are 404 for A's members.
        own = MATRIX[name][who]
        refused_anyway = own in (403, 405) and kwargs["structure_slug"] == personas.a.slug
        status = _client(personas, who).get(url).status_code
        assert status == (own if refused_anyway else 404), f"{who} got {status} on {url}"
        if name.endswith(("_add", "delete", "cancel", "move", "status")):
            status = _client(personas, who).post(url).status_code
            assert status == (403 if own == 403 else 404), f"{who} POST {status} on {url}"


@pytest.mark.django_db
def test_unverified_advisor_is_sent_to_two_factor(personas):
    client = signed_in(personas.advisor, verified=False)
    response = client.get("/equipe/ville-a/lieux/")
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/double-authentification/")


@pytest.mark.django_db
def test_reception_needs_no_second_factor(personas):
    client = signed_in(personas.reception, verified=False)
    assert client.get("/equipe/ville-a/lieux/").status_code == 200


@pytest.mark.django_db
def test_admin_needs_operator(personas, django_user_model):
    for who in PERSONAS:
        assert _client(personas, who).get("/admin/").status_code == 302
    operator = django_user_model.objects.create_superuser("ops@example.org", "x" * 16)
    assert signed_in(operator, verified=False).get("/admin/").status_code == 302
    assert signed_in(operator).get("/admin/").status_code == 200


@pytest.mark.django_db
def test_advisor_cannot_edit_a_colleagues_presence(personas):
    from lien.accounts.models import Membership
    from lien.schedule.models import Presence

    colleague = type(personas.advisor).objects.create_user("autre@a.example", "x" * 16)
    Membership.objects.create(user=colleague, structure=personas.a, role="advisor")
    theirs = Presence.objects.create(
        structure=personas.a,
        advisor=colleague,
        place=personas.place_a,
        weekday=0,
        start=personas.presence_a.start,
        end=personas.presence_a.end,
        valid_from=personas.presence_a.valid_from,
    )
    url = f"/equipe/ville-a/planning/{theirs.pk}/modifier/"
    assert signed_in(personas.advisor).get(url).status_code == 404
    assert signed_in(personas.coordinator).get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/r/{}", "/rdv/{}/", "/rdv/{}/annuler/", "/rdv/{}/changer/", "/agenda/{}.ics"],
)
def test_secret_links_need_the_exact_token(personas, client, url):
    good = personas.appointment_a.token if url.startswith("/r") else personas.feed_a.token
    assert client.get(url.format(good)).status_code == (302 if url.startswith("/r/") else 200)
    assert client.get(url.format(good[:-1] + ("A" if good[-1] != "A" else "B"))).status_code == 404
    assert client.post(url.format("x" * 32)).status_code in (404, 405)


@pytest.mark.django_db
def test_every_admin_page_opens_for_an_operator(personas, django_user_model):
    """The admin's lists and change pages of Lien's models (no server error, no stale field)."""
    from django.contrib import admin
    from django.urls import reverse

    operator = django_user_model.objects.create_superuser("ops@example.org", "x" * 16)
    client = signed_in(operator)
    opened = 0
    for model, _model_admin in admin.site._registry.items():
        if not model.__module__.startswith("lien."):
            continue
        info = (model._meta.app_label, model._meta.model_name)
        assert client.get(reverse("admin:%s_%s_changelist" % info)).status_code == 200  # noqa: UP031
        first = model.objects.first()
        if first is not None:
            url = reverse("admin:%s_%s_change" % info, args=[first.pk])  # noqa: UP031
            assert client.get(url).status_code == 200, url
            opened += 1
    assert opened >= 8
