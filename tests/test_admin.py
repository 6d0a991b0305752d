"""The operators' admin: read-only for the journal, people, appointments, messages and reports,
never showing a person's details; what operators may still change there is journalled with the
operator as actor and `actor_label="admin"`."""

import re

import pytest
from django.urls import reverse

from lien.accounts.models import Membership, Role, User
from lien.appointments.models import Appointment, CalendarFeed, Motif
from lien.journal import record
from lien.journal.models import JournalEntry
from lien.places.models import Place
from tests.conftest import PASSWORD, signed_in

# Values that identify someone: not one may appear on an admin page.
PERSONAL = ("Josette", "Durand", "+33612345678", "06 12 34 56 78", "NOTE-CONFIDENTIELLE-A")


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("ops@example.org", PASSWORD)


@pytest.fixture
def ops(operator):
    return signed_in(operator)


def _errors(response) -> list[str]:
    """The form's error messages, for a failed assertion's message."""
    return re.findall(
        r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S
    )


def _url(obj, view: str = "change") -> str:
    info = (obj._meta.app_label, obj._meta.model_name)
    if view in ("changelist", "add"):
        return reverse("admin:{}_{}_{}".format(*info, view))
    return reverse("admin:{}_{}_{}".format(*info, view), args=[obj.pk])


def _entry(personas) -> JournalEntry:
    return record(
        structure=personas.a,
        action="beneficiary.updated",
        obj=personas.beneficiary_a,
        actor=personas.advisor,
        subject=personas.beneficiary_a,
        data={"fields": ["phone"]},
        personal={"before": {"phone": "+33612345678"}},
    )


def _read_only(ops, obj) -> str:
    """The change page opens, shows no form to save, and a POST, an add or a delete is refused."""
    page = ops.get(_url(obj))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="_save"' not in body
    assert ops.post(_url(obj), {}).status_code == 403
    assert ops.get(_url(obj, "add")).status_code == 403
    assert ops.post(_url(obj, "delete"), {"post": "yes"}).status_code == 403
    return body


@pytest.mark.django_db
def test_an_operator_sees_but_cannot_change_a_person_or_an_appointment(personas, ops):
    for obj in (personas.beneficiary_a, personas.appointment_a, personas.activity_a):
        before = type(obj).objects.filter(pk=obj.pk).values().get()
        body = _read_only(ops, obj)
        assert type(obj).objects.filter(pk=obj.pk).values().get() == before
        for value in PERSONAL:
            assert value not in body, (obj, value)
        history = ops.get(_url(obj, "history")).content.decode()
        assert not [value for value in PERSONAL if value in history]
    assert Appointment.objects.filter(pk=personas.appointment_a.pk).exists()


@pytest.mark.django_db
def test_the_journal_is_read_only_and_never_shows_personal_values(personas, ops):
    entry = _entry(personas)
    body = _read_only(ops, entry)
    assert "beneficiary.updated" in body
    assert "+33612345678" not in body and "personal" not in body
    listing = ops.get(_url(entry, "changelist")).content.decode()
    assert "+33612345678" not in listing
    assert JournalEntry.objects.get(pk=entry.pk).personal == {"before": {"phone": "+33612345678"}}


@pytest.mark.django_db
def test_messages_and_imports_are_read_only(personas, ops):
    from lien.appointments.notifications import schedule_for

    schedule_for(personas.appointment_a, "confirmation")
    message = personas.appointment_a.messages.first()
    body = _read_only(ops, message)
    assert "+33612345678" not in body and "Josette" not in body


