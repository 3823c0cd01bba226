"""``GET /metrics``: the server's metrics in Prometheus text format, for operators.

They need an admin token, except for a scraper at an address in ``WANGGE_METRICS_ALLOW``
(none by default): route names, latencies and pool use tell an attacker more than a
citizen needs.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.exc import SQLAlchemyError

from api.auth import ANONYMOUS, Principal, require
from api.deps import EngineDep
from api.observe import exposition, update_assigner, update_pool, update_replication
from gis.replication import replication_status

router = APIRouter(tags=["operations"])


def allowed(client: str | None, allow: list[str]) -> bool:
    if client is None:
        return False
    try:
        address = ip_address(client)
        return any(address in ip_network(entry, strict=False) for entry in allow)
    except ValueError:
        return False


_admin = require("admin")


async def operator(request: Request) -> Principal:
    """Dependency: a scraper at an allowed address, or else an admin."""
    client = request.client.host if request.client else None
    if allowed(client, request.app.state.settings.metrics_allow):
        return ANONYMOUS
    return await _admin(request)


operator.required_role = "admin"  # type: ignore[attr-defined]


@router.get("/metrics", include_in_schema=False)
def metrics(engine: EngineDep, _: Annotated[Principal, Depends(operator)]) -> Response:
    update_pool(engine)
    update_assigner(engine)
    try:
        with engine.connect() as conn:
            status = replication_status(conn)
        update_replication(status.role, status.lag_s)
    except SQLAlchemyError:
        update_replication("primary", None)  # unknown while the database is away
    body, content_type = exposition()
    return Response(body, media_type=content_type)
