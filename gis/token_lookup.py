"""Who a token is (令牌核验), on the path every request takes.

One prepared statement on the lean engine (:func:`gis.db.lean_engine`): no ORM, no
transaction to open and end, no liveness ping before each use. A connection the server
closed (a restart, a failover) fails once, is dropped, and the lookup is made again on a
fresh one. A revoked token is refused by the next request: nothing is kept between
lookups.

``last_used_at`` is a day-to-day fact, refreshed at most once a minute so a busy token
does not turn every read into a write; a node that takes no writes (a standby, or a
primary being demoted) is asked without refreshing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from gis.db import lean_engine, once_more_if_dropped

_SELECT = (
    "SELECT t.id, t.name, t.role, t.district_code, t.unit_code,"
    " t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute',"
    " CASE WHEN t.role = 'grid_worker' THEN ARRAY(SELECT g.grid_code FROM api_token_grids g"
    " WHERE g.token_id = t.id ORDER BY g.grid_code) END"
    " FROM api_tokens t WHERE t.revoked_at IS NULL AND "
)
BY_HASH = _SELECT + "t.token_hash = %s"
BY_ID = _SELECT + "t.id = %s"
RECORD_USE = "UPDATE api_tokens SET last_used_at = now() WHERE id = %s"


@dataclass(frozen=True)
class TokenHolder:
    """A live token: who holds it, the role, and what it is bound to."""

    id: int
    name: str
    role: str
    district_code: str | None
    unit_code: str | None
    # The grids a ``grid_worker`` token serves, in code order (none for other roles).
    grid_codes: tuple[str, ...]


class TokenLookup:
    def __init__(self, url: str) -> None:
        self.engine = lean_engine(url)

    def by_hash(self, token_hash: str, record: bool = True) -> TokenHolder | None:
        return once_more_if_dropped(lambda: self._once(BY_HASH, token_hash, record))

    def by_id(self, token_id: int, record: bool = True) -> TokenHolder | None:
        return once_more_if_dropped(lambda: self._once(BY_ID, token_id, record))

    def _once(self, sql: str, key: str | int, record: bool) -> TokenHolder | None:
        pooled = self.engine.raw_connection()
        cur = pooled.cursor()
        try:
            cur.execute(sql, (key,))
            row = cur.fetchone()
            if row is None:
                return None
            token_id, name, role, district, unit, stale, grids = row
            if record and stale:
                try:
                    cur.execute(RECORD_USE, (token_id,))
                except psycopg.errors.ReadOnlySqlTransaction:
                    # A demoted primary: reads go on; a new connection finds the new one.
                    pooled.invalidate()
            return TokenHolder(token_id, name, role, district, unit, tuple(grids or ()))
        except psycopg.OperationalError:
            pooled.invalidate()
            raise
        finally:
            cur.close()
            pooled.close()
