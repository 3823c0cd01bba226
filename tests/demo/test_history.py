"""The demo's month of hotline history: thirty days shaped like the hotline's, every case as
far through the 12345 loop as its age allows, its event log agreeing with its columns."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Row, text
from sqlalchemy.orm import Session

from gis.db import make_engine
from gis.demo import load_demo
from gis.demo.history import demo_ids, demo_moment
from gis.demo.hotline import HOTLINE_DAY
from gis.demo.month import day_shape, history_days
from gis.incidents.due import is_working_day, local_date, local_zone
from gis.incidents.report import daily_report
from gis.incidents.workflow import RULES
from tests.demo.replay import COLUMNS, Logged, replay, step_of

MONTH = history_days()
MOMENT = demo_moment()
PUBLISHED = 899  # reports of the published day
REPORTS = f"""
SELECT i.id, i.external_id, i.channel, i.category_code, i.received_at,
       {", ".join(f"i.{c}" for c in COLUMNS)}, c.due_working_days, c.accept_class
FROM incidents i JOIN incident_categories c ON c.code = i.category_code
WHERE i.external_id ~ :p ORDER BY i.id
"""


def _reports(engine: Engine) -> list[Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(text(REPORTS), {"p": demo_ids([*MONTH, HOTLINE_DAY])}))


@pytest.fixture(scope="module")
def reports(demo_engine: Engine) -> list[Row[Any]]:
    return _reports(demo_engine)


def _day(r: Row[Any]) -> date:
    return local_date(r.received_at)


def test_thirty_days_before_the_demo_day(reports: list[Row[Any]]) -> None:
    assert len(MONTH) == 30 and MONTH[-1] == HOTLINE_DAY - timedelta(days=1)
    by_day: dict[date, list[Row[Any]]] = defaultdict(list)
    for r in reports:
        by_day[_day(r)].append(r)
    assert sorted(by_day) == [*MONTH, HOTLINE_DAY]
    assert len(by_day[HOTLINE_DAY]) == PUBLISHED
    working: list[int] = []
    resting: list[int] = []
    for day in MONTH:
        rows = by_day[day]
        (working if is_working_day(day) else resting).append(len(rows))
        low, high = (0.75, 1.3) if is_working_day(day) else (0.45, 0.85)
        assert low * PUBLISHED <= len(rows) <= high * PUBLISHED, day
        calls = [r for r in rows if r.channel == "hotline_call"]
        assert 0.9 < len(calls) / len(rows) < 0.97, day  # the rest are messages
        direct = sum(r.handled_directly for r in calls) / len(calls)
        assert 0.44 < direct < 0.56, day
        assert not any(r.handled_directly for r in rows if r.channel != "hotline_call")
        # The topics of the published day lead on ordinary days too.
        top = {code for code, _ in Counter(r.category_code for r in rows).most_common(3)}
        assert top == {"property_services", "consumer_rights", "noise"}, day
    assert sum(working) / len(working) > 1.3 * sum(resting) / len(resting)


def test_holidays_are_quieter_and_make_up_workdays_busy() -> None:
    def calls(day: date) -> int:
        return day_shape(2026, day).channels["hotline_call"]

    national_day, sunday = date(2026, 10, 1), date(2026, 10, 11)  # a Thursday, a Sunday
    make_up, thursday = date(2026, 10, 10), date(2026, 10, 15)  # a Saturday worked (调休)
    assert calls(national_day) < 0.85 * calls(sunday) < 0.85 * calls(make_up)
    assert 0.85 < calls(make_up) / calls(thursday) < 1.15


def test_calls_come_as_a_hotline_s_do(reports: list[Row[Any]]) -> None:
    zone = local_zone()
    hours = Counter(
        r.received_at.astimezone(zone).hour
        for r in reports
        if r.channel == "hotline_call" and _day(r) != HOTLINE_DAY
    )
    total = sum(hours.values())
    morning = max(range(6, 12), key=lambda h: hours[h])
    afternoon = max(range(13, 19), key=lambda h: hours[h])
    assert 9 <= morning <= 11 and 14 <= afternoon <= 16
    assert hours[12] < 0.8 * min(hours[morning], hours[afternoon])  # the lunch dip
    night = sum(hours[h] for h in range(0, 6))
    assert 0 < night < 0.03 * total  # a 24-hour hotline: a few calls at night
    assert hours[10] > 10 * hours[3]
    assert hours[20] < 0.6 * hours[afternoon]


def test_old_cases_are_closed_recent_ones_open(reports: list[Row[Any]]) -> None:
    by_day: dict[date, list[Row[Any]]] = defaultdict(list)
    for r in reports:
        if not r.handled_directly:
            by_day[_day(r)].append(r)
        else:
            assert r.status == "closed" and r.unit_code is None
    old = [r for day in MONTH[:14] for r in by_day[day]]
    assert sum(r.status == "closed" for r in old) / len(old) > 0.97
    closed = {d: sum(r.status == "closed" for r in by_day[d]) / len(by_day[d]) for d in MONTH}
    assert closed[MONTH[-1]] < 0.3 and closed[MONTH[-2]] < 0.5
    assert closed[MONTH[-1]] < closed[MONTH[-5]] < closed[MONTH[-12]]
    # The demo day's cases went as far as a day allows: accepted, a few answered, none closed.
    today = Counter(r.status for r in by_day[HOTLINE_DAY])
    assert today["closed"] == 0
    assert today["in_progress"] > today["dispatched"] > 0 and today["replied"] > 0


def test_overdue_cases(reports: list[Row[Any]]) -> None:
    transferred = [r for r in reports if not r.handled_directly]
    open_late = [r for r in transferred if r.status != "closed" and r.due_at < MOMENT]
    closed_late = [r for r in transferred if r.closed_at is not None and r.closed_at > r.due_at]
    assert 0 < len(open_late) < 0.02 * len(transferred)
    assert all(r.urge_count > 0 for r in open_late if r.due_at < MOMENT - timedelta(days=1))
    closed = [r for r in transferred if r.closed_at is not None]
    assert 0.02 * len(closed) < len(closed_late) < 0.15 * len(closed)


def test_every_turn_of_the_loop_occurs(demo_engine: Engine, reports: list[Row[Any]]) -> None:
    ids = [r.id for r in reports]
    with demo_engine.connect() as conn:
        steps = Counter(
            (kind, step)
            for kind, step in conn.execute(
                text(
                    "SELECT kind, coalesce(detail->>'step', detail->>'approved')"
                    " FROM incident_events WHERE incident_id = ANY(:ids)"
                ),
                {"ids": ids},
            )
        )
        states = Counter(
            str(state)
            for (state,) in conn.execute(
                text("SELECT state FROM incident_requests WHERE incident_id = ANY(:ids)"),
                {"ids": ids},
            )
        )
        kinds = {
            str(kind)
            for (kind,) in conn.execute(
                text(
                    "SELECT DISTINCT u.kind FROM incidents i JOIN units u ON u.code = i.unit_code"
                    " WHERE i.id = ANY(:ids)"
                ),
                {"ids": ids},
            )
        }
    transferred = sum(not r.handled_directly for r in reports)
    for turn in ("return", "transfer", "reopen"):
        assert 0 < steps["transition", turn] < 0.08 * transferred, turn
    assert steps["transition", "accept"] > 0.9 * transferred
    assert steps["extension_decision", "true"] > steps["extension_decision", "false"] > 0
    assert steps["urge", None] > 0 and steps["handler", None] > 0 and steps["rating", None] > 0
    assert states["approved"] > states["refused"] > 0
    assert kinds == {"department", "street_office", "community"}
    assert {r.rating for r in reports} == {None, 1, 2, 3, 4, 5}
    ratings = Counter(r.rating for r in reports if r.rating is not None)
    assert ratings[4] + ratings[5] > 0.7 * ratings.total()
    assert 0 < ratings[1] + ratings[2] < 0.1 * ratings.total()
    # Transferred cases are called back the day after closing.
    closed = [r for r in reports if r.status == "closed" and not r.handled_directly]
    called = [r for r in closed if r.callback_at is not None]
    assert all(local_date(r.callback_at) == local_date(r.closed_at) + timedelta(1) for r in called)
    assert len(called) > 0.8 * len(closed)


def _events(engine: Engine, ids: list[int]) -> dict[int, list[Logged]]:
    logs: dict[int, list[Logged]] = defaultdict(list)
    with engine.connect() as conn:
        for incident_id, *fields in conn.execute(
            text(
                "SELECT incident_id, at, actor, kind, from_status, to_status, unit_code, note,"
                " detail FROM incident_events WHERE incident_id = ANY(:ids) ORDER BY at, id"
            ),
            {"ids": ids},
        ):
            logs[incident_id].append(Logged(*fields))
    return logs


def test_event_logs_replay_to_the_rows(demo_engine: Engine, reports: list[Row[Any]]) -> None:
    with demo_engine.connect() as conn:
        turned = {
            int(i)
            for (i,) in conn.execute(
                text(
                    "SELECT DISTINCT incident_id FROM incident_events WHERE incident_id = ANY(:ids)"
                    " AND (kind LIKE 'extension%' OR kind = 'rating'"
                    " OR detail->>'step' IN ('return', 'transfer', 'reopen'))"
                ),
                {"ids": [r.id for r in reports]},
            )
        }
        requests = {
            int(r.id): r
            for r in conn.execute(
                text("SELECT * FROM incident_requests WHERE incident_id = ANY(:ids)"),
                {"ids": list(turned)},
            )
        }
    sample = [r for r in reports if r.id in turned or r.id % 23 == 0]
    logs = _events(demo_engine, [r.id for r in sample])
    seen: set[int] = set()
    for r in sample:
        log = logs[r.id]
        replayed = replay(log, r.received_at, r.due_working_days, r.accept_class)
        assert replayed == {c: getattr(r, c) for c in COLUMNS}, r.external_id
        for e in log:
            if not (r.handled_directly and e.kind == "callback"):  # as the intake has it
                assert e.at <= MOMENT, r.external_id
            hotline = e.actor.startswith("12345 dispatcher ")
            assert hotline == (e.kind == "received" or RULES[step_of(e)].by == "dispatcher"), e
            if "request" in e.detail:
                q = requests[e.detail["request"]]
                seen.add(q.id)
                assert (q.incident_id, q.unit_code) == (r.id, e.unit_code)
                if e.kind == "extension_request":
                    assert (q.asked_at, q.asked_by, q.reason) == (e.at, e.actor, e.note)
                    assert e.detail["days"] == q.days
                else:
                    assert (q.decided_at, q.decided_by, q.decision_note) == (e.at, e.actor, e.note)
                    assert q.state == ("approved" if e.detail["approved"] else "refused")
    assert seen == set(requests)
    assert all((q.state == "pending") == (q.decided_at is None) for q in requests.values())


def test_the_demo_day_keeps_its_figures(demo_engine: Engine) -> None:
    with Session(demo_engine) as session:
        report = daily_report(session, HOTLINE_DAY)
    assert (report["calls"], report["messages"]["total"], report["total"]) == (843, 56, 899)
    assert (report["handled_directly"], report["transferred"], report["callbacks"]) == (
        425,
        418,
        246,
    )
    top = [(c["code"], c["count"]) for c in report["top_categories"][:3]]
    assert top == [("property_services", 63), ("consumer_rights", 43), ("noise", 41)]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("incident_reports", "incident_events", "incident_requests")
        }


def _digest(engine: Engine, days: list[date]) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                text(
                    "SELECT r.external_id, r.status, r.unit_code, e.at, e.actor, e.kind,"
                    " e.detail - 'request' FROM incident_reports r"
                    " JOIN incident_events e ON e.incident_id = r.id"
                    " WHERE r.external_id ~ :p ORDER BY r.external_id, e.at, e.id"
                ),
                {"p": demo_ids(days)},
            )
        ]


def test_a_second_run_adds_nothing_and_a_lost_month_comes_back(
    demo_copy: Callable[[], str],
) -> None:
    url = demo_copy()
    engine = make_engine(url, pool_size=1)
    try:
        before = _counts(engine)
        summary = load_demo(url)
        assert summary.added_by_steps == {} and _counts(engine) == before
        month, today = _digest(engine, MONTH), _digest(engine, [HOTLINE_DAY])
        with engine.begin() as conn:
            conn.execute(
                text("DELETE FROM incident_reports WHERE external_id ~ :p"), {"p": demo_ids(MONTH)}
            )
        again = load_demo(url)
        assert again.added_by_steps["incidents"] == len({m[0] for m in month})
        # The same month, drawn from the same seed; the demo day's cases, handled by then,
        # are left as they were.
        assert _digest(engine, MONTH) == month and _digest(engine, [HOTLINE_DAY]) == today
        assert _counts(engine) == before
    finally:
        engine.dispose()
