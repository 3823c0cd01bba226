"""Alembic environment: the URL comes from the caller (gis.migrate) or Wangge's settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from gis.db import live_database_url
from gis.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # PostGIS owns these; they are not part of Wangge's schema.
    return not (type_ == "table" and name in {"spatial_ref_sys"})


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url") or live_database_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
