"""Activity list at 100,000 activities: the advisor's filtered page against raw SQL.

A structure with 5 advisors, 10 places and 100,000 activity reports over three years (one
in ten a workshop with 8 participants, so about 170,000 accompaniment rows), each with one to
three themes. The figure is the first page of the list filtered by a quarter and a theme, as
the advisor's list view asks for it (50 rows with advisor, place and participant count, plus
the total for the pager), through `lien.activities.selectors.activity_list`; then the whole
HTTP page through Django's test client; beside the same two queries in raw SQL.
"""

import datetime as dt
import random

from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench import fixtures
from lien.accounts.models import Membership, Role, User
from lien.activities.models import Accompaniment, Activity
from lien.core import taxonomy

ACTIVITIES = 100_000
ADVISORS = 5
PLACES = 10
FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 3 * 365
THEME = "aide_aux_demarches_administratives"
PERIOD = (dt.date(2025, 4, 1), dt.date(2025, 6, 30))


def build(structure, place_list) -> list[User]:
    users = []
    for i in range(ADVISORS):
        user = User.objects.create_user(f"m{i}@cra.bench.example", None, first_name=f"M{i}")
        Membership.objects.create(user=user, structure=structure, role=Role.ADVISOR)
        users.append(user)
    themes = [code for code, _ in taxonomy.THEMES]
    rng = random.Random(4)
    batch = 5000
    for offset in range(0, ACTIVITIES, batch):
        rows = []
        for n in range(offset, min(offset + batch, ACTIVITIES)):
            collective = n % 10 == 0
            picked = rng.sample(themes, rng.randint(1, 3))
            procedure = THEME in picked
            rows.append(
                Activity(
                    structure=structure,
                    advisor=users[n % ADVISORS],
                    kind="collectif" if collective else "individuel",
                    date=FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS)),
                    duration=rng.choice(taxonomy.DURATION_PRESETS),
                    place_type="lieu_activite",
                    place=place_list[n % PLACES],
                    themes=taxonomy.pack(picked),
                    procedure_themes="|logement|" if procedure else "",
                    materials="|telephone|",
                    autonomy="" if collective else "autonome",
                    level="debutant" if collective else "",
                )
            )
        created = Activity.objects.bulk_create(rows)
        Accompaniment.objects.bulk_create(
            (
                Accompaniment(
                    activity=a,
                    structure=structure,
                    date=a.date,
                    age_band=rng.choice(taxonomy.codes("beneficiary_age_band")),
                    gender=rng.choice(taxonomy.codes("beneficiary_gender")),
                    social_status=rng.choice(taxonomy.codes("beneficiary_social_status")),
                )
                for a in created
                for _ in range(8 if a.kind == "collectif" else 1)
            ),
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        cursor.execute("analyze")
    return users


RAW_PAGE = (
    "select a.id, a.date, a.kind, a.duration, a.themes, u.first_name, p.name, "
    "(select count(*) from activities_accompaniment c where c.activity_id = a.id) "
    "from activities_activity a join accounts_user u on u.id = a.advisor_id "
    "left join places_place p on p.id = a.place_id "
    "where a.structure_id = %s and a.deleted_at is null and a.date >= %s and a.date <= %s "
    "and a.themes like %s order by a.date desc, a.id desc limit 50"
)
RAW_COUNT = (
    "select count(*) from activities_activity a where a.structure_id = %s "
    "and a.deleted_at is null and a.date >= %s and a.date <= %s and a.themes like %s"
)


def run(timed, fmt) -> tuple[str, list[str]]:
    from lien.activities.selectors import activity_list

    structure = fixtures.town("bench-cra", "21779988200014")
    place_list = fixtures.places(structure, PLACES)
    users = build(structure, place_list)
    params = [structure.pk, *PERIOD, f"%{taxonomy.contains(THEME)}%"]

    def orm():
        qs = activity_list(structure, period_start=PERIOD[0], period_end=PERIOD[1], theme=THEME)
        return len(list(qs[:50])), qs.count()

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(RAW_PAGE, params)
            rows = cursor.fetchall()
            cursor.execute(RAW_COUNT, params)
            return len(rows), cursor.fetchone()[0]

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(users[0])
    device = TOTPDevice.objects.create(user=users[0], name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    url = (
        f"/equipe/{structure.slug}/activites/?du={PERIOD[0]:%Y-%m-%d}&au={PERIOD[1]:%Y-%m-%d}"
        f"&theme={THEME}"
    )

    def page():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response

    found = orm()
    assert found == raw(), (found, raw())
    orm_ms, raw_ms, page_ms = timed(orm), timed(raw), timed(page)
    from statistics import median

    lines = [
        f"{ACTIVITIES:,} activities, {Accompaniment.objects.count():,} accompaniments; "
        f"filter: {PERIOD[0]} to {PERIOD[1]}, theme {THEME} → {found[1]:,} matches",
        f"activity_list page + count (ORM)  {fmt(orm_ms)}",
        f"raw SQL baseline (same 2 queries) {fmt(raw_ms)}",
        f"whole HTTP page (test client)     {fmt(page_ms)}",
        f"ratio ORM / baseline              {median(orm_ms) / median(raw_ms):.1f}x",
    ]
    return f"Activity list, {ACTIVITIES:,} activities (period and theme filter)", lines
