"""Settings for Wangge, read from the environment with the prefix ``WANGGE_``.

One place for every tunable: the database, the embedded cluster, the domain
thresholds (snap tolerance, household band, community class rules) and the
HTTP limits. Both the domain (``gis``) and the ways in (``api``) read from here.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class ClassThresholds(BaseSettings):
    """Thresholds of the community classification (社区分类) rules."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_CLASS_", extra="ignore")

    a_min_commercial_share: float = 0.55
    a_max_old_compound_residents: int = 3500
    b_min_residents: int = 6000
    b_min_old_compound_residents: int = 3500
    # "Many elderly" (B) and "many migrants" (C), as shares of residents.
    b_min_elderly_share: float = 0.15
    c_min_migrant_share: float = 0.20
    subsidy_a: int = 150_000
    subsidy_b: int = 300_000
    subsidy_c: int = 150_000
    subsidy_d: int = 100_000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    # An existing PostGIS; when unset the embedded cluster is used.
    database_url: str | None = None
    # Where the embedded cluster keeps its data, port and password.
    state_dir: Path = PROJECT_ROOT / ".wangge"
    # Unprivileged system user the embedded cluster runs as when started by root.
    cluster_user: str = "wangge"
    pg_version: int = 15

    host: str = "127.0.0.1"
    port: int = 8000
    # HTTP worker processes of ``wangge serve``: one per core by default, since one Python
    # process answers on one core at a time.
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)

    # Domain rules (design.md).
    snap_tolerance_m: float = 50.0
    # Points farther than this outside every district are refused as outside the service area.
    service_area_margin_m: float = 20_000.0
    # How often (ms) the cached assignment snapshot checks for new boundaries or stations.
    assign_refresh_ms: int = 1000
    # How long (ms) a ``locate`` waits for a new snapshot to load before it answers from the
    # previous one (incident writes always wait: they must not stamp replaced boundaries).
    assign_stale_wait_ms: int = Field(default=1000, ge=0)
    station_radius_m: float = 2000.0
    canteen_radius_m: float = 1000.0
    household_band_min: int = 300
    household_band_max: int = 500
    sliver_tolerance_m2: float = 1.0
    # Grid editing (网格调整): most vertices a drawn line or outline may have, and the
    # smallest piece an edit may leave (anything smaller is a sliver, not a grid).
    edit_max_vertices: int = 5000
    edit_min_grid_area_m2: float = 100.0
    # Local time of the hotline: report days and due dates count in it.
    timezone: str = "Asia/Shanghai"
    classes: ClassThresholds = Field(default_factory=ClassThresholds)

    # Map pages: an XYZ basemap URL with {z}/{x}/{y}; empty = none, pages then work offline.
    basemap_url: str = ""
    basemap_attribution: str = ""
    basemap_max_zoom: int = 18
    # Amap / Tencent tiles are in GCJ-02: shift the overlays onto them.
    basemap_gcj02: bool = False

    # HTTP limits.
    max_body_bytes: int = 1_000_000
    max_page_size: int = 1000
    # Bulk incident intake (CSV/NDJSON) may be far larger than an ordinary body.
    max_bulk_bytes: int = 256_000_000
    anonymous_read: bool = True
    # How long the sign-in page's session cookie lasts (seconds): a working day.
    session_max_age_s: int = Field(default=12 * 3600, ge=60)
    session_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Key (text, at least 32 characters) signing the map session cookies;"
        " unset: a random key generated on first use and kept in <state_dir>/session_secret"
        " (mode 600), shared by every worker process",
    )
    # Vertices one geometry in a request may have (edits, imports over HTTP, siting areas).
    max_vertices: int = 50_000
    # Requests per second per token (or per client address without one), token bucket;
    # generous by default, lower it on exposed sites; 0 turns the limit off.
    rate_limit_per_s: float = 5000.0
    rate_limit_burst: int = 10_000
    # Origins allowed to call the API from a browser (CORS); empty = same origin only.
    # Comma-separated in the environment: WANGGE_CORS_ORIGINS=https://a.gov.cn,https://b.gov.cn
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Pages load only same-origin assets (Leaflet, Swagger UI from /vendor); maps use inline
    # scripts and data:/blob: images. Add a basemap host to img-src if one is used.
    content_security_policy: str = (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; worker-src 'self' blob:; font-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
