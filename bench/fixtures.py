"""Data builders shared by the benchmarks (bulk inserts, deterministic)."""

import datetime as dt

from lien.accounts.models import Membership, Role, Structure, User
from lien.places.models import OpeningRule, Place
from lien.schedule.models import Presence


def town(slug: str, siret: str) -> Structure:
    Structure.objects.filter(slug=slug).delete()
    return Structure.objects.create(
        name="Ville de banc d'essai",
        slug=slug,
        kind="commune",
        siret=siret,
        insee_code="77999",
        contact_phone="+33164000000",
    )


def places(structure: Structure, count: int) -> list[Place]:
    created = Place.objects.bulk_create(
        Place(
            structure=structure,
            slug=f"lieu-{i}",
            name=f"Lieu {i}",
            kind="office",
            address=f"{i} rue de la Mairie",
            postcode="77999",
            city="Villebrie",
            insee_code="77999",
            phone="+33164000000",
            latitude="48.5",
            longitude="2.6",
            services=[
                "Aide aux démarches administratives",
                "Maîtrise des outils numériques du quotidien",
            ],
            fees=["Gratuit"],
            accompaniment_modes=["Accompagnement individuel"],
        )
        for i in range(count)
    )
    OpeningRule.objects.bulk_create(
        OpeningRule(
            place=p, weekday=d, start=dt.time(9), end=dt.time(12), weeks="all" if d != 3 else "odd"
        )
        for p in created
        for d in (0, 2, 3)
    )
    return created


def advisors_and_presences(
    structure: Structure, place_list: list[Place], advisors: int, per_advisor: int
) -> None:
    users = []
    for i in range(advisors):
        user = User.objects.create_user(f"conseiller{i}@bench.example", None, first_name=f"C{i}")
        Membership.objects.create(user=user, structure=structure, role=Role.ADVISOR)
        users.append(user)
    rows = []
    for a, user in enumerate(users):
        for k in range(per_advisor):
            day, slot = divmod(k, 2)
            start = dt.time(9 + 4 * slot)
            rows.append(
                Presence(
                    structure=structure,
                    advisor=user,
                    place=place_list[(a + k) % len(place_list)],
                    weekday=day % 5,
                    start=start,
                    end=dt.time(start.hour + 3),
                    every_n_weeks=1 + (k % 2),
                    valid_from=dt.date(2026, 1, 5 + (day // 5) * 7),
                )
            )
    Presence.objects.bulk_create(rows)
