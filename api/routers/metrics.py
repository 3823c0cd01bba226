"""``GET /metrics``: the server's metrics in Prometheus text format, for operators.

Only the addresses in ``WANGGE_METRICS_ALLOW`` (this machine by default) may read them:
route names, latencies and pool use tell an attacker more than a citizen needs.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy.exc import SQLAlchemyError

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


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, engine: EngineDep) -> Response:
    if not allowed(
        request.client.host if request.client else None, request.app.state.settings.metrics_allow
    ):
        raise HTTPException(403, "metrics are for the addresses in WANGGE_METRICS_ALLOW only")
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
