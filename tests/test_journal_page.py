"""The coordinator's journal page: entries in French, filters, pagination, never whom.

Only coordinators read it (advisors and reception 403, other structures 404: see
tests/perm_journal.py in the permission matrix); it never shows a personal value, a
person's name or free text from an entry's `data`.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from lien import journal
from lien.journal.models import JournalCheck, JournalEntry
from tests.conftest import signed_in

URL = "/equipe/ville-a/journal/"


def rows(html: str) -> list[str]:
    """The text of each row of the page's table."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [re.sub(r"<[^>]+>", " ", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def booked(personas, **extra) -> JournalEntry:
    return journal.record(
        structure=personas.a,
        action="appointment.booked",
        obj=personas.appointment_a,
        actor=extra.pop("actor", personas.advisor),
        subject=personas.beneficiary_a,
        data={"channel": "staff"},
    )


@pytest.mark.django_db
def test_the_coordinator_reads_entries_in_french(personas):
    booked(personas)
    page = signed_in(personas.coordinator).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    found = [r for r in rows(html) if "Rendez-vous pris" in r]
    assert len(found) == 1
    assert "Camille" in found[0]  # the advisor who acted (staff are not residents)
    assert f"Rendez-vous n° {personas.appointment_a.pk}" in " ".join(found[0].split())
    assert "appointment.booked" not in found[0]  # the label, never the raw name
    # The coordinator's navigation leads here; an advisor's does not.
    assert f'href="{URL}"' in html
    advisor_home = signed_in(personas.advisor).get("/equipe/ville-a/rendez-vous/")
    assert f'href="{URL}"' not in advisor_home.content.decode()


@pytest.mark.django_db
def test_no_personal_value_name_or_free_text_ever_appears(personas):
    person = personas.beneficiary_a  # Josette Durand
    journal.record(
        structure=personas.a,
        action="beneficiary.updated",
        obj=person,
        actor=personas.advisor,
        subject=person,
        data={"fields": ["phone"], "note": "TEXTE-LIBRE-SECRET", "results": 3},
        personal={"phone": "+33699887766", "name": "Josette Durand", "email": "j@d.example"},
    )
    journal.record(
        structure=personas.a,
        action="beneficiary.searched",
        actor=personas.reception,
        data={"results": 2, "q": "Durand"},
    )
    html = signed_in(personas.coordinator).get(URL).content.decode()
    assert "Fiche modifiée" in html and "Recherche de personnes" in html
    for secret in (
        "Josette",
        "Durand",
        "+33699887766",
        "06 99 88 77 66",
        "j@d.example",
        "TEXTE-LIBRE-SECRET",
        "NOTE-CONFIDENTIELLE-A",
        person.phone,
    ):
        assert secret not in html, secret
    # Whitelisted counts only.
    assert "3 résultats" in html and "2 résultats" in html


@pytest.mark.django_db
def test_another_structures_entries_are_not_shown(personas):
    journal.record(structure=personas.b, action="motif.saved", actor=personas.outsider)
    html = signed_in(personas.coordinator).get(URL).content.decode()
    assert "Hugo" not in html
    assert "Motif de rendez-vous enregistré" not in "".join(rows(html))


@pytest.mark.django_db
def test_advisors_and_reception_are_refused_and_outsiders_see_nothing(personas):
    assert signed_in(personas.advisor).get(URL).status_code == 403
    assert signed_in(personas.reception).get(URL).status_code == 403
    assert signed_in(personas.outsider).get(URL).status_code == 404
    assert signed_in(personas.coordinator).get("/equipe/asso-b/journal/").status_code == 404


@pytest.mark.django_db
def test_the_page_is_journalled_as_a_listing_with_its_filters(personas):
    booked(personas)
    client = signed_in(personas.coordinator)
    client.get(f"{URL}?action=appointment&membre={personas.advisor.pk}&du=nimporte")
    entry = JournalEntry.objects.get(action="journal.listed")
    assert entry.actor == personas.coordinator
    assert entry.data["filters"] == {"action": "appointment", "membre": str(personas.advisor.pk)}
    assert entry.data["shown"] == 1 and entry.data["page"] == 1
    assert entry.personal == {} and entry.subject_id is None


