"""Import of compounds, buildings and facilities: the same all-or-nothing validation."""

from __future__ import annotations

from pathlib import Path

import shapely
from shapely import box
from sqlalchemy import Engine, func, select

from gis.boundaries.imports import import_file
from gis.db import session_scope
from gis.models import Building, Compound, Facility
from tests.boundaries import layers
from tests.boundaries.layers import X, Y


def test_broken_places_are_refused_with_every_defect(city_engine: Engine, tmp_path: Path) -> None:
    city = layers.city()
    compounds = city["compound"] + [
        {**city["compound"][0], "code": "XQ9", "community_code": "630103001009"},
        {
            **city["compound"][0],
            "code": "XQ8",
            "geometry": box(X + 0.002, Y + 0.002, X + 0.004, Y + 0.003),
        },
    ]
    buildings = city["building"] + [
        {**city["building"][0], "code": "LD9", "geometry": shapely.Point(X - 0.01, Y)},
        {**city["building"][0], "code": "LD8", "compound_code": "XQ404"},
    ]
    facilities = city["facility"] + [{**city["facility"][0], "code": "ZF9", "type": "bank"}]
    with session_scope(city_engine) as session:
        before = [
            session.scalar(select(func.count()).select_from(m))
            for m in (Compound, Building, Facility)
        ]
        reports = {
            level: import_file(
                session, level, layers.write(tmp_path / f"{level}.geojson", rows)
            ).report
            for level, rows in (
                ("compound", compounds),
                ("building", buildings),
                ("facility", facilities),
            )
        }
        after = [
            session.scalar(select(func.count()).select_from(m))
            for m in (Compound, Building, Facility)
        ]
    assert before == after
    compound_kinds = {(d.kind, d.codes[0]) for d in reports["compound"].errors}
    assert ("missing_parent", "XQ9") in compound_kinds
    assert any(
        k == "overlap" and "XQ8" in d.codes for d in reports["compound"].errors for k in [d.kind]
    )
    building_kinds = {(d.kind, d.codes[0]) for d in reports["building"].errors}
    assert {("outside_parent", "LD9"), ("missing_parent", "LD8")} <= building_kinds
    assert [d.codes for d in reports["facility"].errors] == [("ZF9",)]
    assert all(d.lon is not None for d in reports["building"].errors)


def test_facility_gets_its_district_and_service_circle(city_engine: Engine) -> None:
    with session_scope(city_engine) as session:
        station = session.scalars(select(Facility).where(Facility.code == "ZF0")).one()
        assert station.district_code == "630103" and station.service_radius_m == 2000
        assert station.service_area is not None
        building = session.scalars(select(Building).where(Building.code == "LD0")).one()
        assert building.compound_id is not None and building.district_code == "630103"
