"""Settings for Wangge, read from the environment with the prefix ``WANGGE_``.

One place for every tunable: the database, the embedded cluster, the domain
thresholds (snap tolerance, household band, community class rules) and the
HTTP limits. Both the domain (``gis``) and the ways in (``api``) read from here.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class ClassThresholds(BaseSettings):
    """Thresholds of the community classification (社区分类) rules, ``WANGGE_CLASS_*``.

    Every field's description ends with its unit in brackets (docs/settings.md)."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_CLASS_", extra="ignore")

    a_min_commercial_share: float = Field(
        0.55,
        description="Class A: least share of residents living in commercial housing. [share 0–1]",
    )
    a_max_old_compound_residents: int = Field(
        3500, description="Class A: residents of old compounds must be fewer than this. [residents]"
    )
    b_min_residents: int = Field(6000, description="Class B: fewest residents. [residents]")
    b_min_old_compound_residents: int = Field(
        3500, description="Class B: fewest residents living in old compounds. [residents]"
    )
    b_min_elderly_share: float = Field(
        0.15,
        description='Class B: "many elderly", the least share of elderly residents. [share 0–1]',
    )
    c_min_migrant_share: float = Field(
        0.20,
        description='Class C: "many migrants", a share of migrant residents that marks a fringe'
        " community as fringe-like. [share 0–1]",
    )
    subsidy_a: int = Field(150_000, description="Subsidy of a class A community. [CNY a year]")
    subsidy_b: int = Field(300_000, description="Subsidy of a class B community. [CNY a year]")
    subsidy_c: int = Field(150_000, description="Subsidy of a class C community. [CNY a year]")
    subsidy_d: int = Field(100_000, description="Subsidy of a class D community. [CNY a year]")


