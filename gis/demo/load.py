"""Write the demo city to a database in one transaction, fast (COPY), once.

A second ``load_demo`` finds the demo's boundary version and changes nothing. A
database holding boundaries from elsewhere (an import) is left alone: Conflict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import shapely
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis.boundaries import ancestor_code
from gis.classify import ATTRIBUTES, recompute_classes, stored_counts
from gis.coverage.circles import refresh_service_areas
from gis.db import make_engine, session_scope
from gis.demo import plan
from gis.demo.build import city_for
from gis.demo.categories import CATEGORIES
from gis.demo.history import load_history
from gis.demo.hotline import load_hotline_day
from gis.demo.model import City
from gis.demo.summary import CHENGZHONG_SQL, COUNT_SQL, DemoSummary, counts
from gis.demo.units import store_units
from gis.errors import Conflict
from gis.models import SRID
from gis.places import refresh as refresh_place_names

DEMO_AUTHOR = "wangge demo"
DEMO_OPERATION = "demo"

# Steps run after the city is written, in the same transaction: each gets the session
# and the seed, must add nothing when its data is already there, and returns counts
# of what it added (shown in the summary).
PostLoadStep = Callable[[Session, int], Mapping[str, int]]
POST_LOAD_STEPS: list[PostLoadStep] = [
    store_units,
    load_hotline_day,
    load_history,
]


def _wkb(geom: Any) -> str:
    return str(shapely.to_wkb(shapely.set_srid(geom, SRID), hex=True, include_srid=True))


def _point(lon: float, lat: float) -> str:
    return _wkb(shapely.Point(lon, lat))


def _copy(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def _ids(session: Session, table: str, codes: Iterable[str]) -> dict[str, int]:
    wanted = list(codes)
    rows = session.execute(
        text(f"SELECT code, id FROM {table} WHERE code = ANY(:codes)"), {"codes": wanted}
    ).all()
    return {str(c): int(i) for c, i in rows}


def write_city(session: Session, city: City, version_id: int) -> None:
    v = version_id
    _copy(
        session,
        "districts",
        ("code", "name", "district_code", "geom", "version_id"),
        ((d.code, d.name, d.code, _wkb(d.geom), v) for d in city.districts),
    )
    _copy(
        session,
        "streets",
        ("code", "name", "district_code", "kind", "geom", "version_id"),
        ((s.code, s.name, s.district_code, s.kind, _wkb(s.geom), v) for s in city.streets),
    )
    attrs = ("households", *ATTRIBUTES)
    _copy(
        session,
        "communities",
        ("code", "name", "district_code", "street_code", *attrs, "geom", "version_id"),
        (
            (
                c.code,
                c.name,
                c.district_code,
                c.parent_code,
                *(c.attrs[a] for a in attrs),
                _wkb(c.geom),
                v,
            )
            for c in city.communities
        ),
    )
    _copy(
        session,
        "grids",
        (
            "code",
            "name",
            "district_code",
            "community_code",
            "street_code",
            "kind",
            "households",
            "residents",
            "worker_name",
            "geom",
            "version_id",
        ),
        (
            (
                g.code,
                g.name,
                g.district_code,
                g.parent_code,
                ancestor_code(g.code, "street"),
                g.kind,
                g.attrs.get("households", 0),
                g.attrs.get("residents", 0),
                g.worker_name,
                _wkb(g.geom),
                v,
            )
            for g in city.grids
        ),
    )
    _copy(
        session,
        "compounds",
        (
            "code",
            "name",
            "district_code",
            "community_code",
            "housing_type",
            "property_managed",
            "households",
            "residents",
            "geom",
        ),
        (
            (
                c.code,
                c.name,
                ancestor_code(c.grid_code, "district"),
                c.community_code,
                c.housing_type,
                c.managed,
                c.households,
                c.residents,
                _wkb(c.geom),
            )
            for c in city.compounds
        ),
    )
    compound_ids = _ids(session, "compounds", (c.code for c in city.compounds))
    _copy(
        session,
        "buildings",
        (
            "code",
            "district_code",
            "community_code",
            "compound_id",
            "households",
            "residents",
            "elderly_residents",
            "geom",
        ),
        (
            (
                b.code,
                ancestor_code(b.grid_code, "district"),
                b.community_code,
                compound_ids.get(b.compound_code) if b.compound_code else None,
                b.households,
                b.residents,
                b.elderly,
                _point(b.lon, b.lat),
            )
            for b in city.buildings
        ),
    )
    building_ids = _ids(
        session, "buildings", (b.building_code for b in city.branches if b.building_code)
    )
    _copy(
        session,
        "party_branches",
        (
            "kind",
            "name",
            "district_code",
            "community_code",
            "grid_code",
            "compound_id",
            "building_id",
            "secretary",
            "members",
        ),
        (
            (
                b.kind,
                b.name,
                ancestor_code(b.community_code, "district"),
                b.community_code,
                b.grid_code,
                compound_ids.get(b.compound_code) if b.compound_code else None,
                building_ids.get(b.building_code) if b.building_code else None,
                b.secretary,
                b.members,
            )
            for b in city.branches
        ),
    )
    _copy(
        session,
        "facilities",
        (
            "code",
            "type",
            "name",
            "district_code",
            "geom",
            "service_radius_m",
            "staff",
            "seats",
            "hours",
            "active",
        ),
        (
            (
                f.code,
                f.type,
                f.name,
                f.district_code,
                _point(f.lon, f.lat),
                f.radius_m,
                f.staff,
                f.seats,
                f.hours,
                True,
            )
            for f in city.facilities
        ),
    )


def store_categories(session: Session) -> int:
    """Insert the categories not yet present; returns how many were added."""
    added = 0
    for c in CATEGORIES:
        added += session.execute(  # type: ignore[attr-defined]
            text(
                "INSERT INTO incident_categories (code, name_zh, name_en, handling_unit,"
                " due_working_days, active) VALUES (:code, :name_zh, :name_en,"
                " :handling_unit, :due_working_days, true) ON CONFLICT (code) DO NOTHING"
            ),
            dict(c),
        ).rowcount
    return added


def load_demo(url: str, seed: int = 2026) -> DemoSummary:
    """Load the Xining demo city into the database at url; a second run changes nothing."""
    started = time.perf_counter()
    # A private engine, disposed at the end: nothing stays connected to the database
    # (tests clone a freshly loaded demo database as a template).
    engine = make_engine(url, pool_size=1)
    try:
        summary = _load(engine, seed)
        with engine.connect() as conn:
            refresh_place_names(conn)  # built now, so the first place search is quick
    finally:
        engine.dispose()
    summary.seconds = time.perf_counter() - started
    return summary


def _load(engine: Engine, seed: int) -> DemoSummary:
    with session_scope(engine) as session:
        # One loader at a time: a concurrent second run waits, then finds the demo there.
        session.execute(text("SELECT pg_advisory_xact_lock(20260001)"))
        existing = session.execute(
            text(
                "SELECT id FROM boundary_versions WHERE operation = :op AND author = :a"
                " ORDER BY id LIMIT 1"
            ),
            {"op": DEMO_OPERATION, "a": DEMO_AUTHOR},
        ).scalar()
        created = existing is None
        if created:
            if session.execute(text("SELECT count(*) FROM districts")).scalar_one():
                raise Conflict(
                    "the database already holds boundaries that are not the demo city;"
                    " load the demo into an empty database",
                    field="database",
                )
            city = city_for(seed)
            version_id = int(
                session.execute(
                    text(
                        "INSERT INTO boundary_versions (author, reason, operation, detail)"
                        " VALUES (:a, :r, :op, CAST(:detail AS jsonb)) RETURNING id"
                    ),
                    {
                        "a": DEMO_AUTHOR,
                        "r": "Xining demo city",
                        "op": DEMO_OPERATION,
                        "detail": f'{{"seed": {seed}}}',
                    },
                ).scalar_one()
            )
            write_city(session, city, version_id)
        else:
            version_id = int(existing)  # type: ignore[arg-type]
        categories = store_categories(session)
        added: dict[str, int] = {} if created else {"incident categories": categories}
        recompute_classes(session)
        refresh_service_areas(session, only_missing=True)  # facilities' service circles
        for step in POST_LOAD_STEPS:
            for k, n in step(session, seed).items():
                added[k] = added.get(k, 0) + int(n)
        summary = DemoSummary(
            version_id=version_id,
            created=created,
            seconds=0.0,
            counts=counts(session, COUNT_SQL),
            classes=stored_counts(session),
            chengzhong=counts(session, CHENGZHONG_SQL, d=plan.CHENGZHONG),
            added_by_steps={k: v for k, v in added.items() if v},
        )
    return summary