@pytest.mark.django_db
def test_a_structure_changed_in_the_admin_is_journalled_as_the_operators(personas, ops, operator):
    structure = personas.a
    members = list(Membership.objects.filter(structure=structure).order_by("pk"))
    data = {
        "name": "Ville A",
        "slug": structure.slug,
        "kind": structure.kind,
        "siret": structure.siret,
        "insee_code": structure.insee_code,
        "contact_email": "",
        "contact_phone": "+33164000000",
        "colour": "#aa3300",
        "retention_months": "18",
        "time_zone": structure.time_zone,
        "memberships-TOTAL_FORMS": str(len(members) + 1),
        "memberships-INITIAL_FORMS": str(len(members)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, membership in enumerate(members):
        data |= {
            f"memberships-{i}-id": str(membership.pk),
            f"memberships-{i}-structure": str(structure.pk),
            f"memberships-{i}-user": str(membership.user_id),
            f"memberships-{i}-role": membership.role,
        }
    # The reception agent becomes an advisor; a newcomer joins as reception.
    reception = members.index(Membership.objects.get(user=personas.reception))
    data[f"memberships-{reception}-role"] = Role.ADVISOR
    newcomer = User.objects.create_user("nouveau@a.example", PASSWORD)
    data |= {
        f"memberships-{len(members)}-structure": str(structure.pk),
        f"memberships-{len(members)}-user": str(newcomer.pk),
        f"memberships-{len(members)}-role": Role.RECEPTION,
    }
    response = ops.post(_url(structure), data)
    assert response.status_code == 302, _errors(response)

    settings = JournalEntry.objects.get(action="structure.settings_updated")
    assert (settings.actor_id, settings.actor_label) == (operator.pk, "admin")
    assert sorted(settings.data["fields"]) == ["colour", "retention_months"]
    role = JournalEntry.objects.get(action="membership.updated")
    assert role.data == {"user": personas.reception.pk, "role": "advisor", "fields": ["role"]}
    joined = JournalEntry.objects.get(action="membership.created")
    assert (joined.actor_id, joined.actor_label) == (operator.pk, "admin")
    assert joined.data == {"user": newcomer.pk, "role": "reception"}


@pytest.mark.django_db
def test_a_membership_withdrawn_and_a_password_set_in_the_admin_are_journalled(
    personas, ops, operator
):
    user = personas.reception
    membership = Membership.objects.get(user=user)
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": "",
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%d/%m/%Y"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(membership.pk),
        "memberships-0-user": str(user.pk),
        "memberships-0-structure": str(personas.a.pk),
        "memberships-0-role": membership.role,
        "memberships-0-DELETE": "on",
    }
    response = ops.post(_url(user), data)
    assert response.status_code == 302, _errors(response)
    withdrawn = JournalEntry.objects.get(action="membership.deleted")
    assert (withdrawn.structure_id, withdrawn.actor_id) == (personas.a.pk, operator.pk)
    assert not Membership.objects.filter(user=user).exists()

    advisor = personas.advisor
    url = reverse("admin:auth_user_password_change", args=[advisor.pk])
    new = "un-autre-mot-de-passe-solide-42"
    response = ops.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code == 302
    entry = JournalEntry.objects.get(action="user.password_changed")
    assert (entry.object_id, entry.actor_id, entry.actor_label) == (
        advisor.pk,
        operator.pk,
        "admin",
    )
    assert new not in str(entry.data)
    advisor.refresh_from_db()
    assert advisor.check_password(new)


@pytest.mark.django_db
def test_places_motifs_and_feeds_changed_in_the_admin_are_journalled(personas, ops, operator):
    place = personas.place_a
    page = ops.get(_url(place))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data = {k: (["on"] if v is True else v) for k, v in data.items() if v is not False}
    data["name"] = "Club des aînés"
    for prefix in ("opening_rules", "closures"):
        count = getattr(place, prefix).count()
        data |= {
            f"{prefix}-TOTAL_FORMS": str(count),
            f"{prefix}-INITIAL_FORMS": str(count),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    response = ops.post(_url(place), data)
    assert response.status_code == 302, _errors(response)
    assert Place.objects.get(pk=place.pk).name == "Club des aînés"
    entry = JournalEntry.objects.get(action="place.updated")
    assert (entry.actor_id, entry.actor_label, entry.data) == (
        operator.pk,
        "admin",
        {"fields": ["name"]},
    )

    motif = personas.motif_a
    response = ops.post(
        _url(motif),
        {
            "structure": str(personas.a.pk),
            "title": "Découvrir sa messagerie",
            "duration": str(motif.duration),
            "location_type": motif.location_type,
            "places": [str(place.pk)],
            "buffer_minutes": str(motif.buffer_minutes),
            "min_delay_hours": str(motif.min_delay_hours),
            "max_delay_days": str(motif.max_delay_days),
            "bookable_by_residents": "on",
            "active": "on",
            "instructions": "",
        },
    )
    assert response.status_code == 302, _errors(response)
    assert Motif.objects.get(pk=motif.pk).title == "Découvrir sa messagerie"
    assert JournalEntry.objects.get(action="motif.updated").actor_label == "admin"

    feed = personas.feed_a
    response = ops.post(
        _url(feed, "changelist"), {"action": "revoke", "_selected_action": [str(feed.pk)]}
    )
    assert response.status_code == 302
    assert CalendarFeed.objects.get(pk=feed.pk).revoked_at is not None
    revoked = JournalEntry.objects.get(action="calendar_feed.revoked")
    assert (revoked.actor_id, revoked.actor_label) == (operator.pk, "admin")


@pytest.mark.django_db
def test_a_place_with_history_cannot_be_deleted_in_the_admin(personas, ops):
    assert ops.post(_url(personas.place_a, "delete"), {"post": "yes"}).status_code == 403
    assert Place.objects.filter(pk=personas.place_a.pk).exists()


@pytest.mark.django_db
def test_an_absence_deleted_in_the_admin_is_journalled(personas, ops, operator):
    absence = personas.absence_a
    assert ops.post(_url(absence, "delete"), {"post": "yes"}).status_code == 302
    entry = JournalEntry.objects.get(action="absence.deleted")
    assert (entry.object_id, entry.actor_id, entry.actor_label) == (
        absence.pk,
        operator.pk,
        "admin",
    )
