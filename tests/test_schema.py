"""The schema enforces code formats, nesting, valid geometry and non-overlapping versions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis.models import SRID, Base, BoundaryVersion, District, Grid


def square(x: float = 101.77, y: float = 36.62, size: float = 0.01) -> object:
    return from_shape(MultiPolygon([box(x, y, x + size, y + size)]), srid=SRID)


def version(session: Session) -> BoundaryVersion:
    v = BoundaryVersion(author="test", reason="schema test", operation="load")
    session.add(v)
    session.flush()
    return v


# Not sharded by district: the category list, and the one-row assignment epoch of a database.
UNSHARDED = {"incident_categories", "assignment_inputs"}


def test_every_table_but_reference_ones_carries_a_district_code() -> None:
    for name, table in Base.metadata.tables.items():
        if name in UNSHARDED:
            continue
        assert "district_code" in table.c, name


def test_geometry_columns_use_cgcs2000(engine: object) -> None:
    for table in Base.metadata.tables.values():
        for column in table.c:
            srid = getattr(column.type, "srid", None)
            if srid is not None:
                assert srid == SRID, f"{table.name}.{column.name}"


def test_spatial_indexes_exist(engine: object) -> None:
    inspector = inspect(engine)
    for table in ("districts", "streets", "communities", "grids", "incident_reports", "facilities"):
        indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
        assert ("geom",) in indexed, table


def test_bad_grid_code_rejected(db_session: Session) -> None:
    v = version(db_session)
    db_session.add(
        Grid(
            code="63010300100200X",
            name="g",
            district_code="630103",
            community_code="63010300100X"[:12],
            street_code="630103001",
            geom=square(),
            version_id=v.id,
        )
    )
    with pytest.raises(IntegrityError, match="code_format"):
        db_session.flush()


def test_grid_outside_its_community_code_rejected(db_session: Session) -> None:
    v = version(db_session)
    db_session.add(
        Grid(
            code="630103001002003",
            name="g",
            district_code="630103",
            community_code="630103001009",
            street_code="630103001",
            geom=square(),
            version_id=v.id,
        )
    )
    with pytest.raises(IntegrityError, match="code_in_community"):
        db_session.flush()


def test_overlapping_validity_of_one_code_rejected(db_session: Session) -> None:
    v = version(db_session)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    db_session.add(
        District(
            code="630103",
            name="城中区",
            district_code="630103",
            geom=square(),
            version_id=v.id,
            valid_from=start,
        )
    )
    db_session.flush()
    db_session.add(
        District(
            code="630103",
            name="城中区",
            district_code="630103",
            geom=square(size=0.02),
            version_id=v.id,
            valid_from=datetime(2026, 6, 1, tzinfo=UTC),
        )
    )
    with pytest.raises(IntegrityError, match="code_validity"):
        db_session.flush()


def test_closed_version_and_successor_coexist(db_session: Session) -> None:
    v = version(db_session)
    start, cut = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    db_session.add_all(
        [
            District(
                code="630104",
                name="城西区",
                district_code="630104",
                geom=square(),
                version_id=v.id,
                valid_from=start,
                valid_to=cut,
            ),
            District(
                code="630104",
                name="城西区",
                district_code="630104",
                geom=square(size=0.02),
                version_id=v.id,
                valid_from=cut,
            ),
        ]
    )
    db_session.flush()
    current = db_session.scalars(
        select(District).where(District.code == "630104", District.valid_to.is_(None))
    ).one()
    assert current.valid_from == cut


def test_invalid_geometry_rejected(db_session: Session) -> None:
    from shapely import wkt

    bowtie = wkt.loads(
        "MULTIPOLYGON(((101.7 36.6, 101.8 36.7, 101.8 36.6, 101.7 36.7, 101.7 36.6)))"
    )
    v = version(db_session)
    db_session.add(
        District(
            code="630105",
            name="城北区",
            district_code="630105",
            geom=from_shape(bowtie, srid=SRID),
            version_id=v.id,
        )
    )
    with pytest.raises(IntegrityError, match="geom_valid"):
        db_session.flush()
