"""Places open-data export: ORM code against a raw-SQL baseline writing the same rows."""

import csv
import io

from django.db import connection

from bench import fixtures
from lien.places.opendata import export_csv, export_queryset

PLACES = 1000


def raw_baseline() -> str:
    """The floor: one query for places, one for rules, csv.writer, no conversion."""
    out = io.StringIO()
    writer = csv.writer(out)
    with connection.cursor() as cursor:
        cursor.execute(
            "select p.id, p.slug, p.name, p.city, p.postcode, p.insee_code, p.address, "
            "p.latitude, p.longitude, p.phone, p.services, p.fees, s.siret, s.name "
            "from places_place p join accounts_structure s on s.id = p.structure_id "
            "where p.published order by p.name"
        )
        places = cursor.fetchall()
        cursor.execute('select place_id, weekday, start, "end", weeks from places_openingrule')
        rules: dict[int, list] = {}
        for row in cursor.fetchall():
            rules.setdefault(row[0], []).append(row[1:])
    for place in places:
        writer.writerow([*place, rules.get(place[0], [])])
    return out.getvalue()


def run(timed, fmt) -> tuple[str, list[str]]:
    structure = fixtures.town("bench-ville", "21779990700019")
    fixtures.places(structure, PLACES)
    orm = timed(lambda: export_csv(export_queryset()))
    raw = timed(raw_baseline)
    from statistics import median

    return f"Places export, {PLACES} places (CSV, national standard v1.0.1)", [
        f"export_csv(export_queryset())  {fmt(orm)}",
        f"raw SQL + csv.writer baseline   {fmt(raw)}",
        f"ratio ORM / baseline            {median(orm) / median(raw):.1f}x "
        "(the ORM path also builds model instances and the OSM hours strings)",
    ]
