"""A synthetic province (省级规模) for the scale benchmarks: the demo city and copies of it.

A bar is set at province scale (100,000 grids, 10,000,000 incidents; docs/benchmarks.md,
"Province scale"). No open data
holds a province cut into grids, so the demo city is repeated: each copy is translated by
whole city extents (never overlapping) and re-coded with its own prefecture code (``6301…``
becomes ``6302…``, ``6303…``, …), so every level keeps its real shapes, nesting and code rules.
Units, compounds, buildings, stations and party branches are all copied. Incidents are then
written straight into the tables (most closed, one in twenty open), each at a point near its
grid's interior, assigned to that grid; with ``bare_tables`` (the first load's own way) the
indexes are built once at the end.
"""

from __future__ import annotations

from typing import Any

import psycopg

from gis.db import libpq_url
from gis.incidents.first_load import bare_tables

CITY_CODE = "6301"
# One copy's step (degrees): more than the demo city's extent (1.05° by 1.24°).
STEP_X, STEP_Y = 1.2, 1.4
COLUMNS_OF_COPIES = 8
# Copied in this order (foreign keys point backwards), with their unit columns re-coded.
TABLES = (
    "districts",
    "streets",
    "communities",
    "grids",
    "compounds",
    "buildings",
    "facilities",
    "party_branches",
)
CODES = {"code", "district_code", "street_code", "community_code", "grid_code"}
GEOMETRIES = {"geom", "service_area"}
# Looked up by the copied row's code (the copies get new ids).
REFERENCES = {"compound_id": "compounds", "building_id": "buildings"}


def _recode(column: str) -> str:
    """SQL: the code in ``column`` with the city's code replaced by the copy's prefix."""
    return f"overlay({column} placing c.prefix from strpos({column}, '{CITY_CODE}'))"


def _copy_sql(conn: psycopg.Connection[Any], table: str) -> str:
    columns = [
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND table_name = %s AND column_name NOT IN ('id', 'retired_version_id')"
            " ORDER BY ordinal_position",
            (table,),
        )
    ]
    values, joins = [], []
    for name in columns:
        if name in CODES:
            values.append(_recode(f"t.{name}"))
        elif name in GEOMETRIES:
            values.append(f"ST_Translate(t.{name}, c.dx, c.dy)")
        elif name == "version_id":
            values.append("%(version)s")
        elif name in REFERENCES:
            ref = REFERENCES[name]
            joins.append(
                f"LEFT JOIN {ref} old_{name} ON old_{name}.id = t.{name}"
                f" LEFT JOIN {ref} new_{name} ON new_{name}.code = {_recode(f'old_{name}.code')}"
            )
            values.append(f"new_{name}.id")
        else:
            values.append(f"t.{name}")
    current = " AND t.valid_to IS NULL" if "valid_to" in columns else ""
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)}"
        f" FROM {table} t CROSS JOIN copies c {' '.join(joins)}"
        f" WHERE left(t.district_code, 4) = '{CITY_CODE}'"
        f"{current}"
    )


_INCIDENT_SOURCE = """
FROM generate_series(1, %(n)s) AS i
JOIN anchors a ON a.n = (i::bigint * 7919) %% (SELECT count(*) FROM anchors)
"""
# Deterministic spread around the anchor (±~20 m), status and channel from the number.
_REPORTS = f"""
INSERT INTO incident_reports (id, external_id, channel, category_code, description, geom,
                              input_crs, status, handled_directly, received_at, closed_at,
                              district_code)
SELECT %(base)s + i, 'PROVINCE-' || i, (ARRAY['hotline_call', 'wechat', 'patrol'])[1 + i %% 3],
       (SELECT array_agg(code ORDER BY code) FROM incident_categories)[1 + i %% 5], '',
       ST_SetSRID(ST_MakePoint(a.x + ((i::bigint * 48271) %% 2001 - 1000) * 2e-7,
                               a.y + ((i::bigint * 69621) %% 2001 - 1000) * 2e-7), 4490),
       'cgcs2000', CASE WHEN i %% 20 = 0 THEN 'received' ELSE 'closed' END, i %% 2 = 0,
       %(end)s::timestamptz - (i %% 1000) * interval '1 day' - (i %% 86400) * interval '1 s',
       CASE WHEN i %% 20 = 0 THEN NULL ELSE %(end)s::timestamptz END, a.district_code
{_INCIDENT_SOURCE}
"""
_ASSIGNMENTS = f"""
INSERT INTO incident_assignments (incident_id, match, distance_m, district_code, street_code,
                                  community_code, grid_code, boundary_version_id)
SELECT %(base)s + i, 'inside', 0, a.district_code, a.street_code, a.community_code, a.code,
       %(version)s
{_INCIDENT_SOURCE}
"""
_EVENTS = f"""
INSERT INTO incident_events (incident_id, district_code, at, actor, kind, to_status)
SELECT %(base)s + i, a.district_code,
       %(end)s::timestamptz - (i %% 1000) * interval '1 day' - (i %% 86400) * interval '1 s',
       'province', 'received', 'received'
{_INCIDENT_SOURCE}
"""


def grow_province(url: str, copies: int, incidents: int) -> None:
    """Make the demo city in ``url`` a province of ``copies`` cities with ``incidents`` more
    incidents (one transaction)."""
    with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE copies AS SELECT k, '63' || lpad((k + 1)::text, 2, '0') AS prefix,"
            " -%(sx)s * (k %% %(cols)s) AS dx, -%(sy)s * (k / %(cols)s) AS dy"
            " FROM generate_series(1, %(n)s - 1) AS k",
            {"sx": STEP_X, "sy": STEP_Y, "cols": COLUMNS_OF_COPIES, "n": copies},
        )
        version = cur.execute(
            "INSERT INTO boundary_versions (author, reason, operation, detail)"
            " VALUES ('bench', 'synthetic province', 'import', '{}') RETURNING id"
        ).fetchone()
        assert version is not None
        for table in TABLES:
            cur.execute(_copy_sql(conn, table), {"version": version[0]})
        cur.execute(
            "CREATE TEMP TABLE anchors AS SELECT row_number() OVER (ORDER BY code) - 1 AS n,"
            " code, community_code, street_code, district_code, ST_X(p) AS x, ST_Y(p) AS y"
            " FROM (SELECT *, ST_PointOnSurface(geom) AS p FROM grids"
            "       WHERE valid_to IS NULL) AS g"
        )
        cur.execute("CREATE INDEX ON anchors (n)")
        base = cur.execute("SELECT coalesce(max(id), 0) FROM incident_reports").fetchone()
        assert base is not None
        params = {"n": incidents, "base": base[0], "version": version[0], "end": "2026-11-18"}
        with bare_tables(cur):
            for statement in (_REPORTS, _ASSIGNMENTS, _EVENTS):
                cur.execute(statement, params)
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('incident_reports', 'id'),"
            " (SELECT max(id) FROM incident_reports))"
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
