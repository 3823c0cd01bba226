"""Hotspots (热点网格): the grids where reports cluster more than chance over a period.

Reports received in ``[since, until)`` are counted per current grid (optionally of one
category, district or responsible unit), and each grid gets the Getis-Ord Gi* statistic
(PySAL ``esda.G_Local`` with ``star=True``, binary queen weights of
:mod:`gis.incidents.grid_layout`): its z-score says how far the count of the grid and its
neighbours together lies above (hot) or below (cold) what chance spreads over the grids,
and a seeded conditional permutation test gives the pseudo p-value (one-sided, in the
direction of z: the share of random draws of the neighbours' counts as extreme). A grid
is ``hot`` when z > 1.96 and p <= 0.05, ``cold`` when z < -1.96 and p <= 0.05. A grid
with no neighbour has no cluster to be part of: it is left out of the statistic and
reported with z 0, p 1.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.incidents.due import local_zone
from gis.incidents.grid_layout import GridLayout, grid_layout
from gis.models import District, Incident, IncidentCategory, Unit
from gis.validity import boundary_current, boundary_valid_clause

DEFAULT_DAYS = 30
Z_CRITICAL = 1.96
SIGNIFICANCE = 0.05
PERMUTATIONS = 999
SEED = 12345  # the same counts give the same p-values
CLASSES = ("hot", "cold", "not_significant")


@dataclass(frozen=True)
class HotspotQuery:
    """What is counted: the period and the optional filters, each checked against the data."""

    since: datetime
    until: datetime
    category: str | None = None
    district: str | None = None
    unit: str | None = None


def parse_time(value: str, field: str) -> datetime:
    """An ISO 8601 date or time; without an offset it is the hotline's local time."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(
            f"{field} must be an ISO 8601 date or time such as 2026-11-01 or "
            f"2026-11-01T08:00:00+08:00, got {value!r}",
            field=field,
        ) from exc
    return when if when.tzinfo else when.replace(tzinfo=local_zone())


def _known(session: Session, field: str, value: str) -> None:
    checks = {
        "category": exists().where(IncidentCategory.code == value),
        "district": exists().where(District.code == value, boundary_valid_clause(District)),
        "unit": exists().where(Unit.code == value),
    }
    # A NUL byte cannot reach PostgreSQL text: no code holds one.
    if "\x00" in value or not session.scalar(select(checks[field])):
        raise InvalidInput(f"unknown {field} {value!r}", field=field)


def hotspot_query(
    session: Session,
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    district: str | None = None,
    unit: str | None = None,
    now: datetime | None = None,
) -> HotspotQuery:
    """The query asked for: the last ``DEFAULT_DAYS`` days up to now by default; a period
    that starts in the future or ends before it starts, or an unknown category, district or
    unit, is :class:`InvalidInput` naming the field."""
    now = now or datetime.now(local_zone())
    end = parse_time(until, "until") if until is not None else now
    try:
        start = parse_time(since, "since") if since is not None else end - timedelta(DEFAULT_DAYS)
    except OverflowError as exc:  # 30 days before an until near year 1
        raise InvalidInput(f"until {until!r} is out of range", field="until") from exc
    if start > now:
        if since is None:  # the default period before an until far ahead
            raise InvalidInput(
                f"the {DEFAULT_DAYS} days before until start in the future; give since",
                field="until",
            )
        raise InvalidInput(f"since {start.isoformat()} is in the future", field="since")
    if end <= start:
        raise InvalidInput(
            f"until {end.isoformat()} must be after since {start.isoformat()}", field="until"
        )
    for field, value in (("category", category), ("district", district), ("unit", unit)):
        if value is not None:
            _known(session, field, value)
    return HotspotQuery(start, end, category, district, unit)


