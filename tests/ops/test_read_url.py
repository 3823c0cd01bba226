"""Where reads and writes go: WANGGE_READ_URL takes the reads that may lag, never a write;
a database that takes no writes (a demoted primary) answers 503, and the pool heals."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest
from sqlalchemy import text

from gis.db import libpq_url, make_engine, sqlalchemy_url
from gis.settings import Settings
from tests.conftest import LiveServer, role_tokens
from tests.ops.standby import CATEGORY, POINT


def test_multi_host_urls_read_both_ways() -> None:
    libpq = "postgresql://u:p@127.0.0.1:5001,127.0.0.1:5002/wangge?target_session_attrs=read-write"
    ours = sqlalchemy_url(libpq)
    assert ours == (
        "postgresql+psycopg://u:p@/wangge?host=127.0.0.1:5001&host=127.0.0.1:5002"
        "&target_session_attrs=read-write"
    )
    assert libpq_url(ours) == libpq
    args = make_engine(ours).dialect.create_connect_args(make_engine(ours).url)[1]
    assert (args["host"], args["port"]) == ("127.0.0.1,127.0.0.1", "5001,5002")
    single = "postgresql://u:p@h:1/db?connect_timeout=3"
    assert libpq_url(sqlalchemy_url(single)) == single


def seeded(url: str) -> str:
    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incident_categories (code, name_zh, name_en, handling_unit,"
                " due_working_days, active) VALUES (:c, '物业服务', 'Property services',"
                " 'Housing bureau', 5, true)"
            ),
            {"c": CATEGORY},
        )
    engine.dispose()
    return url


def body(external_id: str) -> dict[str, object]:
    return {
        "external_id": external_id,
        "channel": "hotline_call",
        "category_code": CATEGORY,
        "description": "电梯故障",
        **POINT,
    }


@pytest.fixture(scope="module")
def two_databases(migrated_database: Callable[..., str]) -> tuple[str, str]:
    """A main and a 'read' database (as if a standby that lags far behind)."""
    return seeded(migrated_database()), seeded(migrated_database())


def test_reads_that_may_lag_go_to_the_read_url_and_writes_never(
    two_databases: tuple[str, str],
) -> None:
    main, read = two_databases
    main_token = role_tokens(main, prefix="main")["dispatcher"]
    read_token = role_tokens(read, prefix="read")["dispatcher"]
    with LiveServer(read) as alone, alone.client() as http:  # a row only the read database has
        headers = {"Authorization": f"Bearer {read_token}"}
        assert http.post("/api/v1/incidents", json=body("only-on-read"), headers=headers).is_success
    read_engine = make_engine(read, pool_size=1)
    auth = {"Authorization": f"Bearer {main_token}"}
    # Tokens are checked on the main database (their use is recorded there).
    with (
        LiveServer(main, Settings(database_url=main, read_url=read)) as server,
        server.client() as http,
    ):
        posted = http.post("/api/v1/incidents", json=body("written-on-main"), headers=auth)
        assert posted.status_code == 201, posted.text
        listed = http.get("/api/v1/incidents", headers=auth).json()["items"]
        assert [i["external_id"] for i in listed] == ["only-on-read"]
        counts = http.get("/api/v1/incidents/counts", headers=auth).json()
        assert counts["received"] == 1
        # The write path reads the main database: the same external_id again is found there.
        again = http.post("/api/v1/incidents", json=body("written-on-main"), headers=auth)
        assert again.status_code == 200
    with read_engine.connect() as conn:
        on_read = conn.execute(text("SELECT external_id FROM incident_reports")).scalars().all()
    assert on_read == ["only-on-read"]
    read_engine.dispose()


@pytest.fixture
def read_only_server(migrated_database: Callable[..., str]) -> Iterator[tuple[LiveServer, str]]:
    url = seeded(migrated_database())
    token = role_tokens(url, prefix="ro")["dispatcher"]
    with LiveServer(url) as server:
        yield server, token


def test_a_read_only_database_refuses_writes_with_503_and_the_pool_heals(
    read_only_server: tuple[LiveServer, str],
) -> None:
    server, token = read_only_server
    url = server.app.state.engine.url.render_as_string(hide_password=False)
    auth = {"Authorization": f"Bearer {token}"}
    database = url.rsplit("/", 1)[1]
    with server.client() as http:
        assert http.post("/api/v1/incidents", json=body("before"), headers=auth).status_code == 201
        # As a demoted primary: every transaction read-only, pooled connections included.
        with psycopg.connect(libpq_url(url), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
        refused = http.post("/api/v1/incidents", json=body("during"), headers=auth)
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "5"
        assert "takes no writes" in refused.json()["error"]
        with psycopg.connect(libpq_url(url), autocommit=True) as admin:
            admin.execute("SET default_transaction_read_only = off")
            admin.execute(f'ALTER DATABASE "{database}" RESET default_transaction_read_only')
        # New connections take writes again: no pooled read-only connection is lent.
        healed = http.post("/api/v1/incidents", json=body("during"), headers=auth)
        assert healed.status_code == 201, healed.text
    with make_engine(url, pool_size=1).connect() as conn:
        stored = conn.execute(
            text("SELECT external_id FROM incident_reports ORDER BY id")
        ).scalars()
        assert list(stored) == ["before", "during"]


def test_an_unreachable_database_is_a_503_too() -> None:
    dead = "postgresql+psycopg://u:p@/wangge?host=127.0.0.1:1&host=127.0.0.1:2"
    with LiveServer(dead, Settings(database_url=dead)) as server:
        r = httpx.get(server.base_url + "/api/v1/incidents", headers={"Authorization": "Bearer x"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
