"""What an incident looks like on the way in (诉求受理): field rules shared by every intake.

The JSON API validates with :class:`IncidentIn`; bulk files and :func:`gis.incidents.ingest`
apply the same limits column-wise (``gis.incidents.bulk``), so the constants live here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.models import CHANNELS, STATUSES, IncidentCategory

MAX_DESCRIPTION = 4000
MAX_EXTERNAL_ID = 64
MAX_ADDRESS = 300
MAX_REPORTER_NAME = 60
MAX_REPORTER_PHONE = 32

Channel = Literal[
    "hotline_call",
    "wechat",
    "mayor_mailbox",
    "provincial_site",
    "peoples_daily",
    "patrol",
    "open311",
    "app",
]
Status = Literal["received", "dispatched", "in_progress", "replied", "closed"]
assert set(Channel.__args__) == set(CHANNELS)  # type: ignore[attr-defined]
assert set(Status.__args__) == set(STATUSES)  # type: ignore[attr-defined]

# Messages (留言) as the daily report counts them; hotline_call is a call (来电).
MESSAGE_CHANNELS = ("wechat", "mayor_mailbox", "provincial_site", "peoples_daily")


class IncidentIn(BaseModel):
    """A new report as a dispatcher or a connected system sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str | None = Field(
        None, min_length=1, max_length=MAX_EXTERNAL_ID, description="id in the hotline system"
    )
    channel: Channel
    category_code: str = Field(min_length=1, max_length=32)
    description: str = Field("", max_length=MAX_DESCRIPTION)
    address: str | None = Field(None, max_length=MAX_ADDRESS)
    lon: float = Field(allow_inf_nan=False)
    lat: float = Field(allow_inf_nan=False)
    crs: str = Field("wgs84", description="wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>")
    reporter_name: str | None = Field(None, max_length=MAX_REPORTER_NAME)
    reporter_phone: str | None = Field(None, max_length=MAX_REPORTER_PHONE)
    received_at: datetime | None = None


class ImportRecord(IncidentIn):
    """A record from another system, possibly already further along the 12345 loop."""

    handled_directly: bool = False
    status: Status = "received"
    closed_at: datetime | None = None
    callback_at: datetime | None = None
    rating: int | None = Field(None, ge=1, le=5)


def categories(session: Session) -> dict[str, int]:
    """Active category codes → due working days."""
    rows = session.execute(
        select(IncidentCategory.code, IncidentCategory.due_working_days).where(
            IncidentCategory.active
        )
    )
    return {code: int(days) for code, days in rows}


def check_category(known: dict[str, int], code: str) -> int:
    if code not in known:
        shown = ", ".join(sorted(known)[:12]) or "none defined"
        raise InvalidInput(f"unknown category_code {code!r}; known: {shown}", field="category_code")
    return known[code]
