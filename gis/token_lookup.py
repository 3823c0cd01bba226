"""Who a token is (令牌核验), on the path every request takes.

One prepared statement on a small pool of autocommit connections of its own: no ORM, no
transaction to open and end, no liveness ping before each use. A connection the server
closed (a restart, a failover) fails once, is dropped, and the lookup is made again on a
fresh one, connected then and there (an outage ends for the lookups when the database is
back, with no back-off in between). A revoked token is refused by the next request:
nothing is kept between lookups.

``last_used_at`` is a day-to-day fact, refreshed at most once a minute so a busy token
does not turn every read into a write; a node that takes no writes (a standby, or a
primary being demoted) is asked without refreshing it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import psycopg
from sqlalchemy import create_engine

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
    def __init__(self, url: str, pool_size: int = 4) -> None:
        # SQLAlchemy's pool for its connecting: in the caller's thread, with a timeout.
        self.engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5, "prepare_threshold": 1},
        )

    def by_hash(self, token_hash: str, record: bool = True) -> TokenHolder | None:
        return self._find(BY_HASH, token_hash, record)

    def by_id(self, token_id: int, record: bool = True) -> TokenHolder | None:
        return self._find(BY_ID, token_id, record)

    def _find(self, sql: str, key: str | int, record: bool) -> TokenHolder | None:
        try:
            return self._once(sql, key, record)
        except psycopg.OperationalError:
            # A pooled connection the server closed since its last use (it was dropped):
            # a fresh one answers, or the database is really down and this raises.
            return self._once(sql, key, record)

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

    def close(self) -> None:
        self.engine.dispose()


_LOOKUPS: dict[str, TokenLookup] = {}
_LOOKUPS_LOCK = threading.Lock()


def token_lookup(url: str) -> TokenLookup:
    """The token lookup of a database, made on first use and kept for the process."""
    with _LOOKUPS_LOCK:
        lookup = _LOOKUPS.get(url)
        if lookup is None:
            lookup = _LOOKUPS[url] = TokenLookup(url)
        return lookup
