"""``wangge facility ...`` and ``wangge plan``: the real entry point (``main``, with its error
handling and exit codes) on real PostGIS; one run in a separate process as a user starts it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys

import pytest

from api.cli.main import main
from gis.settings import PROJECT_ROOT, get_settings
from tests.coverage.conftest import DISTRICT, City


def wangge(city: City, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``wangge ARGS`` through its entry point in this process; capture like a shell."""
    mp = pytest.MonkeyPatch()
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        mp.setenv("WANGGE_DATABASE_URL", city.url)
        mp.setattr(sys, "argv", ["wangge", *args])
        get_settings.cache_clear()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        mp.undo()
        get_settings.cache_clear()
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_facility_lifecycle(writable_city: City) -> None:
    add = wangge(
        writable_city,
        "facility",
        "add",
        "--type",
        "elderly_canteen",
        "--name",
        "Canteen 3",
        "--lon",
        "101.75",
        "--lat",
        "36.63",
        "--district",
        DISTRICT,
        "--seats",
        "60",
        "--code",
        "EC-T3",
    )
    assert add.returncode == 0, add.stderr
    assert "EC-T3" in add.stdout and "1,000 m" in add.stdout
    move = wangge(writable_city, "facility", "move", "EC-T3", "--lon", "101.76", "--lat", "36.62")
    assert move.returncode == 0, move.stderr
    resize = wangge(writable_city, "facility", "set", "EC-T3", "--radius", "1200")
    assert resize.returncode == 0 and "1,200 m" in resize.stdout
    listed = wangge(writable_city, "facility", "list", "--type", "elderly_canteen")
    assert "EC-T3" in listed.stdout and "101.760000" in listed.stdout
    retire = wangge(writable_city, "facility", "retire", "EC-T3")
    assert retire.returncode == 0
    assert "EC-T3" not in wangge(writable_city, "facility", "list").stdout
    assert "EC-T3" in wangge(writable_city, "facility", "list", "--all").stdout


def test_facility_errors_exit_non_zero(small_city: City) -> None:
    bad_radius = wangge(
        small_city,
        "facility",
        "add",
        "--type",
        "enforcement_station",
        "--name",
        "x",
        "--lon",
        "101.75",
        "--lat",
        "36.6",
        "--district",
        DISTRICT,
        "--radius",
        "-1",
    )
    assert bad_radius.returncode == 1 and "service_radius_m" in bad_radius.stderr
    bad_district = wangge(small_city, "facility", "list", "--district", "639999")
    assert bad_district.returncode == 1 and "district" in bad_district.stderr
    missing = wangge(small_city, "facility", "retire", "NOPE")
    assert missing.returncode == 1 and "facility" in missing.stderr


def test_plan_in_its_own_process(small_city: City) -> None:
    env = {**os.environ, "WANGGE_DATABASE_URL": small_city.url}
    run = subprocess.run(
        [sys.executable, "-m", "api.cli", "plan", "--district", DISTRICT, "--k", "2", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert len(body["greedy"]["sites"]) == 2 and body["greedy"]["gain"] > 0


def test_plan(small_city: City) -> None:
    text_out = wangge(
        small_city, "plan", "--district", DISTRICT, "--k", "2", "--exact", "--spacing", "500"
    )
    assert text_out.returncode == 0, text_out.stderr
    assert "greedy:" in text_out.stdout and "of the optimum" in text_out.stdout
    too_many = wangge(
        small_city, "plan", "--district", DISTRICT, "--k", "99", "--candidates", "grid_centroids"
    )
    assert too_many.returncode == 1 and "(k)" in too_many.stderr
