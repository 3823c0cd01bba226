"""The demo city's 12345 day (热线一日), stored through :func:`gis.incidents.ingest`.

A step of ``gis.demo.load_demo``: it runs in the demo's own transaction, before the
city is committed, so the assigner reads the layers through that transaction's
connection rather than a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis.assign import Assigner
from gis.demo.incidents import hotline_day
from gis.incidents.bulk import ingest

# The day the demo city's hotline report is about (a Wednesday, a working day).
HOTLINE_DAY = date(2026, 11, 18)
DEMO_ACTOR = "wangge demo"


class _Within:
    """Looks like an Engine to the snapshot loader, but hands out the open transaction's
    connection (isolation level and closing are the transaction's business)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @contextmanager
    def _borrowed(self) -> Iterator[Connection]:
        yield self.conn

    def connect(self) -> Any:
        outer = self

        class Borrowed:
            def execution_options(self, **_: Any) -> Any:
                return outer._borrowed()

            def __enter__(self) -> Connection:
                return outer.conn

            def __exit__(self, *_: Any) -> None:
                return None

        return Borrowed()


def load_hotline_day(session: Session, seed: int) -> Mapping[str, int]:
    """Store the demo day's reports unless they are there already; counts what was added."""
    prefix = f"%-{HOTLINE_DAY:%Y%m%d}-%"
    there = session.execute(
        text("SELECT count(*) FROM incidents WHERE external_id LIKE :p"), {"p": prefix}
    ).scalar_one()
    if there:
        return {"incidents": 0}
    return {"incidents": ingest_demo(session, hotline_day(seed, HOTLINE_DAY))}


def ingest_demo(session: Session, records: Iterable[Mapping[str, Any]]) -> int:
    """Store demo reports through the bulk intake, within the demo's transaction; how many
    were added. The demo's records are all good: a bad one is a bug, and raises."""
    assigner = Assigner.load(_Within(session.connection()))  # type: ignore[arg-type]
    result = ingest(session, records, DEMO_ACTOR, assigner)
    if result.bad_rows:
        first = result.bad_rows[0]
        raise RuntimeError(f"demo reports: row {first.row}: {first.reason}")
    return result.stored
