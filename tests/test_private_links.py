"""Private links (a resident's appointment, an advisor's ICS feed) are not stored.

The database holds a random link id; the token adds a MAC of it under SECRET_KEY that is
stored nowhere (lien/core/links.py). A copy of the database therefore opens nothing, a forged
or truncated token is a plain 404, and rotating SECRET_KEY through SECRET_KEY_FALLBACKS keeps
the links already sent.
"""

import pytest
from django.db import connection
from django.test import Client, override_settings

from lien.appointments.models import Appointment, CalendarFeed
from lien.core import links


def _raw_rows(model) -> list[str]:
    """Every value of the model's table, as text."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
        return [str(value) for row in cursor.fetchall() for value in row]


@pytest.mark.django_db
def test_a_copy_of_the_database_holds_no_working_link(personas):
    appointment, feed = personas.appointment_a, personas.feed_a
    for model, token in ((Appointment, appointment.token), (CalendarFeed, feed.token)):
        link_id, mac = token[: links.ID_LENGTH], token[links.ID_LENGTH :]
        values = _raw_rows(model)
        assert link_id in values  # the id finds the row…
        assert not any(mac in value for value in values)  # …the secret half is nowhere
        assert not any(token in value for value in values)
    # What a copy gives, the id alone (or with a made-up MAC), opens nothing.
    client = Client()
    link_id = appointment.link_id
    for guess in (link_id, f"{link_id}.", f"{link_id}{'A' * links.MAC_LENGTH}"):
        assert client.get(f"/rdv/{guess}/").status_code == 404
    assert client.get(f"/agenda/{feed.link_id}.ics").status_code == 404
    assert client.get(f"/rdv/{appointment.token}/").status_code == 200
    assert client.get(f"/agenda/{feed.token}.ics").status_code == 200


@pytest.mark.django_db
def test_a_mac_made_with_another_key_or_for_another_kind_of_link_is_refused(personas):
    appointment, feed = personas.appointment_a, personas.feed_a
    with override_settings(SECRET_KEY="an-attacker-s-guess-" + "x" * 40):
        forged = appointment.token  # the stored id, signed with another key
    assert forged != appointment.token
    assert Client().get(f"/rdv/{forged}/").status_code == 404
    # A feed's MAC does not open an appointment with the same id, nor the other way round.
    cross = links.token_for("calendar-feed", appointment.link_id)
    assert links.link_id_of("appointment", cross) is None
    assert links.link_id_of("calendar-feed", links.token_for("appointment", feed.link_id)) is None


@pytest.mark.django_db
def test_rotating_the_key_keeps_the_links_already_sent(personas, settings):
    sent = personas.appointment_a.token
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-secret-key-" + "y" * 40
    assert Client().get(f"/rdv/{sent}/").status_code == 404  # old key gone: link gone
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert Client().get(f"/rdv/{sent}/").status_code == 200
    assert personas.appointment_a.token != sent  # new messages carry the new MAC
    assert Client().get(f"/rdv/{personas.appointment_a.token}/").status_code == 200


@pytest.mark.parametrize(
    "token",
    ["", ".", "a.b", "x" * 500, "abc\x00def" + "A" * 32, "é" * 34, "../etc", "A" * 35],
)
def test_garbled_tokens_are_refused_before_any_query(token):
    assert links.link_id_of("appointment", token) is None
