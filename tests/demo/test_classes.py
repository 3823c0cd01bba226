"""Community classes: the rules at each threshold, and the demo's A 70 / B 66 / C 22 / D 20."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis.classify import (
    CommunityAttributes,
    budget,
    classify,
    recompute_classes,
    stored_counts,
    subsidy,
)
from gis.settings import ClassThresholds, get_settings

T = get_settings().classes

A_COMMUNITY = CommunityAttributes(
    area_type="core",
    residents=10_000,
    commercial_housing_residents=5_500,  # exactly 55 %
    old_compound_residents=3_499,
    resettlement_residents=0,
    elderly_residents=1_000,
    migrant_residents=500,
    property_management="mature",
    facilities_complete=True,
)
B_COMMUNITY = CommunityAttributes(
    area_type="core",
    residents=6_000,
    commercial_housing_residents=1_000,
    old_compound_residents=3_500,
    resettlement_residents=0,
    elderly_residents=900,  # exactly 15 %
    migrant_residents=300,
    property_management="little",
    facilities_complete=False,
)


def test_thresholds_are_the_settings() -> None:
    assert (T.a_min_commercial_share, T.a_max_old_compound_residents) == (0.55, 3500)
    assert (T.b_min_residents, T.b_min_old_compound_residents) == (6000, 3500)


def test_a_at_each_threshold() -> None:
    assert classify(A_COMMUNITY) == "A"
    assert classify(replace(A_COMMUNITY, commercial_housing_residents=5_499)) is None
    assert classify(replace(A_COMMUNITY, old_compound_residents=3_500)) is None
    assert classify(replace(A_COMMUNITY, property_management="partial")) is None
    assert classify(replace(A_COMMUNITY, facilities_complete=False)) is None


def test_b_at_each_threshold() -> None:
    assert classify(B_COMMUNITY) == "B"
    assert classify(replace(B_COMMUNITY, residents=5_999)) is None
    assert classify(replace(B_COMMUNITY, old_compound_residents=3_499)) is None
    assert classify(replace(B_COMMUNITY, property_management="mature")) is None
    assert classify(replace(B_COMMUNITY, property_management="partial")) == "B"
    assert classify(replace(B_COMMUNITY, elderly_residents=899)) is None


def test_fringe_and_township() -> None:
    fringe = replace(A_COMMUNITY, area_type="fringe")
    # A fringe community with none of the fringe's marks is judged like the core.
    assert classify(fringe) == "A"
    assert classify(replace(fringe, resettlement_residents=1)) == "C"
    assert classify(replace(fringe, migrant_residents=2_000)) == "C"  # exactly 20 %
    assert classify(replace(fringe, migrant_residents=1_999)) == "A"
    assert classify(replace(fringe, facilities_complete=False)) == "C"
    assert classify(replace(B_COMMUNITY, area_type="township")) == "D"
    assert classify(replace(A_COMMUNITY, area_type="township", residents=0)) == "D"


def test_thresholds_from_settings_and_mappings(monkeypatch: pytest.MonkeyPatch) -> None:
    stricter = ClassThresholds(a_min_commercial_share=0.6)
    assert classify(A_COMMUNITY, stricter) is None
    monkeypatch.setenv("WANGGE_CLASS_B_MIN_RESIDENTS", "7000")
    assert classify(B_COMMUNITY, ClassThresholds()) is None
    as_dict: dict[str, Any] = dict(A_COMMUNITY.__dict__)
    assert classify(as_dict) == "A"


def test_subsidies_and_budget() -> None:
    assert [subsidy(k) for k in "ABCD"] == [150_000, 300_000, 150_000, 100_000]
    table = budget({"A": 70, "B": 66, "C": 22, "D": 20})
    assert table.communities == 178
    assert table.total_budget == 70 * 150_000 + 66 * 300_000 + 22 * 150_000 + 20 * 100_000


def test_demo_classes_come_from_the_rules(demo_engine: Engine) -> None:
    with Session(demo_engine) as session:
        stored = stored_counts(session)
        assert stored == {"A": 70, "B": 66, "C": 22, "D": 20}
        # Running the rules again over the stored attributes gives the same classes.
        assert recompute_classes(session) == stored
        session.rollback()
        rows = session.execute(
            text(
                "SELECT class, area_type, residents, commercial_housing_residents,"
                " old_compound_residents, resettlement_residents, elderly_residents,"
                " migrant_residents, property_management, facilities_complete"
                " FROM communities WHERE valid_to IS NULL"
            )
        ).all()
    for row in rows:
        assert classify(row._mapping) == row[0]
