"""Account events are journalled: exactly the expected entries, never a password or a code.

One entry per structure the user is a member of, with the user as actor and object.
"""

import json

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from lien.accounts.models import Membership, Role
from lien.journal.models import JournalEntry
from tests.conftest import PASSWORD, signed_in

WRONG_PASSWORD = "pas-le-bon-mot-de-passe"


def login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/compte/connexion/", {"username": email, "password": password})


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def account_entries() -> list[tuple[str, str, str | None, dict]]:
    """(action, structure slug, actor's e-mail, data) of every account entry, oldest first."""
    return [
        (e.action, e.structure.slug, e.actor.email if e.actor else None, e.data)
        for e in JournalEntry.objects.filter(action__startswith="account.")
        .select_related("structure", "actor")
        .order_by("pk")
    ]


def assert_no_secret(*secrets: str) -> None:
    for entry in JournalEntry.objects.all():
        stored = json.dumps([entry.data, entry.personal, entry.actor_label], ensure_ascii=False)
        for secret in secrets:
            assert secret not in stored, (entry.action, stored)


@pytest.mark.django_db
def test_a_sign_in_is_journalled_in_each_structure_of_the_member(personas):
    Membership.objects.create(user=personas.reception, structure=personas.b, role=Role.RECEPTION)
    response = login(Client(), personas.reception.email)
    assert response.status_code == 302
    email = personas.reception.email
    assert account_entries() == [
        ("account.signed_in", "ville-a", email, {}),
        ("account.signed_in", "asso-b", email, {}),
    ]
    entry = JournalEntry.objects.filter(action="account.signed_in").first()
    assert (entry.object_type, entry.object_id) == ("user", personas.reception.pk)
    assert entry.subject_id is None and entry.personal == {}
    assert_no_secret(PASSWORD)


@pytest.mark.django_db
def test_a_wrong_password_for_a_known_account_is_journalled_without_it(personas):
    response = login(Client(), personas.advisor.email, WRONG_PASSWORD)
    assert response.status_code == 200
    assert account_entries() == [("account.sign_in_failed", "ville-a", personas.advisor.email, {})]
    assert_no_secret(WRONG_PASSWORD)


@pytest.mark.django_db
def test_a_failed_sign_in_for_an_unknown_email_is_not_journalled(personas):
    from axes.models import AccessAttempt

    response = login(Client(), "personne@nulle-part.example", WRONG_PASSWORD)
    assert response.status_code == 200
    assert account_entries() == []
    assert not JournalEntry.objects.exists()
    # django-axes keeps it.
    assert AccessAttempt.objects.filter(username="personne@nulle-part.example").exists()


@pytest.mark.django_db
def test_a_sign_out_is_journalled(personas):
    client = Client()
    login(client, personas.reception.email)
    client.post("/compte/deconnexion/")
    email = personas.reception.email
    assert account_entries() == [
        ("account.signed_in", "ville-a", email, {}),
        ("account.signed_out", "ville-a", email, {}),
    ]


@pytest.mark.django_db
def test_a_lockout_is_journalled_and_each_attempt_while_locked(personas, settings):
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit):
        login(client, personas.advisor.email, WRONG_PASSWORD)
    email = personas.advisor.email
    failed = ("account.sign_in_failed", "ville-a", email, {})
    locked = ("account.locked_out", "ville-a", email, {"failures": limit})
    entries = account_entries()
    assert entries.count(failed) == limit
    assert entries[-2:] in ([failed, locked], [locked, failed])
    assert len(entries) == limit + 1
    # Even the right password is refused now: one more failure, and the lock again.
    assert login(client, email).status_code == 429
    again = account_entries()[limit + 1 :]
    assert sorted(a for a, *_ in again) == ["account.locked_out", "account.sign_in_failed"]
    assert not any(a == "account.signed_in" for a, *_ in account_entries())
    assert_no_secret(WRONG_PASSWORD, PASSWORD)


@pytest.mark.django_db
def test_enrolment_journals_the_device_and_the_codes_never_a_code(personas, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no wait after the deliberate wrong code
    client = Client()
    login(client, personas.coordinator.email)
    client.get("/compte/double-authentification/")
    device = TOTPDevice.objects.get(user=personas.coordinator, confirmed=False)
    good = code_for(device)
    wrong = "000000" if good != "000000" else "111111"
    assert client.post("/compte/double-authentification/", {"code": wrong}).status_code == 200
    response = client.post("/compte/double-authentification/", {"code": good})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    email = personas.coordinator.email
    assert account_entries() == [
        ("account.signed_in", "ville-a", email, {}),
        ("account.second_factor_failed", "ville-a", email, {"step": "enrolment"}),
        ("account.second_factor_enrolled", "ville-a", email, {}),
        ("account.recovery_codes_generated", "ville-a", email, {"count": 10}),
    ]
    codes = [t.token for t in personas.coordinator.staticdevice_set.get().token_set.all()]
    assert len(codes) == 10 and all(code in page for code in codes)
    assert_no_secret(good, wrong, *codes, device.key)


@pytest.mark.django_db
def test_each_recovery_code_used_is_journalled(personas, settings):
    from lien.accounts.services import recovery_codes_regenerate

    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # no wait after the deliberate spent code
    TOTPDevice.objects.create(user=personas.advisor, name="app", confirmed=True)
    codes = recovery_codes_regenerate(user=personas.advisor)
    email = personas.advisor.email
    first = Client()
    login(first, email)
    assert first.post("/compte/double-authentification/", {"code": codes[0]}).status_code == 302
    second = Client()
    login(second, email)
    assert second.post("/compte/double-authentification/", {"code": codes[0]}).status_code == 200
    assert second.post("/compte/double-authentification/", {"code": codes[1]}).status_code == 302
    assert account_entries() == [
        ("account.signed_in", "ville-a", email, {}),
        ("account.recovery_code_used", "ville-a", email, {"left": 9}),
        ("account.signed_in", "ville-a", email, {}),
        ("account.second_factor_failed", "ville-a", email, {"step": "sign_in"}),
        ("account.recovery_code_used", "ville-a", email, {"left": 8}),
    ]
    assert_no_secret(*codes)


@pytest.mark.django_db
def test_a_totp_code_accepted_is_journalled(personas):
    device = TOTPDevice.objects.create(user=personas.advisor, name="app", confirmed=True)
    client = Client()
    login(client, personas.advisor.email)
    code = code_for(device)
    assert client.post("/compte/double-authentification/", {"code": code}).status_code == 302
    email = personas.advisor.email
    assert account_entries() == [
        ("account.signed_in", "ville-a", email, {}),
        ("account.second_factor_verified", "ville-a", email, {}),
    ]
    assert_no_secret(code, device.key)


@pytest.mark.django_db
def test_regenerating_recovery_codes_is_journalled(personas):
    client = signed_in(personas.advisor)  # signs in too: its entry comes first
    before = len(account_entries())
    response = client.post("/compte/securite/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert account_entries()[before:] == [
        ("account.recovery_codes_generated", "ville-a", personas.advisor.email, {"count": 10})
    ]
    codes = [t.token for t in personas.advisor.staticdevice_set.get().token_set.all()]
    assert all(code in page for code in codes)
    assert_no_secret(*codes)


@pytest.mark.django_db
def test_an_operator_without_a_structure_leaves_no_entry(personas, django_user_model):
    django_user_model.objects.create_superuser("ops@example.org", PASSWORD)
    assert login(Client(), "ops@example.org").status_code == 302
    assert login(Client(), "ops@example.org", WRONG_PASSWORD).status_code == 200
    assert account_entries() == []