def grid_counts(session: Session, q: HotspotQuery, layout: GridLayout) -> np.ndarray:
    """Reports per grid of ``layout`` (in its order) matching ``q``."""
    stmt = select(Incident.grid_code, func.count()).where(
        Incident.received_at >= q.since,
        Incident.received_at < q.until,
        Incident.grid_code.is_not(None),
    )
    if q.category is not None:
        stmt = stmt.where(Incident.category_code == q.category)
    if q.district is not None:
        stmt = stmt.where(Incident.district_code == q.district)
    if q.unit is not None:
        stmt = stmt.where(Incident.unit_code == q.unit)
    position = {code: i for i, code in enumerate(layout.codes)}
    counts = np.zeros(len(layout), dtype=float)
    for code, n in session.execute(stmt.group_by(Incident.grid_code)):
        if code in position:  # a grid outside the district asked for
            counts[position[code]] = n
    return counts


def gi_star(
    counts: np.ndarray, neighbours: dict[int, list[int]], permutations: int = PERMUTATIONS
) -> tuple[np.ndarray, np.ndarray]:
    """(z, pseudo p) of Getis-Ord Gi* per position; z 0 and p 1 where it says nothing (no
    neighbour, or counts all alike)."""
    # Imported here: esda brings scipy, scikit-learn and pandas, seconds of start-up that
    # only this statistic needs.
    from esda.getisord import G_Local
    from libpysal.weights import W

    z, p = np.zeros(len(counts)), np.ones(len(counts))
    linked = [i for i in range(len(counts)) if neighbours[i]]
    if len(linked) < 3 or np.ptp(counts[linked]) == 0:
        return z, p
    at = {i: k for k, i in enumerate(linked)}
    w = W({at[i]: [at[j] for j in neighbours[i]] for i in linked}, silence_warnings=True)
    with warnings.catch_warnings():
        # esda rebuilds the weights with self-links and warns again of disconnected parts,
        # and warns of a future default of its permutation test that G_Local cannot set.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        g = G_Local(
            counts[linked],
            w,
            transform="B",
            star=True,
            permutations=permutations,
            keep_simulations=False,
            n_jobs=1,  # esda's default forks a worker pool: slower than the work itself here
            seed=SEED,
        )
    z[linked], p[linked] = g.Zs, g.p_sim
    return z, p


def classify(z: float, p: float) -> str:
    if p <= SIGNIFICANCE and z > Z_CRITICAL:
        return "hot"
    if p <= SIGNIFICANCE and z < -Z_CRITICAL:
        return "cold"
    return "not_significant"


def hotspots(session: Session, q: HotspotQuery) -> list[dict[str, Any]]:
    """Every grid (of the district asked for) with its count, Gi* z-score, pseudo p-value and
    class, the hottest first."""
    layout = grid_layout(session, q.district)
    counts = grid_counts(session, q, layout)
    z, p = gi_star(counts, layout.neighbours)
    rows: list[dict[str, Any]] = [
        {
            "grid_code": layout.codes[i],
            "grid_name": layout.names[i],
            "community": layout.communities[i],
            "community_name": layout.community_names[i],
            "district": layout.districts[i],
            "district_name": layout.district_names[i],
            "count": int(counts[i]),
            "z": round(float(z[i]), 3),
            "p": round(float(p[i]), 4),
            "class": classify(float(z[i]), float(p[i])),
        }
        for i in range(len(layout))
    ]
    rows.sort(key=lambda r: (-float(r["z"]), str(r["grid_code"])))
    return rows


_OUTLINES = text(
    "SELECT code, ST_AsGeoJSON(geom, 6) FROM grids"
    f" WHERE {boundary_current()} AND code = ANY(:codes)"
)


def hotspot_features(session: Session, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the hot and cold grids of ``rows`` (a map layer: the
    grids that are neither stay out, to keep it small)."""
    marked = {r["grid_code"]: r for r in rows if r["class"] != "not_significant"}
    outlines = {
        str(code): str(geojson)
        for code, geojson in session.execute(_OUTLINES, {"codes": list(marked)})
    }
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": code,
                "geometry": json.loads(outlines[code]),
                "properties": row,
            }
            for code, row in marked.items()
            if code in outlines
        ],
    }
