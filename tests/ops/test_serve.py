"""`wangge serve` as an operator runs it: JSON log lines with the request id, and with two
workers GET /metrics adds up the requests every worker answered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import _ephemeral_port

WANGGE = [sys.executable, "-m", "api.cli"]


def wait_up(base: str, process: subprocess.Popen[str], within_s: float = 90.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("wangge serve did not answer")


def health_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "wangge_http_requests_total" and s.labels == {
                "method": "GET",
                "route": "/health",
                "status": "200",
            }:
                return s.value
    return 0.0


def test_two_workers_log_json_and_share_their_metrics(database_url: str, tmp_path: Path) -> None:
    port = _ephemeral_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
    env.update(
        WANGGE_DATABASE_URL=database_url,
        WANGGE_STATE_DIR=str(tmp_path),
        WANGGE_LOG_FORMAT="json",
        WANGGE_METRICS_ALLOW="127.0.0.1",
    )
    process = subprocess.Popen(
        [*WANGGE, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, process)
        # New connections each time: the kernel spreads them over both workers.
        answered = 1  # wait_up's own
        for n in range(20):
            headers = {"X-Request-ID": f"drill-{n}"}
            assert httpx.get(base + "/health", headers=headers, timeout=10).status_code == 200
            answered += 1
        scraped = {health_count(httpx.get(base + "/metrics", timeout=10).text) for _ in range(6)}
        assert scraped == {answered}
        assert (tmp_path / "metrics").is_dir() and any((tmp_path / "metrics").iterdir())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
    lines: list[dict[str, Any]] = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert all(
        {"time", "level", "logger", "message", "request_id"} <= line.keys() for line in lines
    )
    access = [line for line in lines if line["request_id"] == "drill-7"]
    assert access and access[0]["logger"] == "uvicorn.access"
    assert "/health" in access[0]["message"]
    workers = {line["message"] for line in lines if line["message"].startswith("Started server")}
    assert len(workers) == 2
