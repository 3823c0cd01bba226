"""Fixtures for the command centre: the demo city and SQL of our own to check its figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

BEIJING = ZoneInfo("Asia/Shanghai")


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


@pytest.fixture(scope="session")
def demo_month(demo_engine: Engine) -> Iterator[tuple[date, date]]:
    """The first and last local day with reports in the demo city."""
    first, last = rows(
        demo_engine,
        "SELECT min((received_at AT TIME ZONE 'Asia/Shanghai')::date),"
        " max((received_at AT TIME ZONE 'Asia/Shanghai')::date) FROM incidents",
    )[0]
    yield first, last


def window(day: date, days: int) -> tuple[datetime, datetime]:
    return day_start(day - timedelta(days=days - 1)), day_start(day + timedelta(days=1))
