"""The kept day figures (migration 0013) equal the figures aggregated from the reports
themselves after random writes of every kind: single intake, workflow steps (close,
callback, rating, reopen, transfer, extension, return), a merge, bulk intake (normal and
first load), hand-written SQL, deletes, and writes rolled back."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis.db import make_engine, session_scope
from gis.errors import Conflict, InvalidInput
from gis.incidents import ingest_bytes
from gis.incidents.dashboard import DENSITY_DAYS, dashboard, density
from gis.incidents.day_figures import aggregated_directly, kept
from gis.incidents.figure_cache import PAST_DAYS
from gis.incidents.intake import create_incident
from gis.incidents.rates import Scope
from gis.incidents.records import IncidentIn
from gis.incidents.workflow import Actor, Step, apply_step, merge
from tests.dashboard.conftest import BEIJING, rows

DISPATCHER = Actor("figures-test", "dispatcher")
CHANNELS = ("hotline_call", "wechat", "mayor_mailbox", "patrol")


@pytest.fixture(scope="module")
def engine(demo_copy: Callable[[], str]) -> Iterator[Engine]:
    eng = make_engine(demo_copy(), pool_size=2)
    yield eng
    eng.dispose()


def _today() -> date:
    return datetime.now(BEIJING).date()


def _points(engine: Engine, n: int) -> list[tuple[float, float]]:
    return [
        (float(x), float(y))
        for x, y in rows(
            engine,
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids"
            " WHERE valid_to IS NULL ORDER BY code LIMIT :n) q",
            n=n,
        )
    ]


def _scopes(engine: Engine) -> list[Scope]:
    districts = [r[0] for r in rows(engine, "SELECT code FROM districts WHERE valid_to IS NULL")]
    units = [
        r[0]
        for r in rows(
            engine,
            "SELECT DISTINCT unit_code FROM incident_reports"
            " WHERE unit_code IS NOT NULL ORDER BY 1 LIMIT 2",
        )
    ]
    return [Scope(), Scope(districts[0]), Scope(None, units[0]), Scope(districts[1], units[-1])]


def _figures(session: Session, day: date, scope: Scope) -> dict[str, Any]:
    figures = dashboard(session, day, scope)
    for days in DENSITY_DAYS:
        figures[f"density_{days}"] = density(session, day, days, scope)
    return figures


def _same_figures(engine: Engine, days: list[date]) -> None:
    """Every figure of each day and scope, kept and aggregated directly, is the same."""
    assert kept()
    for scope in _scopes(engine):
        for day in days:
            with Session(engine) as session:
                fast = _figures(session, day, scope)
                PAST_DAYS.clear()
                with aggregated_directly():
                    slow = _figures(session, day, scope)
            fast["open"].pop("as_of"), slow["open"].pop("as_of")  # now, read twice
            assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True), (
                day,
                scope.key(),
            )


def _new(
    rng: random.Random, points: list[tuple[float, float]], categories: list[str]
) -> IncidentIn:
    lon, lat = rng.choice(points)
    received = datetime.now(BEIJING) - timedelta(minutes=rng.randint(0, 60 * 24 * 6))
    return IncidentIn(
        channel=rng.choice(CHANNELS),
        category_code=rng.choice(categories),
        description="测试",
        lon=lon + rng.uniform(-1e-4, 1e-4),
        lat=lat + rng.uniform(-1e-4, 1e-4),
        crs="cgcs2000",
        received_at=received,
    )


PATHS: dict[str, list[Step]] = {
    "direct": [Step("closed", handled_directly=True), Step("callback", rating=5)],
    "loop": [
        Step("dispatched"),
        Step("in_progress"),
        Step("replied"),
        Step("closed"),
        Step("callback", rating=2),
        Step("reopen"),
    ],
    "returned": [Step("dispatched"), Step("return")],
    "extended": [
        Step("dispatched"),
        Step("extension_request", days=3, note="需要协调"),
        Step("extension_approve"),
        Step("urge"),
    ],
    "rated": [Step("closed", handled_directly=True), Step("rating", rating=3)],
}


def _walk(session: Session, incident_id: int, steps: list[Step]) -> None:
    for step in steps:
        try:
            with session.begin_nested():
                apply_step(session, incident_id, step, DISPATCHER)
        except (Conflict, InvalidInput):
            return  # a step the rules refuse here: the incident stays where it is


def test_kept_figures_equal_direct_aggregation_after_random_writes(engine: Engine) -> None:
    rng = random.Random(33)
    today = _today()
    days = [today - timedelta(days=i) for i in range(7)]
    _same_figures(engine, days[:2])  # the demo month as loaded
    categories = [
        r[0]
        for r in rows(
            engine, "SELECT code FROM incident_categories WHERE default_unit_code IS NOT NULL"
        )
    ]
    points = _points(engine, 40)
    created: list[int] = []
    for i in range(40):  # single intake, each its own transaction
        with session_scope(engine) as session:
            incident, _ = create_incident(session, _new(rng, points, categories), "figures-test")
            created.append(incident.id)
            if i % 2 == 0:
                _walk(session, incident.id, rng.choice(list(PATHS.values())))
    _same_figures(engine, days)

    with session_scope(engine) as session:  # a duplicate merged into another
        merge(session, created[1], created[3], DISPATCHER)
    with Session(engine) as session:  # a write rolled back leaves no trace
        create_incident(session, _new(rng, points, categories), "figures-test")
        _walk(session, created[5], PATHS["loop"])
        session.rollback()
    with session_scope(engine) as session:  # hand-written SQL and a delete
        session.execute(
            text(
                "UPDATE incident_reports SET rating = 4, callback_at = now() - interval '1 day'"
                " WHERE id = ANY(:ids) AND status = 'closed'"
            ),
            {"ids": created[:20]},
        )
        for gone in created[7:9]:  # the assignment by hand, or by the report's delete
            for table in ("incident_events", "incident_requests"):
                session.execute(text(f"DELETE FROM {table} WHERE incident_id = :i"), {"i": gone})
        session.execute(
            text("DELETE FROM incident_assignments WHERE incident_id = :i"), {"i": created[7]}
        )
        session.execute(
            text("DELETE FROM incident_reports WHERE id = ANY(:i)"), {"i": created[7:9]}
        )
        session.execute(  # a grid moved, as a boundary edit moves it
            text(
                "UPDATE incident_assignments SET grid_code = (SELECT min(code) FROM grids)"
                " WHERE incident_id = ANY(:i)"
            ),
            {"i": created[10:14]},
        )
    _same_figures(engine, days)

    for first_load in (False, True):  # bulk intake, the normal way and as a first load
        with session_scope(engine) as session:
            result = ingest_bytes(
                session,
                _bulk_csv(rng, points, categories, first_load),
                "csv",
                "figures-test",
                first_load=first_load,
            )
            assert result.stored > 0
    _same_figures(engine, days)


def _bulk_csv(
    rng: random.Random, points: list[tuple[float, float]], categories: list[str], tag: bool
) -> bytes:
    lines = [
        "external_id,channel,category_code,description,lon,lat,crs,received_at,status,"
        "handled_directly,closed_at,callback_at,rating"
    ]
    now = datetime.now(BEIJING)
    for i in range(300):
        lon, lat = rng.choice(points)
        received = now - timedelta(minutes=rng.randint(0, 60 * 24 * 6))
        status = rng.choice(("received", "closed"))
        closed: Any = received + timedelta(hours=rng.randint(1, 30)) if status == "closed" else ""
        if closed and closed > now:
            closed = now
        callback: Any = closed if closed and rng.random() < 0.5 else ""
        rating = rng.randint(1, 5) if callback else ""
        fields = [
            f"FIG-{int(tag)}-{i}",
            rng.choice(CHANNELS),
            rng.choice(categories),
            "批量",
            f"{lon:.7f}",
            f"{lat:.7f}",
            "cgcs2000",
            received.isoformat(),
            status,
            str(status == "closed" and rng.random() < 0.5).lower(),
            closed and closed.isoformat(),
            callback and callback.isoformat(),
            str(rating),
        ]
        lines.append(",".join(fields))
    return ("\n".join(lines) + "\n").encode()
