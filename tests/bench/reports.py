"""Synthetic hotline reports for the benchmarks: points around grid interiors (some cross
edges or fall just outside), categories, channels and times, written as a CSV file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import psycopg
import shapely
from sqlalchemy import Engine

from gis.assign import Assigner
from gis.db import libpq_url, session_scope
from gis.incidents import ingest_bytes

CATEGORIES = ("property_services", "consumer_rights", "noise", "heating", "sanitation")
CHANNELS = ("hotline_call", "wechat", "patrol")


def write_reports_csv(engine: Engine, n: int, path: Path, seed: int = 2026) -> Path:
    """``n`` reports over the city at ``engine``, received over two weeks, as CSV."""
    grids = Assigner.load(engine).snapshot.grid_geom
    rng = np.random.default_rng(seed)
    anchors = shapely.get_coordinates(shapely.point_on_surface(grids))
    pick = rng.integers(0, len(anchors), n)
    lon = anchors[pick, 0] + rng.normal(0, 0.0015, n)
    lat = anchors[pick, 1] + rng.normal(0, 0.0012, n)
    start = np.datetime64("2026-11-02T00:00:00")
    frame = pl.DataFrame(
        {
            "external_id": pl.Series([f"BULK-{i:08d}" for i in range(n)]),
            "channel": np.array(CHANNELS)[rng.integers(0, len(CHANNELS), n)],
            "category_code": np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)],
            "description": "市民反映相关问题，请尽快核实处理",
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
            "crs": "cgcs2000",
            "received_at": (start + rng.integers(0, 14 * 86400, n).astype("timedelta64[s]")).astype(
                "datetime64[us]"
            ),
        }
    )
    frame.write_csv(path, datetime_format="%Y-%m-%dT%H:%M:%S+08:00")
    return path


def load_reports(url: str, engine: Engine, n: int, folder: Path, sql: str = "") -> None:
    """``n`` reports written by :func:`write_reports_csv` stored as a first load into the
    database at ``url``, then ``sql`` (statements separated by ``;`` and a line end) run."""
    path = write_reports_csv(engine, n, folder / "reports.csv")
    with session_scope(engine) as session:
        ingest_bytes(session, path.read_bytes(), "csv", "bench", first_load=True)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for statement in sql.split(";\n"):
            if statement.strip():
                conn.execute(statement)
