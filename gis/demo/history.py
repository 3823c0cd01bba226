"""The hotline's month before the demo day (热线历史), a step of ``gis.demo.load_demo``.

The days of :func:`gis.demo.month.history_days` are stored through the bulk intake; then
every case of the month and of the demo day is taken through the 12345 loop as far as its
age allows at the end of the demo day (:mod:`gis.demo.handling`). Its columns, event log
and extension requests are written as :mod:`gis.incidents.workflow` writes them, in place
of the intake's import events; a case someone has worked on since (an event by anyone but
the demo) is left as it is. Idempotent: once the month is there, nothing is added.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from psycopg import Connection
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.demo.casework import Case, Clock, Life, Request
from gis.demo.handling import Desk, live
from gis.demo.hotline import DEMO_ACTOR, HOTLINE_DAY, ingest_demo
from gis.demo.incidents import CHANNEL_PREFIX
from gis.demo.month import history_days, month_reports
from gis.incidents.due import local_zone
from gis.settings import get_settings

ROW_COLUMNS = (
    "status",
    "handled_directly",
    "unit_code",
    "handler",
    "dispatched_at",
    "accept_due_at",
    "accepted_at",
    "replied_at",
    "reply",
    "urge_count",
    "reopen_count",
    "due_at",
    "closed_at",
    "callback_at",
    "rating",
)
ROW_STAGE = """CREATE TEMP TABLE demo_case_rows (
  id bigint, status text, handled_directly bool, unit_code text, handler text,
  dispatched_at timestamptz, accept_due_at timestamptz, accepted_at timestamptz,
  replied_at timestamptz, reply text, urge_count smallint, reopen_count smallint,
  due_at timestamptz, closed_at timestamptz, callback_at timestamptz, rating smallint
) ON COMMIT DROP"""
EVENT_COLUMNS = (
    "incident_id, district_code, at, actor, kind, from_status, to_status, unit_code, note, detail"
)
REQUEST_COLUMNS = (
    "id, incident_id, district_code, kind, state, unit_code, days, reason, asked_by, asked_at,"
    " decided_by, decided_at, decision_note"
)
CASES = """
SELECT r.id, r.external_id, r.district_code, r.received_at, r.channel, r.category_code,
       a.match, a.street_code, a.community_code, r.handled_directly, r.closed_at,
       r.callback_at, r.rating
FROM incident_reports r JOIN incident_assignments a ON a.incident_id = r.id
WHERE r.external_id ~ :pattern
  AND NOT EXISTS (SELECT FROM incident_events e WHERE e.incident_id = r.id AND e.actor <> :demo)
ORDER BY r.id
"""


def demo_ids(days: Iterable[date]) -> str:
    """A regular expression matching the external ids of the demo's reports of ``days``."""
    prefixes = "|".join(CHANNEL_PREFIX.values())
    return f"^({prefixes})-({'|'.join(f'{d:%Y%m%d}' for d in days)})-[0-9]+$"


def demo_moment() -> datetime:
    """The moment the demo stands at: the end of the demo day."""
    return datetime.combine(HOTLINE_DAY, time(23, 59, 59), tzinfo=local_zone())


def load_history(session: Session, seed: int) -> Mapping[str, int]:
    """Store the month before the demo day and the month's and the demo day's cases as far
    as they got, unless the month is there already; counts what was added."""
    days = history_days()
    there = session.execute(
        text("SELECT EXISTS (SELECT FROM incident_reports WHERE external_id ~ :p)"),
        {"p": demo_ids(days)},
    ).scalar_one()
    if there:
        return {"incidents": 0}
    added = ingest_demo(session, month_reports(seed, days))
    desk = _desk(session, seed)
    rows = session.execute(
        text(CASES), {"pattern": demo_ids([*days, HOTLINE_DAY]), "demo": DEMO_ACTOR}
    ).all()
    lives = [live(Case(*row), desk) for row in rows]
    events = write_lives(session, lives)
    return {"incidents": added, "incident events": events}


def _desk(session: Session, seed: int) -> Desk:
    clocks = {
        str(code): Clock(int(days), str(cls), str(unit))
        for code, days, cls, unit in session.execute(
            text(
                "SELECT code, due_working_days, accept_class, default_unit_code"
                " FROM incident_categories WHERE default_unit_code IS NOT NULL"
            )
        )
    }
    units = frozenset(session.execute(text("SELECT code FROM units WHERE active")).scalars())
    return Desk(seed, clocks, units, get_settings().loop, demo_moment(), local_zone())


def _copy(conn: Connection[Any], target: str, rows: Iterable[Sequence[Any]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _detail(detail: dict[str, Any]) -> str:
    """The detail as JSON, a request named by its id."""
    return json.dumps(
        detail, ensure_ascii=False, default=lambda o: o.id if isinstance(o, Request) else o
    )


def _events(lives: Sequence[Life]) -> Iterator[tuple[Any, ...]]:
    for life in lives:
        c = life.case
        for e in life.events:
            yield (
                c.id,
                c.district_code,
                e.at,
                e.actor,
                e.kind,
                e.from_status,
                e.to_status,
                e.unit_code,
                e.note,
                _detail(e.detail),
            )


def _requests(lives: Sequence[Life]) -> Iterator[tuple[Any, ...]]:
    for life in lives:
        for r in life.requests:
            yield (
                r.id,
                life.case.id,
                life.case.district_code,
                "extension",
                r.state,
                r.unit_code,
                r.days,
                r.reason,
                r.asked_by,
                r.asked_at,
                r.decided_by,
                r.decided_at,
                r.decision_note,
            )


def write_lives(session: Session, lives: Sequence[Life]) -> int:
    """Replace the cases' columns, events and requests by their lives'; the events written."""
    ids = [life.case.id for life in lives]
    conn: Connection[Any] = session.connection().connection.driver_connection  # type: ignore[assignment]
    requests = [r for life in lives for r in life.requests]
    with conn.cursor() as cur:
        cur.execute("DELETE FROM incident_events WHERE incident_id = ANY(%s)", (ids,))
        cur.execute("DELETE FROM incident_requests WHERE incident_id = ANY(%s)", (ids,))
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('incident_requests', 'id'))"
            " FROM generate_series(1, %s)",
            (len(requests),),
        )
        for request, (new_id,) in zip(requests, cur.fetchall(), strict=True):
            request.id = int(new_id)
        cur.execute(ROW_STAGE)
    # A case the hotline answered itself keeps the columns the intake stored.
    _copy(
        conn,
        f"demo_case_rows (id, {', '.join(ROW_COLUMNS)})",
        (
            (life.case.id, *(getattr(life.row, c) for c in ROW_COLUMNS))
            for life in lives
            if not life.case.handled_directly
        ),
    )
    with conn.cursor() as cur:
        cur.execute(
            f"UPDATE incident_reports r SET {', '.join(f'{c} = s.{c}' for c in ROW_COLUMNS)}"
            " FROM demo_case_rows s WHERE r.id = s.id"
        )
        cur.execute("DROP TABLE demo_case_rows")
    _copy(conn, f"incident_events ({EVENT_COLUMNS})", _events(lives))
    _copy(conn, f"incident_requests ({REQUEST_COLUMNS})", _requests(lives))
    return sum(len(life.events) for life in lives)
