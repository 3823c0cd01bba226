"""GET /metrics over real HTTP: requests by route template and status, latency, the app's
gauges; refused to addresses not allowed; and the request id echoed."""

from __future__ import annotations

import math

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gis.settings import Settings
from tests.conftest import LiveServer
from tests.events.sse import Stream


def scrape(http: httpx.Client, admin: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = http.get("/metrics", headers=bearer(admin))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def requests_of(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], route: str, status: str
) -> float:
    key = ("wangge_http_requests_total", (("method", "GET"), ("route", route), ("status", status)))
    return samples.get(key, 0.0)


def gauge(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return samples[(name, ())]


def test_requests_are_counted_by_route_template_and_status(
    http: httpx.Client, tokens: dict[str, str]
) -> None:
    before = scrape(http, tokens["admin"])
    for _ in range(3):
        assert http.get("/health").status_code == 200
    missing = http.get("/api/v1/incidents/987654321", headers=bearer(tokens["viewer"]))
    assert missing.status_code == 404
    assert http.get("/no/such/thing").status_code == 404
    after = scrape(http, tokens["admin"])

    assert requests_of(after, "/health", "200") - requests_of(before, "/health", "200") == 3
    template = "/api/v1/incidents/{incident_id}"
    assert requests_of(after, template, "404") - requests_of(before, template, "404") == 1
    unmatched = requests_of(after, "(unmatched)", "404") - requests_of(before, "(unmatched)", "404")
    assert unmatched == 1
    # Raw paths never become labels: the number of series stays bounded.
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any(r and ("987654321" in r or "no/such" in r) for r in routes)

    count = (
        "wangge_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/health")),
    )
    assert after[count] - before.get(count, 0.0) == 3
    inf = (
        "wangge_http_request_duration_seconds_bucket",
        (("le", "+Inf"), ("method", "GET"), ("route", "/health")),
    )
    assert after[inf] == after[count]

    assert gauge(after, "wangge_database_primary") == 1
    assert gauge(after, "wangge_replication_lag_seconds") == 0
    assert gauge(after, "wangge_assigner_snapshot_age_seconds") >= 0
    assert not math.isnan(gauge(after, "wangge_assigner_load_seconds"))
    assert gauge(after, "wangge_db_pool_size") >= 1


def test_pool_use_is_the_connections_checked_out(
    live_server: LiveServer, http: httpx.Client, tokens: dict[str, str]
) -> None:
    idle = gauge(scrape(http, tokens["admin"]), "wangge_db_pool_in_use")
    # The server runs in this process: a connection taken from its pool shows in the gauge.
    with live_server.app.state.engine.connect():
        assert gauge(scrape(http, tokens["admin"]), "wangge_db_pool_in_use") == idle + 1
    assert gauge(scrape(http, tokens["admin"]), "wangge_db_pool_in_use") == idle


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_open_event_streams_are_counted(live_server: LiveServer, tokens: dict[str, str]) -> None:
    with live_server.client() as http:
        before = gauge(scrape(http, tokens["admin"]), "wangge_sse_clients")
        with live_server.client() as other, Stream(other, headers=bearer(tokens["viewer"])) as s:
            s.next()
            assert gauge(scrape(http, tokens["admin"]), "wangge_sse_clients") == before + 1


def test_metrics_need_an_admin_token_unless_the_address_is_allowed(
    http: httpx.Client, database_url: str, tokens: dict[str, str]
) -> None:
    # By default no address is allowed: this machine too needs an admin token.
    assert http.get("/metrics").status_code == 401
    assert http.get("/metrics", headers=bearer(tokens["dispatcher"])).status_code == 403
    assert http.get("/metrics", headers=bearer(tokens["admin"])).status_code == 200

    for allow, status in ((["10.0.0.0/8"], 401), (["10.0.0.0/8", "127.0.0.1"], 200)):
        settings = Settings(database_url=database_url, metrics_allow=allow)
        with LiveServer(database_url, settings) as server, server.client() as scraper:
            response = scraper.get("/metrics")
            assert response.status_code == status, (allow, response.text[:200])
    assert "wangge_http_requests_total" in response.text


def test_every_response_carries_a_request_id(http: httpx.Client) -> None:
    given = http.get("/health", headers={"X-Request-ID": "desk-7f3a.1"})
    assert given.headers["x-request-id"] == "desk-7f3a.1"
    made = {http.get("/health").headers["x-request-id"] for _ in range(2)}
    assert len(made) == 2 and all(len(m) == 32 for m in made)
    # An id that could forge log lines or headers is replaced, not echoed.
    forged = http.get("/health", headers={"X-Request-ID": 'x" injected'})
    assert forged.headers["x-request-id"] != 'x" injected'
    refused = http.get("/no/such", headers={"X-Request-ID": "lost-1"})
    assert refused.headers["x-request-id"] == "lost-1"


def test_health_says_which_node_this_is(http: httpx.Client) -> None:
    body = http.get("/health").json()
    assert body["role"] == "primary"
    assert body["replication_lag_s"] == 0 and body["standbys"] == 0
