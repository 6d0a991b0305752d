"""Staff sign-in: e-mail and password, TOTP second factor, recovery codes, lockout."""

import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/compte/connexion/", {"username": email, "password": password})


@pytest.mark.django_db
def test_it_signs_in_by_email_then_asks_an_advisor_to_set_up_totp(personas):
    client = Client()
    response = login(client, personas.advisor.email)
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/double-authentification/")
    page = client.get(response["Location"])
    assert "Activer la double authentification" in page.content.decode()
    assert client.get("/equipe/ville-a/lieux/").status_code == 302  # still blocked


@pytest.mark.django_db
def test_it_enrols_totp_and_prints_recovery_codes_once(personas, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no wait after the deliberate wrong code
    client = Client()
    login(client, personas.coordinator.email)
    client.get("/compte/double-authentification/")
    device = TOTPDevice.objects.get(user=personas.coordinator, confirmed=False)
    assert client.post("/compte/double-authentification/", {"code": "000000"}).status_code == 200
    response = client.post(
        "/compte/double-authentification/?next=/equipe/ville-a/lieux/", {"code": code_for(device)}
    )
    assert response.status_code == 302 and "/compte/codes-de-secours/" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li>(\d{8})</li>", page)
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user=personas.coordinator).count() == 10
    # Shown once only.
    assert client.get("/compte/codes-de-secours/").status_code == 302
    assert client.get("/equipe/ville-a/lieux/").status_code == 200


@pytest.mark.django_db
def test_a_recovery_code_works_once(personas):
    from lien.accounts.services import recovery_codes_regenerate

    TOTPDevice.objects.create(user=personas.advisor, name="app", confirmed=True)
    codes = recovery_codes_regenerate(user=personas.advisor)
    first = Client()
    login(first, personas.advisor.email)
    assert first.post("/compte/double-authentification/", {"code": codes[0]}).status_code == 302
    assert first.get("/equipe/ville-a/lieux/").status_code == 200
    second = Client()
    login(second, personas.advisor.email)
    response = second.post("/compte/double-authentification/", {"code": codes[0]})
    assert response.status_code == 200
    assert "Code incorrect" in response.content.decode()


@pytest.mark.django_db
def test_a_wrong_totp_code_is_refused_in_french(personas):
    device = TOTPDevice.objects.create(user=personas.advisor, name="app", confirmed=True)
    client = Client()
    login(client, personas.advisor.email)
    good = code_for(device)
    wrong = "123456" if good != "123456" else "654321"
    response = client.post("/compte/double-authentification/", {"code": wrong})
    assert "Code incorrect ou expiré" in response.content.decode()
    assert client.get("/equipe/ville-a/").status_code == 302


@pytest.mark.django_db
def test_wrong_password_message_is_french_and_generic(personas):
    response = login(Client(), personas.advisor.email, "not-the-password")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()


@pytest.mark.django_db
def test_it_locks_out_after_repeated_failures(personas, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, personas.advisor.email, "wrong-password")
    locked = login(client, personas.advisor.email)  # even the right password now
    assert locked.status_code == 429
    assert "Trop de tentatives" in locked.content.decode()
    # Another account from the same client is not locked.
    assert login(client, personas.reception.email).status_code == 302


@pytest.mark.django_db
def test_reception_signs_in_without_second_factor(personas):
    client = Client()
    response = login(client, personas.reception.email)
    assert response.status_code == 302
    assert client.get("/equipe/ville-a/lieux/").status_code == 200


@pytest.mark.django_db
def test_logout_is_post_only(personas):
    client = Client()
    login(client, personas.reception.email)
    assert client.get("/compte/deconnexion/").status_code == 405
    assert client.post("/compte/deconnexion/").status_code == 302
    assert client.get("/equipe/ville-a/lieux/").status_code == 302


@pytest.mark.django_db
def test_next_cannot_redirect_to_another_site(personas):
    device = TOTPDevice.objects.create(user=personas.advisor, name="app", confirmed=True)
    client = Client()
    login(client, personas.advisor.email)
    response = client.post(
        "/compte/double-authentification/?next=https://evil.example/", {"code": code_for(device)}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
