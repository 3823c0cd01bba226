"""The whole schema: boundaries with validity, places, facilities, incidents, tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:11:48.026956
"""

from __future__ import annotations

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PostGIS for geometry, btree_gist for the validity exclusion constraints.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('viewer', 'dispatcher', 'planner', 'admin')", name=op.f("ck_api_tokens_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_api_tokens_district_code"), "api_tokens", ["district_code"], unique=False
    )
    op.create_table(
        "boundary_versions",
        sa.Column("id", sa.Integer(), sa.Identity(always=False, start=1), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("base_version_id", sa.Integer(), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["base_version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_boundary_versions_base_version_id_boundary_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_versions")),
    )
    op.create_index(
        op.f("ix_boundary_versions_district_code"),
        "boundary_versions",
        ["district_code"],
        unique=False,
    )
    op.create_table(
        "compounds",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("housing_type", sa.String(length=16), nullable=False),
        sa.Column("property_managed", sa.Boolean(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4490,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "housing_type IN ('commercial', 'old', 'resettlement', 'mixed')",
            name=op.f("ck_compounds_housing_type"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_compounds_geom_valid")),
        sa.CheckConstraint(
            "left(community_code, 6) = district_code", name=op.f("ck_compounds_in_district")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compounds")),
        sa.UniqueConstraint("code", name=op.f("uq_compounds_code")),
    )
    op.create_index(
        op.f("ix_compounds_community_code"), "compounds", ["community_code"], unique=False
    )
    op.create_index(
        op.f("ix_compounds_district_code"), "compounds", ["district_code"], unique=False
    )
    op.create_table(
        "facilities",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4490,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("service_radius_m", sa.Float(), nullable=False),
        sa.Column(
            "service_area",
            geoalchemy2.types.Geometry(
                geometry_type="POLYGON",
                srid=4490,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("hours", sa.String(length=60), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "service_radius_m > 0 AND service_radius_m <= 50000",
            name=op.f("ck_facilities_service_radius"),
        ),
        sa.CheckConstraint("staff >= 0 AND seats >= 0", name=op.f("ck_facilities_capacity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facilities")),
        sa.UniqueConstraint("code", name=op.f("uq_facilities_code")),
    )
    op.create_index(
        op.f("ix_facilities_district_code"), "facilities", ["district_code"], unique=False
    )
    op.create_index(op.f("ix_facilities_type"), "facilities", ["type"], unique=False)
    op.create_table(
        "incident_categories",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("handling_unit", sa.String(length=120), nullable=False),
        sa.Column("due_working_days", sa.SmallInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "code ~ '^[a-z][a-z0-9_]*$'", name=op.f("ck_incident_categories_code_format")
        ),
        sa.CheckConstraint(
            "due_working_days BETWEEN 1 AND 60",
            name=op.f("ck_incident_categories_due_working_days"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_incident_categories")),
    )
    op.create_table(
        "buildings",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("elderly_residents", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4490,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("households >= 0 AND residents >= 0", name=op.f("ck_buildings_counts")),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["compounds.id"], name=op.f("fk_buildings_compound_id_compounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
        sa.UniqueConstraint("code", name=op.f("uq_buildings_code")),
    )
    op.create_index(
        op.f("ix_buildings_community_code"), "buildings", ["community_code"], unique=False
    )
    op.create_index(op.f("ix_buildings_compound_id"), "buildings", ["compound_id"], unique=False)
    op.create_index(
        op.f("ix_buildings_district_code"), "buildings", ["district_code"], unique=False
    )
    op.create_table(
        "communities",
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("area_type", sa.String(length=12), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("commercial_housing_residents", sa.Integer(), nullable=False),
        sa.Column("old_compound_residents", sa.Integer(), nullable=False),
        sa.Column("resettlement_residents", sa.Integer(), nullable=False),
        sa.Column("elderly_residents", sa.Integer(), nullable=False),
        sa.Column("migrant_residents", sa.Integer(), nullable=False),
        sa.Column("property_management", sa.String(length=12), nullable=False),
        sa.Column("facilities_complete", sa.Boolean(), nullable=False),
        sa.Column("class", sa.String(length=1), nullable=True),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column(
            "valid_from",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4490,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("retired_version_id", sa.Integer(), nullable=True),
        postgresql.ExcludeConstraint(
            (sa.column("code"), "="),
            (sa.text("tstzrange(valid_from, valid_to)"), "&&"),
            using="gist",
            name="ex_communities_code_validity",
        ),
        sa.CheckConstraint(
            "area_type IN ('core', 'fringe', 'township')", name=op.f("ck_communities_area_type")
        ),
        sa.CheckConstraint(
            "class IS NULL OR class IN ('A', 'B', 'C', 'D')", name=op.f("ck_communities_class")
        ),
        sa.CheckConstraint("code ~ '^[0-9]{12}$'", name=op.f("ck_communities_code_format")),
        sa.CheckConstraint(
            "property_management IN ('mature', 'partial', 'little')",
            name=op.f("ck_communities_property_management"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_communities_geom_valid")),
        sa.CheckConstraint(
            "left(code, 6) = district_code", name=op.f("ck_communities_code_in_district")
        ),
        sa.CheckConstraint(
            "left(code, 9) = street_code", name=op.f("ck_communities_code_in_street")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_communities_valid_interval")
        ),
        sa.ForeignKeyConstraint(
            ["retired_version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_communities_retired_version_id_boundary_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_communities_version_id_boundary_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
    )
    op.create_index(op.f("ix_communities_code"), "communities", ["code"], unique=False)
    op.create_index(
        "ix_communities_current_code",
        "communities",
        ["code"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(
        op.f("ix_communities_district_code"), "communities", ["district_code"], unique=False
    )
    op.create_index(
        op.f("ix_communities_street_code"), "communities", ["street_code"], unique=False
    )
    op.create_table(
        "districts",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column(
            "valid_from",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4490,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("retired_version_id", sa.Integer(), nullable=True),
        postgresql.ExcludeConstraint(
            (sa.column("code"), "="),
            (sa.text("tstzrange(valid_from, valid_to)"), "&&"),
            using="gist",
            name="ex_districts_code_validity",
        ),
        sa.CheckConstraint("code ~ '^[0-9]{6}$'", name=op.f("ck_districts_code_format")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_districts_geom_valid")),
        sa.CheckConstraint(
            "left(code, 6) = district_code", name=op.f("ck_districts_code_in_district")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_districts_valid_interval")
        ),
        sa.ForeignKeyConstraint(
            ["retired_version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_districts_retired_version_id_boundary_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_districts_version_id_boundary_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_districts")),
    )
    op.create_index(op.f("ix_districts_code"), "districts", ["code"], unique=False)
    op.create_index(
        "ix_districts_current_code",
        "districts",
        ["code"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(
        op.f("ix_districts_district_code"), "districts", ["district_code"], unique=False
    )
    op.create_table(
        "grids",
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("worker_name", sa.String(length=60), nullable=True),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column(
            "valid_from",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4490,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("retired_version_id", sa.Integer(), nullable=True),
        postgresql.ExcludeConstraint(
            (sa.column("code"), "="),
            (sa.text("tstzrange(valid_from, valid_to)"), "&&"),
            using="gist",
            name="ex_grids_code_validity",
        ),
        sa.CheckConstraint("code ~ '^[0-9]{15}$'", name=op.f("ck_grids_code_format")),
        sa.CheckConstraint("kind IN ('comprehensive', 'dedicated')", name=op.f("ck_grids_kind")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_grids_geom_valid")),
        sa.CheckConstraint(
            "left(code, 12) = community_code", name=op.f("ck_grids_code_in_community")
        ),
        sa.CheckConstraint("left(code, 6) = district_code", name=op.f("ck_grids_code_in_district")),
        sa.CheckConstraint("left(code, 9) = street_code", name=op.f("ck_grids_code_in_street")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_grids_valid_interval")
        ),
        sa.ForeignKeyConstraint(
            ["retired_version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_grids_retired_version_id_boundary_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_grids_version_id_boundary_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grids")),
    )
    op.create_index(op.f("ix_grids_code"), "grids", ["code"], unique=False)
    op.create_index(op.f("ix_grids_community_code"), "grids", ["community_code"], unique=False)
    op.create_index(
        "ix_grids_current_code",
        "grids",
        ["code"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(op.f("ix_grids_district_code"), "grids", ["district_code"], unique=False)
    op.create_table(
        "streets",
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column(
            "valid_from",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4490,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("retired_version_id", sa.Integer(), nullable=True),
        postgresql.ExcludeConstraint(
            (sa.column("code"), "="),
            (sa.text("tstzrange(valid_from, valid_to)"), "&&"),
            using="gist",
            name="ex_streets_code_validity",
        ),
        sa.CheckConstraint("code ~ '^[0-9]{9}$'", name=op.f("ck_streets_code_format")),
        sa.CheckConstraint("kind IN ('street', 'town')", name=op.f("ck_streets_kind")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_streets_geom_valid")),
        sa.CheckConstraint(
            "left(code, 6) = district_code", name=op.f("ck_streets_code_in_district")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_streets_valid_interval")
        ),
        sa.ForeignKeyConstraint(
            ["retired_version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_streets_retired_version_id_boundary_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_streets_version_id_boundary_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streets")),
    )
    op.create_index(op.f("ix_streets_code"), "streets", ["code"], unique=False)
    op.create_index(
        "ix_streets_current_code",
        "streets",
        ["code"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(op.f("ix_streets_district_code"), "streets", ["district_code"], unique=False)
    op.create_table(
        "party_branches",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("secretary", sa.String(length=60), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(kind <> 'grid_branch' OR grid_code IS NOT NULL) AND (kind <> 'compound_branch' OR compound_id IS NOT NULL) AND (kind <> 'building_group' OR building_id IS NOT NULL)",
            name=op.f("ck_party_branches_seat"),
        ),
        sa.CheckConstraint(
            "kind IN ('community_committee', 'grid_branch', 'compound_branch', 'building_group')",
            name=op.f("ck_party_branches_kind"),
        ),
        sa.CheckConstraint(
            "left(community_code, 6) = district_code", name=op.f("ck_party_branches_in_district")
        ),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name=op.f("fk_party_branches_building_id_buildings")
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["compounds.id"], name=op.f("fk_party_branches_compound_id_compounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_branches")),
    )
    op.create_index(
        op.f("ix_party_branches_community_code"), "party_branches", ["community_code"], unique=False
    )
    op.create_index(
        op.f("ix_party_branches_compound_id"), "party_branches", ["compound_id"], unique=False
    )
    op.create_index(
        op.f("ix_party_branches_district_code"), "party_branches", ["district_code"], unique=False
    )
    op.create_index(
        op.f("ix_party_branches_grid_code"), "party_branches", ["grid_code"], unique=False
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("category_code", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4490,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("input_crs", sa.String(length=16), nullable=False),
        sa.Column("reporter_name", sa.String(length=60), nullable=True),
        sa.Column("reporter_phone", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("handled_directly", sa.Boolean(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("match", sa.String(length=12), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("station_distance_m", sa.Float(), nullable=True),
        sa.Column("station_within_radius", sa.Boolean(), nullable=True),
        sa.Column("party_branch_id", sa.Integer(), nullable=True),
        sa.Column("boundary_version_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(match = 'outside') = (grid_code IS NULL)", name=op.f("ck_incidents_grid_iff_matched")
        ),
        sa.CheckConstraint(
            "channel IN ('hotline_call', 'wechat', 'mayor_mailbox', 'provincial_site', 'peoples_daily', 'patrol', 'open311', 'app')",
            name=op.f("ck_incidents_channel"),
        ),
        sa.CheckConstraint(
            "match IN ('inside', 'boundary', 'snapped', 'outside')", name=op.f("ck_incidents_match")
        ),
        sa.CheckConstraint(
            "status IN ('received', 'dispatched', 'in_progress', 'replied', 'closed')",
            name=op.f("ck_incidents_status"),
        ),
        sa.CheckConstraint(
            "char_length(description) <= 4000", name=op.f("ck_incidents_description_length")
        ),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 1 AND 5", name=op.f("ck_incidents_rating")
        ),
        sa.ForeignKeyConstraint(
            ["boundary_version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_incidents_boundary_version_id_boundary_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["incident_categories.code"],
            name=op.f("fk_incidents_category_code_incident_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["party_branch_id"],
            ["party_branches.id"],
            name=op.f("fk_incidents_party_branch_id_party_branches"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["facilities.id"], name=op.f("fk_incidents_station_id_facilities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("external_id", name=op.f("uq_incidents_external_id")),
    )
    op.create_index(
        op.f("ix_incidents_category_code"), "incidents", ["category_code"], unique=False
    )
    op.create_index(
        op.f("ix_incidents_community_code"), "incidents", ["community_code"], unique=False
    )
    op.create_index(
        op.f("ix_incidents_district_code"), "incidents", ["district_code"], unique=False
    )
    op.create_index(op.f("ix_incidents_grid_code"), "incidents", ["grid_code"], unique=False)
    op.create_index(op.f("ix_incidents_station_id"), "incidents", ["station_id"], unique=False)
    op.create_table(
        "incident_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('received', 'transition', 'reassigned', 'callback', 'rating', 'note')",
            name=op.f("ck_incident_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_events_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    op.create_index(
        op.f("ix_incident_events_district_code"), "incident_events", ["district_code"], unique=False
    )
    op.create_index(
        op.f("ix_incident_events_incident_id"), "incident_events", ["incident_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_events_incident_id"), table_name="incident_events")
    op.drop_index(op.f("ix_incident_events_district_code"), table_name="incident_events")
    op.drop_table("incident_events")
    op.drop_index(op.f("ix_incidents_station_id"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_grid_code"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_district_code"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_community_code"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_category_code"), table_name="incidents")
    op.drop_table("incidents")
    op.drop_index(op.f("ix_party_branches_grid_code"), table_name="party_branches")
    op.drop_index(op.f("ix_party_branches_district_code"), table_name="party_branches")
    op.drop_index(op.f("ix_party_branches_compound_id"), table_name="party_branches")
    op.drop_index(op.f("ix_party_branches_community_code"), table_name="party_branches")
    op.drop_table("party_branches")
    op.drop_index(op.f("ix_streets_district_code"), table_name="streets")
    op.drop_index(
        "ix_streets_current_code",
        table_name="streets",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_index(op.f("ix_streets_code"), table_name="streets")
    op.drop_table("streets")
    op.drop_index(op.f("ix_grids_district_code"), table_name="grids")
    op.drop_index(
        "ix_grids_current_code", table_name="grids", postgresql_where=sa.text("valid_to IS NULL")
    )
    op.drop_index(op.f("ix_grids_community_code"), table_name="grids")
    op.drop_index(op.f("ix_grids_code"), table_name="grids")
    op.drop_table("grids")
    op.drop_index(op.f("ix_districts_district_code"), table_name="districts")
    op.drop_index(
        "ix_districts_current_code",
        table_name="districts",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_index(op.f("ix_districts_code"), table_name="districts")
    op.drop_table("districts")
    op.drop_index(op.f("ix_communities_street_code"), table_name="communities")
    op.drop_index(op.f("ix_communities_district_code"), table_name="communities")
    op.drop_index(
        "ix_communities_current_code",
        table_name="communities",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_index(op.f("ix_communities_code"), table_name="communities")
    op.drop_table("communities")
    op.drop_index(op.f("ix_buildings_district_code"), table_name="buildings")
    op.drop_index(op.f("ix_buildings_compound_id"), table_name="buildings")
    op.drop_index(op.f("ix_buildings_community_code"), table_name="buildings")
    op.drop_table("buildings")
    op.drop_table("incident_categories")
    op.drop_index(op.f("ix_facilities_type"), table_name="facilities")
    op.drop_index(op.f("ix_facilities_district_code"), table_name="facilities")
    op.drop_table("facilities")
    op.drop_index(op.f("ix_compounds_district_code"), table_name="compounds")
    op.drop_index(op.f("ix_compounds_community_code"), table_name="compounds")
    op.drop_table("compounds")
    op.drop_index(op.f("ix_boundary_versions_district_code"), table_name="boundary_versions")
    op.drop_table("boundary_versions")
    op.drop_index(op.f("ix_api_tokens_district_code"), table_name="api_tokens")
    op.drop_table("api_tokens")
