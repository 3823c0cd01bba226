"""Which node this is and how far behind its copies are (主备复制状态), for /health and /metrics.

On a primary the lag is the largest replay lag of its standbys (0 without any); on a
standby it is the age of the last transaction replayed, 0 when it has replayed all it
received (an idle primary sends nothing, and that is no lag).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, text

_QUERY = text(
    """
    SELECT pg_is_in_recovery() AS standby,
           CASE WHEN NOT pg_is_in_recovery() THEN
                  coalesce((SELECT max(extract(epoch FROM replay_lag)) FROM pg_stat_replication), 0)
                WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())
           END AS lag_s,
           (SELECT count(*) FROM pg_stat_replication) AS standbys
    """
)


@dataclass(frozen=True)
class ReplicationStatus:
    role: Literal["primary", "standby"]
    lag_s: float | None  # None: a standby that has replayed nothing yet
    standbys: int  # standbys streaming from this node


def replication_status(conn: Connection) -> ReplicationStatus:
    row = conn.execute(_QUERY).one()
    return ReplicationStatus(
        role="standby" if row.standby else "primary",
        lag_s=None if row.lag_s is None else max(0.0, float(row.lag_s)),
        standbys=int(row.standbys),
    )