class WorkflowRules(BaseSettings):
    """Clocks and limits of the 12345 loop (热线闭环), ``WANGGE_LOOP_*``: local rules and
    practice. Every field's description ends with its unit in brackets (docs/settings.md)."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_LOOP_", extra="ignore")

    accept_urgent_min: int = Field(
        15,
        ge=1,
        description="Time a unit has to accept a case with life or property at risk. [min]",
    )
    accept_utility_min: int = Field(
        30, ge=1, description="Time a unit has to accept a water, power, gas or heat case. [min]"
    )
    accept_normal_working_days: int = Field(
        1, ge=1, description="Time a unit has to accept any other case. [working days]"
    )
    max_extension_days: int = Field(
        30, ge=1, description="Most one extension (延期) may ask for. [working days]"
    )
    max_reopens: int = Field(
        2, ge=0, description="How often an unsatisfied case may be reopened (重办). [times]"
    )
    notice_after_working_days: int = Field(
        5, ge=1, description="Past due by this much, a case is flagged for a notice. [working days]"
    )
    verify_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Categories whose replied cases close only after the grid worker confirms"
        " on the spot that the reply holds (核查), comma-separated: `road_damage,noise`; a case"
        " in no grid is exempt; empty: verification is asked for but never required."
        " [category codes]",
    )

    @field_validator("verify_categories", mode="before")
    @classmethod
    def _split_categories(cls, value: object) -> object:
        if isinstance(value, str):
            return [c.strip() for c in value.split(",") if c.strip()]
        return value


class Settings(BaseSettings):
    """Every setting, ``WANGGE_<NAME>``; each description ends with its unit in brackets, and
    docs/settings.md is generated from them (``python -m gis.settings_doc --write``)."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of an existing PostGIS (with the postgis and btree_gist"
        " extensions, or a user allowed to create them); unset: the embedded cluster. [URL]",
    )
    read_url: str | None = Field(
        None,
        description="URL for reads that may lag a little (locate snapshot loads, tiles, OGC"
        " API, incident lists): a standby may answer them, e.g. the read URL `wangge cluster"
        " up` prints (target_session_attrs=prefer-standby); writes never go there; unset:"
        " reads use the main database. [URL]",
    )
    state_dir: Path = Field(
        PROJECT_ROOT / ".wangge",
        description="Where the embedded cluster keeps its data, port and password. [directory]",
    )
    cluster_user: str = Field(
        "wangge",
        description="Unprivileged system user the embedded cluster runs as when root starts it"
        " (PostgreSQL refuses to run as root). [user name]",
    )
    pg_version: int = Field(
        15,
        description="Major version of the Debian PostgreSQL the embedded cluster runs. [version]",
    )
    backup_dir: Path | None = Field(
        None,
        description="pgBackRest repository of the embedded cluster: when set, `wangge db up`"
        " archives every WAL segment there and `wangge backup` / `wangge restore` use it;"
        " unset: no backups. [directory]",
    )
    backup_full_retention: int = Field(
        2,
        ge=1,
        description="Full backups kept in the repository; older ones, with the WAL only they"
        " need, are expired after each backup. [backups]",
    )
    archive_timeout_s: int = Field(
        60,
        ge=1,
        description="With a backup repository, a WAL segment is archived at least this often"
        " while there are writes: the most a point-in-time restore can lose. [s]",
    )

    host: str = Field("127.0.0.1", description="Address `wangge serve` listens on. [IP address]")
    port: int = Field(8000, description="TCP port `wangge serve` listens on. [port]")
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        description="HTTP worker processes of `wangge serve`, one per core by default, since one"
        " Python process answers on one core at a time; each keeps its own assigner and"
        " rate-limit buckets. [processes]",
        json_schema_extra={"default_shown": "the number of CPU cores"},
    )

    log_format: Literal["text", "json"] = Field(
        "text",
        description="Log lines of `wangge serve`: `text` for people, `json` for a log collector"
        " (one object a line: time, level, logger, message, request_id). [text/json]",
    )
    metrics_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Client addresses or networks that may read GET /metrics without a token"
        " (a Prometheus scraper), comma-separated: `127.0.0.1,10.1.0.0/16`; anyone else needs"
        " an admin token; empty: an admin token always. [addresses]",
    )

    # Domain rules (docs/rules.md).
    snap_tolerance_m: float = Field(
        50.0,
        description="A point outside every grid but at most this far from one on the ground is"
        " assigned to the nearest grid (`snapped`). [m]",
    )
    service_area_margin_m: float = Field(
        20_000.0,
        description="Points farther than this outside every district are refused as outside the"
        " service area; an `outside` point within it goes to the nearest district's queue. [m]",
    )
    assign_refresh_ms: int = Field(
        1000,
        description="How often a worker's cached assignment snapshot checks for changed"
        " boundaries, stations, compounds or party branches. [ms]",
    )
    assign_stale_wait_ms: int = Field(
        default=1000,
        ge=0,
        description="How long a `locate` waits for a new snapshot to load before it answers from"
        " the previous one (incident writes always wait: they must not stamp replaced"
        " boundaries). [ms]",
    )
    station_radius_m: float = Field(
        2000.0, description="Service radius of an enforcement station unless it has its own. [m]"
    )
    canteen_radius_m: float = Field(
        1000.0, description="Service radius of an elderly canteen unless it has its own. [m]"
    )
    household_band_min: int = Field(
        300,
        description="Fewest households a comprehensive grid should hold; maps and edit previews"
        " flag grids below. [households]",
    )
    household_band_max: int = Field(
        500,
        description="Most households a comprehensive grid should hold; maps and edit previews flag"
        " grids above. [households]",
    )
    sliver_tolerance_m2: float = Field(
        1.0,
        description="Gaps, overlaps and overhangs up to this area are warnings, not errors"
        " (imports and edits). [m²]",
    )
    edit_max_vertices: int = Field(
        5000,
        description="Most vertices a line or outline drawn for a grid edit may have. [vertices]",
    )
    edit_min_grid_area_m2: float = Field(
        100.0,
        description="Smallest grid an edit may leave; anything smaller is a sliver, not a"
        " grid. [m²]",
    )
    timezone: str = Field(
        "Asia/Shanghai",
        description="Local time of the hotline: report days and due dates count in it, and times"
        " given without an offset are read in it. [IANA time zone]",
    )
    classes: ClassThresholds = Field(
        default_factory=ClassThresholds,
        description="Community class thresholds, each its own `WANGGE_CLASS_*` variable. [group]",
    )
    loop: WorkflowRules = Field(
        default_factory=WorkflowRules,
        description="Clocks and limits of the 12345 loop, each its own `WANGGE_LOOP_*`"
        " variable. [group]",
    )

    basemap_url: str = Field(
        "",
        description="XYZ tile URL with {z}/{x}/{y} under the map pages; empty: a light basemap"
        " drawn from the city's own district and street layers, and the pages work offline."
        " [URL template]",
    )
    basemap_attribution: str = Field("", description="Attribution shown with the basemap. [text]")
    basemap_max_zoom: int = Field(
        18, description="Highest zoom level the basemap serves. [zoom level]"
    )
    basemap_gcj02: bool = Field(
        False,
        description="The basemap is in GCJ-02 (Amap, Tencent tiles): overlays and tiles are shifted"
        " onto it. [true/false]",
    )

    # HTTP limits.
    max_body_bytes: int = Field(
        1_000_000,
        description="Largest request body; a larger one is refused (413) before it is read,"
        " chunked bodies included. [bytes]",
    )
    max_page_size: int = Field(
        1000, description="Most items one page of a list may hold (`limit`). [items]"
    )
    max_bulk_bytes: int = Field(
        256_000_000,
        description="Largest body of a bulk incident intake (CSV/NDJSON), which may be far larger"
        " than an ordinary body. [bytes]",
    )
    # Photos on incidents (附件).
    media_max_bytes: int = Field(
        10_000_000,
        ge=1,
        description="Largest photo one upload may carry (POST /api/v1/incidents/{id}/media);"
        " a larger one is refused (413). [bytes]",
    )
    media_max_pixels: int = Field(
        40_000_000,
        ge=1,
        description="Most pixels (width × height) a photo may declare; a larger one, a"
        " decompression bomb among them, is refused before it is decoded. [pixels]",
    )
    media_max_per_incident: int = Field(
        9, ge=1, description="Most photos one incident may hold. [photos]"
    )
    media_public: bool = Field(
        False,
        description="Viewers (and anonymous readers, with WANGGE_ANONYMOUS_READ) see incident"
        " photos and Open311 `media_url`; false: only dispatchers and above and the"
        " responsible unit's staff, since photos may show people's homes. [true/false]",
    )
    anonymous_read: bool = Field(
        True,
        description="Reads need no token (boundaries, locate, maps, tiles, features); false: every"
        " read needs a token or a sign-in session. [true/false]",
    )
    session_max_age_s: int = Field(
        default=12 * 3600,
        ge=60,
        description="How long the map pages' sign-in session cookie lasts: a working day. [s]",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Key (text, at least 32 characters) signing the map session cookies;"
        " unset: a random key generated on first use and kept in <state_dir>/session_secret"
        " (mode 600), shared by every worker process. [text]",
    )
    max_vertices: int = Field(
        50_000,
        description="Most vertices one geometry in a request may have (edits, imports over HTTP,"
        " siting areas). [vertices]",
    )
    rate_limit_per_s: float = Field(
        5000.0,
        description="Requests per second per token (or per client address without one), token"
        " bucket; generous by default, lower it on exposed sites; 0 turns the limit off."
        " [requests/s]",
    )
    rate_limit_burst: int = Field(
        10_000,
        description="Requests a token bucket holds when full: the burst allowed above the"
        " rate. [requests]",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (CORS), comma-separated:"
        " `https://a.gov.cn,https://b.gov.cn`; empty: same origin only. [origins]",
    )
    content_security_policy: str = Field(
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; worker-src 'self' blob:; font-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'",
        description="Content-Security-Policy of every response: pages load only same-origin"
        " assets (Leaflet, Swagger UI from /vendor), maps use inline scripts and data:/blob:"
        " images; add a basemap host to img-src if one is used. [header value]",
    )

    @field_validator("cors_origins", "metrics_allow", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
