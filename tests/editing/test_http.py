"""Preview, commit, edit log and history over real HTTP; bad input is a 422 that says what
and where, a stale base a 409, and neither writes anything."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from sqlalchemy import Engine

from tests.editing.checks import assert_tiled, row_counts
from tests.editing.city import EAST, WEST
from tests.editing.conftest import Api

G1, G2, G5 = f"{WEST}001", f"{WEST}002", f"{WEST}005"


def line(*points: tuple[float, float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(p) for p in points]}


SPLIT = {"operation": "split", "grid": G1, "line": line((101.704, 36.599), (101.704, 36.611))}


def test_preview_then_commit_then_stale(city_api: Api, city: Engine) -> None:
    api = city_api
    assert api.http.post("/api/v1/edits/preview", json=SPLIT).status_code == 401
    assert (
        api.http.post(
            "/api/v1/edits/preview", json=SPLIT, headers=api.auth("dispatcher")
        ).status_code
        == 403
    )
    before = row_counts(city)
    preview = api.http.post("/api/v1/edits/preview", json=SPLIT, headers=api.auth("planner"))
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert row_counts(city) == before  # a preview writes nothing
    assert body["base_version"] == 1 and body["created"] == [f"{WEST}009"]
    grids = {g["code"]: g for g in body["impact"]["grids"]}
    assert grids[G1]["households_before"] == 400 and grids[G1]["band_before"] == "within"
    assert grids[G1]["households_after"] + grids[f"{WEST}009"]["households_after"] == 400
    assert grids[f"{WEST}009"]["band_after"] == "below"  # 160 households, under 300
    assert body["impact"]["buildings"]["count"] == 10
    moving = body["impact"]["incidents"]
    assert moving["count"] == sum(g["count"] for g in moving["by_grid"])
    assert body["validation"]["communities"][WEST]["after"]["coverage_valid"] is True

    commit = {**SPLIT, "base_version": body["base_version"], "reason": "over the band"}
    done = api.http.post("/api/v1/edits", json=commit, headers=api.auth("planner"))
    assert done.status_code == 201, done.text
    version = done.json()["version"]
    assert done.json()["incidents_reassigned"] == moving["count"]
    assert_tiled(city)

    after = row_counts(city)
    again = api.http.post("/api/v1/edits", json=commit, headers=api.auth("planner"))
    assert again.status_code == 409 and again.json()["field"] == "base_version"
    assert row_counts(city) == after

    log = api.http.get(f"/api/v1/edits/{version}").json()
    assert log["author"] == "planner-editing" and log["reason"] == "over the band"
    assert log["operation"] == "split" and log["base_version"] == 1
    before_codes = {f["id"] for f in log["detail"]["before"]["features"]}
    after_codes = {f["id"] for f in log["detail"]["after"]["features"]}
    assert G1 in before_codes and {G1, f"{WEST}009"} <= after_codes

    history = api.http.get(f"/api/v1/grids/{G1}/history", params={"geometry": "true"}).json()
    first, second = history["versions"]
    assert first["closed_by"]["version"] == version and first["valid_to"] == second["valid_from"]
    assert second["opened_by"]["reason"] == "over the band" and second["current"]
    assert shapely.geometry.shape(second["geometry"]).bounds[0] == pytest.approx(101.704)
    assert api.http.get(f"/api/v1/grids/{WEST}999/history").status_code == 404


BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[101.70, 36.60], [101.71, 36.61], [101.71, 36.60], [101.70, 36.61], [101.70, 36.60]]
    ],
}
BAD: dict[str, tuple[dict[str, Any], str, str]] = {
    "line misses the grid": (
        {**SPLIT, "line": line((101.75, 36.59), (101.76, 36.59))},
        "line",
        "does not cross",
    ),
    "line ends inside": (
        {**SPLIT, "line": line((101.703, 36.599), (101.703, 36.605))},
        "line",
        "in two",
    ),
    "line crosses twice": (
        {
            **SPLIT,
            "line": line(
                (101.702, 36.599), (101.702, 36.612), (101.706, 36.612), (101.706, 36.599)
            ),
        },
        "line",
        "more than once",
    ),
    "line crosses itself": (
        {
            **SPLIT,
            "line": line(
                (101.702, 36.599), (101.706, 36.611), (101.706, 36.599), (101.702, 36.611)
            ),
        },
        "line",
        "crosses itself",
    ),
    "too many vertices": (
        {**SPLIT, "line": line(*[(101.7 + i * 1e-6, 36.605) for i in range(6000)])},
        "line",
        "limit",
    ),
    "merge apart": ({"operation": "merge", "grids": [G1, G5]}, "grids", "share an edge"),
    "merge across communities": (
        {"operation": "merge", "grids": [f"{WEST}007", f"{EAST}001"]},
        "grids",
        "different communities",
    ),
    "outline leaves community": (
        {
            "operation": "reshape",
            "grid": G1,
            "outline": shapely.geometry.mapping(shapely.box(101.69, 36.60, 101.71, 36.61)),
        },
        "outline",
        "leaves community",
    ),
    "self-intersecting outline": (
        {"operation": "reshape", "grid": G1, "outline": BOWTIE},
        "outline",
        "Self-intersection",
    ),
    "outline swallows a neighbour": (
        {
            "operation": "reshape",
            "grid": G1,
            "outline": shapely.geometry.mapping(shapely.box(101.70, 36.60, 101.71, 36.62)),
        },
        "outline",
        "swallows",
    ),
    "transfer to a non-neighbour": (
        {
            "operation": "transfer",
            "from_grid": G1,
            "to_grid": G5,
            "region": shapely.geometry.mapping(shapely.box(101.705, 36.60, 101.71, 36.605)),
        },
        "to_grid",
        "share an edge",
    ),
    "move to a far community": (
        {"operation": "move", "grid": G1, "community": EAST},
        "community",
        "share an edge",
    ),
    "no reason": ({**SPLIT, "reason": " "}, "reason", "reason"),
}


def test_bad_input_is_422_and_writes_nothing(city_api: Api, city: Engine) -> None:
    before = row_counts(city)
    for name, (body, field, words) in BAD.items():
        full = {"reason": "test", **body, "base_version": 1}
        for path in ("/api/v1/edits/preview", "/api/v1/edits"):
            if path.endswith("preview") and field == "reason":
                continue
            r = city_api.http.post(path, json=full, headers=city_api.auth("planner"))
            assert r.status_code == 422, (name, r.text)
            assert r.json()["field"] == field, (name, r.json())
            assert words in r.json()["error"], (name, r.json()["error"])
        assert row_counts(city) == before, name
    # The message says where: the crossing points, the self-intersection, the spill-over.
    where = city_api.http.post(
        "/api/v1/edits",
        json={**BAD["outline leaves community"][0], "base_version": 1, "reason": "x"},
        headers=city_api.auth("planner"),
    ).json()
    assert where["detail"]["at"][0] < 101.70
    unknown = city_api.http.post(
        "/api/v1/edits",
        json={**SPLIT, "grid": f"{WEST}999", "base_version": 1, "reason": "x"},
        headers=city_api.auth("planner"),
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "grid"
    assert row_counts(city) == before