@pytest.mark.django_db
def test_filters_by_action_family_kind_member_and_object_type(personas):
    booked(personas)
    journal.record(
        structure=personas.a,
        action="appointment.viewed",
        obj=personas.appointment_a,
        actor=personas.reception,
        subject=personas.beneficiary_a,
    )
    journal.record(structure=personas.a, action="absence.created", actor=personas.coordinator)
    client = signed_in(personas.coordinator)

    def labels(query: str) -> list[str]:
        found = []
        for row in rows(client.get(f"{URL}?{query}").content.decode()):
            for label in ("Rendez-vous pris", "Rendez-vous consulté", "Absence ajoutée"):
                if label in row:
                    found.append(label)
        return sorted(found)

    everything = ["Absence ajoutée", "Rendez-vous consulté", "Rendez-vous pris"]
    assert labels("") == everything
    assert labels("action=appointment.booked") == ["Rendez-vous pris"]
    assert labels("action=appointment") == ["Rendez-vous consulté", "Rendez-vous pris"]
    assert labels("type=read") == ["Rendez-vous consulté"]
    assert labels("type=change") == ["Absence ajoutée", "Rendez-vous pris"]
    assert labels(f"membre={personas.reception.pk}") == ["Rendez-vous consulté"]
    assert labels("objet=appointment") == ["Rendez-vous consulté", "Rendez-vous pris"]
    assert labels("objet=appointment&type=change") == ["Rendez-vous pris"]
    # Bad values are dropped (the page shows everything for them), never an error.
    assert labels("action=appointment.forged&type=x&objet=nothing") == everything
    assert labels(f"membre={personas.outsider.pk}") == everything  # not a member of A
    for query in ("membre=abc", "du=2026-13-45", "page=" + "9" * 40, "action=" + "x" * 500):
        assert client.get(f"{URL}?{query}").status_code == 200


@pytest.mark.django_db
def test_filters_by_period_in_the_structures_days(personas):
    today = timezone.localdate()
    with time_machine.travel(timezone.now() - dt.timedelta(days=40)):
        journal.record(structure=personas.a, action="absence.deleted", actor=personas.advisor)
    booked(personas)
    client = signed_in(personas.coordinator)

    def shown(query: str) -> str:
        return " ".join(rows(client.get(f"{URL}?{query}").content.decode()))

    recent = shown(f"du={(today - dt.timedelta(days=7)).isoformat()}")
    assert "Rendez-vous pris" in recent and "Absence supprimée" not in recent
    old = shown(f"au={(today - dt.timedelta(days=30)).isoformat()}")
    assert "Absence supprimée" in old and "Rendez-vous pris" not in old
    # A period given backwards is read the right way round.
    before, after = today - dt.timedelta(days=41), today - dt.timedelta(days=39)
    assert "Absence supprimée" in shown(f"du={after.isoformat()}&au={before.isoformat()}")


@pytest.mark.django_db
def test_newest_first_and_paginated_with_the_filters_kept(personas):
    for _ in range(55):
        booked(personas)
    first = signed_in(personas.coordinator).get(f"{URL}?action=appointment.booked")
    html = first.content.decode()
    assert len(rows(html)) == 50
    assert "55 entrées" in html
    assert "?action=appointment.booked&amp;page=2" in html
    second = signed_in(personas.coordinator).get(f"{URL}?action=appointment.booked&page=2")
    assert len(rows(second.content.decode())) == 5
    ids = list(
        JournalEntry.objects.filter(action="appointment.booked").values_list("pk", flat=True)
    )
    newest = max(ids)
    assert first.context["page"].object_list[0].pk == newest


@pytest.mark.django_db
def test_the_last_verification_of_the_journal_is_shown(personas):
    client = signed_in(personas.coordinator)
    assert "pas encore été vérifié" in client.get(URL).content.decode()
    JournalCheck.objects.create(structure=personas.a, at=timezone.now(), ok=True, entries=7)
    html = client.get(URL).content.decode()
    assert "intact (7 entrées)" in html and "message-success" in html
    JournalCheck.objects.create(
        structure=personas.a, at=timezone.now(), ok=False, broken_seq=4, reason="hash"
    )
    html = client.get(URL).content.decode()
    assert "chaîne rompue à l" in html and "message-error" in html
    # B's checks are B's.
    JournalCheck.objects.create(structure=personas.b, at=timezone.now(), ok=True, entries=99)
    assert "99" not in client.get(URL).content.decode().split("<h1>")[1].split("<form")[0]
