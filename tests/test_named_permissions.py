"""Named permissions that shape a page rather than open it (the matrix in
tests/test_permissions.py covers those that open one): for each, the role that has it gets
the behaviour and a role that lacks it does not. And `staff_view` / `|can:` fail on a name
that is not in lien/accounts/permissions.py.
"""

import pytest
from django.http import HttpResponse
from django.template import Context, Template
from django.urls import reverse

from lien.accounts import permissions as perms
from lien.accounts.access import staff_view
from lien.accounts.models import Membership
from lien.appointments.models import Absence
from tests.conftest import make_absence, signed_in


def _colleague(personas, role: str, email: str):
    user = type(personas.advisor).objects.create_user(email, "x" * 16, first_name="Léa")
    Membership.objects.create(user=user, structure=personas.a, role=role)
    return user


@pytest.mark.django_db
def test_absence_edit_any_reaches_a_colleagues_absence(personas):
    """Coordination manages everybody's absences; an advisor only their own."""
    colleague = _colleague(personas, "advisor", "collegue@a.example")
    theirs = make_absence(personas.a, colleague, personas.absence_a.start.date())
    url = f"/equipe/ville-a/rendez-vous/absences/{theirs.pk}/supprimer/"
    assert signed_in(personas.advisor).get(url).status_code == 404
    listing = signed_in(personas.advisor).get("/equipe/ville-a/rendez-vous/absences/")
    assert list(listing.context["absences"]) == [personas.absence_a]
    assert list(listing.context["form"].fields["advisor"].queryset) == [personas.advisor]
    coordinator = signed_in(personas.coordinator)
    page = coordinator.get("/equipe/ville-a/rendez-vous/absences/")
    assert {a.pk for a in page.context["absences"]} == {personas.absence_a.pk, theirs.pk}
    assert colleague in page.context["form"].fields["advisor"].queryset
    assert coordinator.post(url).status_code == 302
    assert not Absence.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_presence_hold_says_who_can_be_chosen_as_the_advisor(personas):
    """Coordinators and advisors hold presences and appointments; reception does not."""
    from lien.appointments.forms_staff import advisors_of
    from lien.schedule.forms import PresenceForm

    assert set(perms.roles_with("presence.hold")) == {"advisor", "coordinator"}
    assert set(advisors_of(personas.a)) == {personas.advisor, personas.coordinator}
    page = signed_in(personas.coordinator).get(
        reverse("schedule:create", kwargs={"structure_slug": "ville-a"})
    )
    offered = set(page.context["form"].fields["advisor"].queryset)
    assert offered == {personas.advisor, personas.coordinator}
    coordination = Membership.objects.get(user=personas.coordinator)
    form = PresenceForm(
        {"advisor": personas.reception.pk, "mode": "public_office", "weekday": 1},
        structure=personas.a,
        membership=coordination,
    )
    assert not form.is_valid() and "advisor" in form.errors


@pytest.mark.django_db
def test_presence_edit_any_offers_every_advisor_on_the_form(personas):
    """An advisor's presence form offers only themselves; coordination's, everybody."""
    url = reverse("schedule:create", kwargs={"structure_slug": "ville-a"})
    advisor_form = signed_in(personas.advisor).get(url).context["form"]
    assert list(advisor_form.fields["advisor"].queryset) == [personas.advisor]
    listing = signed_in(personas.advisor).get("/equipe/ville-a/planning/")
    assert listing.context["can_edit_own"] and not listing.context["can_edit_all"]
    listing = signed_in(personas.coordinator).get("/equipe/ville-a/planning/")
    assert listing.context["can_edit_all"]
    listing = signed_in(personas.reception).get("/equipe/ville-a/planning/")
    assert not listing.context["can_edit_own"] and not listing.context["can_edit_all"]


@pytest.mark.django_db
def test_account_two_factor_is_asked_of_coordinators_and_advisors(personas):
    assert set(perms.roles_with("account.two_factor")) == {"advisor", "coordinator"}
    for who in ("coordinator", "advisor"):
        response = signed_in(getattr(personas, who), verified=False).get("/equipe/ville-a/lieux/")
        assert response.status_code == 302, who
        assert response["Location"].startswith("/compte/double-authentification/")
    assert not personas.reception.needs_two_factor
    response = signed_in(personas.reception, verified=False).get("/equipe/ville-a/lieux/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_motif_edit_shows_the_edit_links(personas):
    url = "/equipe/ville-a/rendez-vous/motifs/"
    assert signed_in(personas.coordinator).get(url).context["can_edit"]
    for who in ("advisor", "reception"):
        assert not signed_in(getattr(personas, who)).get(url).context["can_edit"], who


@pytest.mark.django_db
def test_activity_edit_offers_the_report_from_an_appointment(personas):
    url = f"/equipe/ville-a/rendez-vous/{personas.appointment_a.pk}/"
    assert signed_in(personas.advisor).get(url).context["can_report"]
    for who in ("coordinator", "reception"):
        assert not signed_in(getattr(personas, who)).get(url).context["can_report"], who


# Links of the navigation, each shown exactly to the roles whose permission opens the page:
# (page showing the link, the link's URL name).
LINKS = [
    ("places:list", "activities:list"),
    ("agenda:agenda", "agenda:absences"),
    ("agenda:agenda", "agenda:feed"),
    ("beneficiaries:list", "beneficiaries:create"),
    ("beneficiaries:list", "gdpr:import"),
    ("beneficiaries:list", "gdpr:retention"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["coordinator", "advisor", "reception"])
def test_links_follow_the_permissions(personas, who):
    from django.urls import resolve

    client = signed_in(getattr(personas, who))
    membership = Membership.objects.get(user=getattr(personas, who))
    slug = {"structure_slug": personas.a.slug}
    shown = 0
    for page_name, target_name in LINKS:
        target = reverse(target_name, kwargs=slug)
        permission = resolve(target).func.staff_permission
        assert permission is not None, target
        page = client.get(reverse(page_name, kwargs=slug))
        assert page.status_code == 200, page_name
        linked = f'href="{target}"' in page.content.decode()
        assert linked == perms.can(membership, permission), f"{who}: {target} ({permission})"
        shown += linked
    assert shown == {"coordinator": 4, "advisor": 6, "reception": 0}[who]


def test_staff_view_refuses_an_unknown_permission_at_import():
    with pytest.raises(ValueError, match="unknown permission"):
        staff_view("place.edti")
    with pytest.raises(ValueError):
        staff_view("coordinator")  # a role is not a permission


def test_staff_view_publishes_the_roles_its_permission_lets_in():
    def page(request):
        return HttpResponse()

    assert staff_view("place.edit")(page).staff_roles == ("coordinator",)
    assert set(staff_view("beneficiary.view")(page).staff_roles) == {"advisor", "reception"}
    assert set(staff_view()(page).staff_roles) == {"advisor", "reception", "coordinator"}


def test_the_template_filter_refuses_an_unknown_permission():
    template = Template('{% if m|can:"beneficiary.view_everything" %}x{% endif %}')
    with pytest.raises(ValueError):
        template.render(Context({"m": None}))
    template = Template('{% if m|can:"place.edit" %}x{% endif %}')
    assert template.render(Context({"m": Membership(role="coordinator")})) == "x"
    assert template.render(Context({"m": Membership(role="advisor")})) == ""


def test_an_unknown_role_has_no_permission():
    assert not perms.can(Membership(role="operator"), "place.edit")
    assert not perms.can(None, "place.edit")
