"""Benchmark: place search on the demo city (run by ``make bench``; the bar is p50 ≤ 20 ms).

A few hundred mixed queries, as dispatchers type them — pieces of community names, pinyin
initials, compound names, full grid codes, code prefixes, one- and two-character
queries — each timed sequentially. Figures are printed against peers measured in the
same run on the same queries:

- HTTP: ``GET /api/v1/places/search`` against ``GET /api/v1/locate`` (the cheapest read
  of the API) at as many points, over the same keep-alive client and server.
- SQL: ``gis.places.search`` (trigram index, ranking, names above, point and box) against
  a plain ``ILIKE`` scan of the same names in the source tables (current boundaries,
  compounds, facilities in service), which knows no pinyin and computes no point or box.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

import httpx
from pypinyin import Style, lazy_pinyin
from sqlalchemy import Connection, Engine, text

from gis.places import parse_query, search
from gis.validity import boundary_valid, facility_in_service
from tests.bench.results import pytest_command, record
from tests.conftest import LiveServer

PER_KIND = 50
SEED = 2026
PEER = text(
    f"""
SELECT kind, code, name FROM (
  SELECT 'district' AS kind, code, name FROM districts WHERE {boundary_valid(None, False)}
  UNION ALL SELECT 'street', code, name FROM streets WHERE {boundary_valid(None, False)}
  UNION ALL SELECT 'community', code, name FROM communities WHERE {boundary_valid(None, False)}
  UNION ALL SELECT 'grid', code, name FROM grids WHERE {boundary_valid(None, False)}
  UNION ALL SELECT 'compound', code, name FROM compounds
  UNION ALL SELECT 'facility', code, name FROM facilities WHERE {facility_in_service(None, False)}
) p
WHERE name ILIKE :sub OR code ILIKE :prefix
ORDER BY code ILIKE :prefix DESC, length(name), code
LIMIT 20
"""
)


def queries(conn: Connection) -> list[str]:
    """The mixed queries, drawn from the demo city's own names and codes."""
    rng = random.Random(SEED)

    def pick(sql: str) -> list[str]:
        rows = list(conn.execute(text(sql)).scalars())
        return [rows[i] for i in sorted(rng.sample(range(len(rows)), min(PER_KIND, len(rows))))]

    communities = pick("SELECT name FROM communities WHERE valid_to IS NULL")
    compounds = pick("SELECT name FROM compounds")
    grids = pick("SELECT code FROM grids WHERE valid_to IS NULL")
    return (
        [n[1:-2] or n for n in communities]  # 五四巷社区 → 四巷
        + ["".join(lazy_pinyin(n, style=Style.FIRST_LETTER))[:4].lower() for n in compounds]
        + compounds
        + grids
        + [g[: rng.choice((9, 12, 13))] for g in grids]
        + [n[: rng.choice((1, 2))] for n in communities]
    )


def p50_ms(fn: Callable[[str], object], items: list[str]) -> tuple[float, float]:
    """Median and 90th percentile of ``fn`` over ``items``, in milliseconds."""
    times = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - started) * 1000)
    deciles = statistics.quantiles(times, n=10)
    return statistics.median(times), deciles[-1]


def test_place_search_vs_locate_and_an_ilike_scan(
    demo_engine: Engine, demo_server: LiveServer, demo_tokens: dict[str, str]
) -> None:
    with demo_engine.connect() as conn:
        mixed = queries(conn)
        points = [
            f"{x},{y}"
            for x, y in conn.execute(
                text(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p"
                    " FROM grids WHERE valid_to IS NULL ORDER BY code LIMIT :n) g"
                ),
                {"n": len(mixed)},
            )
        ]
    headers = {"Authorization": f"Bearer {demo_tokens['viewer']}"}
    found = 0
    with httpx.Client(base_url=demo_server.base_url, headers=headers, timeout=30) as http:

        def over_http(q: str) -> None:
            nonlocal found
            r = http.get("/api/v1/places/search", params={"q": q})
            assert r.status_code == 200, (q, r.text)
            found += bool(r.json()["items"])

        def locate(point: str) -> None:
            lon, lat = point.split(",")
            assert http.get("/api/v1/locate", params={"lon": lon, "lat": lat}).status_code == 200

        over_http(mixed[0])  # warm: the index current, the pools open
        locate(points[0])
        found = 0
        http_ours, http_ours_p90 = p50_ms(over_http, mixed)
        http_peer, http_peer_p90 = p50_ms(locate, points)
    with demo_engine.connect() as conn:
        sql_ours, sql_ours_p90 = p50_ms(lambda q: search(conn, parse_query(q)), mixed)
        conn.rollback()

        def ilike(q: str) -> None:
            like = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            with conn.begin():
                conn.execute(PEER, {"sub": f"%{like}%", "prefix": f"{like}%"}).all()

        sql_peer, sql_peer_p90 = p50_ms(ilike, mixed)
    print(
        f"\nplace search, {len(mixed)} mixed queries ({found} with answers):"
        f"\n  HTTP  search p50 {http_ours:.2f} ms (p90 {http_ours_p90:.2f}); locate p50"
        f" {http_peer:.2f} ms (p90 {http_peer_p90:.2f}): search/locate {http_ours / http_peer:.2f}×"
        f"\n  SQL   search p50 {sql_ours:.2f} ms (p90 {sql_ours_p90:.2f}); ILIKE scan p50"
        f" {sql_peer:.2f} ms (p90 {sql_peer_p90:.2f}): ILIKE/search {sql_peer / sql_ours:.2f}×"
        f"\n  bar: search p50 ≤ 20 ms over HTTP"
    )
    record(
        "places_search",
        http_ours,
        "ms",
        "`GET /api/v1/locate` over HTTP in the same run",
        http_peer,
        http_peer / http_ours,
        title=f"place search over HTTP, p50 of {len(mixed)} mixed queries, demo city",
        command=pytest_command(__file__),
        bar="≤ 20 ms",
        met=http_ours <= 20,
        sql_ms=sql_ours,
        ilike_sql_ms=sql_peer,
    )
    assert found > len(mixed) * 0.9
