"""The GeoJSON endpoints over real HTTP on the small test city."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import text

from gis.boundaries.imports import import_file
from gis.db import make_engine, session_scope
from gis.settings import Settings
from gis.tokens import create_token
from tests.boundaries import layers
from tests.boundaries.conftest import load_city
from tests.conftest import LiveServer

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(scope="module")
def city(
    fresh_database: Callable[..., str],
    empty_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """A test-city database, its history (one grid changed after ``before``) and a server."""
    url = fresh_database(empty_template)
    engine = make_engine(url, pool_size=2)
    folder = tmp_path_factory.mktemp("city")
    load_city(engine, folder)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT now()")).scalar_one()
    grids = layers.city()["grid"]
    grids[0]["households"] = 420
    with session_scope(engine) as session:
        assert import_file(session, "grid", layers.write(folder / "g.geojson", grids)).written
    with session_scope(engine) as session:
        viewer, _ = create_token(session, "viewer", "test-viewer")
    server = LiveServer(url).start()
    closed = LiveServer(url, Settings(database_url=url, anonymous_read=False)).start()
    yield {"url": server.base_url, "closed": closed.base_url, "before": before, "viewer": viewer}
    server.stop()
    closed.stop()
    engine.dispose()


@pytest.fixture
def api(city: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=city["url"], timeout=30) as client:
        yield client


def codes(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return [f["properties"]["code"] for f in body["features"]]


def test_levels_and_properties(api: httpx.Client) -> None:
    (district,) = api.get("/api/v1/districts").json()["features"]
    props = district["properties"]
    assert props["code"] == "630103" and props["parent_code"] is None
    assert props["households"] == sum(800 + c for c in range(4))
    assert props["residents"] == sum(2400 + c for c in range(4)) and props["communities"] == 4
    outline = layers.city()["district"][0]["geometry"]
    area, _ = Geod(ellps="GRS80").geometry_area_perimeter(outline)
    assert props["area_km2"] == pytest.approx(abs(area) / 1e6, abs=1e-3)
    assert "crs" not in district["geometry"]
    served = shapely.geometry.shape(district["geometry"])
    assert shapely.equals_exact(served, shapely.MultiPolygon([outline]), tolerance=1e-9)
    streets = api.get("/api/v1/streets").json()["features"]
    assert [s["properties"]["kind"] for s in streets] == ["street", "street"]
    assert streets[0]["properties"]["households"] == 800 + 801
    community = api.get("/api/v1/communities").json()["features"][2]["properties"]
    assert (community["class"], community["parent_code"], community["households"]) == (
        "C",
        "630103002",
        802,
    )
    grid = api.get("/api/v1/grids").json()["features"][7]["properties"]
    assert (grid["code"], grid["kind"], grid["parent_code"]) == (
        "630103002002002",
        "dedicated",
        "630103002002",
    )


def test_parent_bbox_and_class_filters(api: httpx.Client) -> None:
    assert codes(api.get("/api/v1/streets", params={"parent": "630103"})) == [
        "630103001",
        "630103002",
    ]
    assert codes(api.get("/api/v1/communities", params={"parent": "630103002"})) == [
        "630103002001",
        "630103002002",
    ]
    assert len(codes(api.get("/api/v1/grids", params={"parent": "630103"}))) == 8
    assert len(codes(api.get("/api/v1/grids", params={"parent": "630103002001"}))) == 2
    assert codes(api.get("/api/v1/grids", params={"parent": "630104"})) == []
    inside_first = f"{layers.X + 0.001},{layers.Y + 0.001},{layers.X + 0.002},{layers.Y + 0.002}"
    assert codes(api.get("/api/v1/grids", params={"bbox": inside_first})) == ["630103001001001"]
    far = "100.0,30.0,100.1,30.1"
    assert codes(api.get("/api/v1/communities", params={"bbox": far})) == []
    assert codes(api.get("/api/v1/communities", params={"class": "A"})) == ["630103001001"]
    assert codes(api.get("/api/v1/communities", params={"class": "D", "parent": "630103001"})) == []


def test_at_answers_as_of_that_time(api: httpx.Client, city: dict[str, Any]) -> None:
    now = api.get("/api/v1/grids", params={"parent": "630103001001"}).json()["features"]
    then = api.get(
        "/api/v1/grids", params={"parent": "630103001001", "at": city["before"].isoformat()}
    ).json()["features"]
    assert [f["properties"]["households"] for f in now] == [420, 400]
    assert [f["properties"]["households"] for f in then] == [400, 400]
    assert codes(api.get("/api/v1/districts", params={"at": "2000-01-01T00:00:00"})) == []
    one = api.get("/api/v1/grids/630103001001001", params={"at": city["before"].isoformat()})
    assert one.json()["properties"]["households"] == 400
    assert one.json()["properties"]["valid_to"] is not None


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/grids", {"bbox": "1,2,3"}, "bbox"),
        ("/api/v1/grids", {"bbox": "a,b,c,d"}, "bbox"),
        ("/api/v1/grids", {"bbox": "101.9,36.6,101.8,36.7"}, "bbox"),
        ("/api/v1/grids", {"bbox": "190,0,191,1"}, "bbox"),
        ("/api/v1/grids", {"bbox": "nan,0,1,1"}, "bbox"),
        ("/api/v1/grids", {"parent": "63010"}, "parent"),
        ("/api/v1/streets", {"parent": "630103001"}, "parent"),
        ("/api/v1/districts", {"parent": "630103"}, "parent"),
        ("/api/v1/communities", {"class": "E"}, "class"),
        ("/api/v1/grids", {"at": "yesterday"}, "at"),
        ("/api/v1/grids/6301030010010", {}, "code"),
        ("/api/v1/grids/63010300100100x", {}, "code"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    api: httpx.Client, path: str, params: dict[str, str], field: str
) -> None:
    response = api.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert response.json()["error"]


def test_one_grid_and_unknown_grid(api: httpx.Client) -> None:
    response = api.get("/api/v1/grids/630103002002002")
    assert response.status_code == 200
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == "630103002002002"
    props = feature["properties"]
    assert (props["community_name"], props["street_name"], props["district_name"]) == (
        "社区4",
        "街道2",
        "城中区",
    )
    assert props["valid_to"] is None and props["version_id"] >= 1
    missing = api.get("/api/v1/grids/630103009009009")
    assert missing.status_code == 404
    assert "630103009009009" in missing.json()["error"]


def test_reading_needs_a_token_when_anonymous_read_is_off(city: dict[str, Any]) -> None:
    with httpx.Client(base_url=city["closed"], timeout=30) as client:
        assert client.get("/api/v1/grids").status_code == 401
        assert client.get("/api/v1/grids/630103001001001").status_code == 401
        headers = {"Authorization": f"Bearer {city['viewer']}"}
        assert len(codes(client.get("/api/v1/grids", headers=headers))) == 8


def test_files_in_the_report_match_the_served_layer(api: httpx.Client, tmp_path: Path) -> None:
    """The served outlines are the imported ones (no rounding beyond 1e-9 degrees)."""
    served = api.get("/api/v1/communities").json()["features"]
    expected = [c["geometry"] for c in layers.city()["community"]]
    for feature, outline in zip(served, expected, strict=True):
        shape = shapely.geometry.shape(feature["geometry"])
        assert shapely.equals_exact(
            shapely.normalize(shape), shapely.normalize(shapely.MultiPolygon([outline])), 1e-9
        )
