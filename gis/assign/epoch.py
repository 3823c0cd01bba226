"""The assignment epoch and lock (分配依据): what orders incident writes against edits.

Every statement that writes what assignment reads (boundaries, stations, compounds,
party branches) first takes the lock ``INPUTS_LOCK_KEY`` exclusively and moves
``assignment_inputs.epoch``: triggers of migration 0005 do it, so no writer can forget. A
write to the boundaries also moves ``boundaries_epoch`` to the new epoch (migration 0006):
an assigner of the same boundaries epoch keeps its boundary indexes across a reload.
An incident write takes the same lock shared (:func:`lock_shared`) before it assigns, and
assigns with an assigner of the epoch it reads under it. A change committed before the
write is therefore seen by it, and a change committed after waits for it and then
re-assigns what it stored: no incident keeps a grid or station a change has replaced.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

INPUTS_LOCK_KEY = 0x57616E67  # "Wang"; migration 0005 repeats it in its triggers

_EPOCH = text("SELECT epoch FROM assignment_inputs WHERE id = 1")
_EPOCHS = text("SELECT epoch, boundaries_epoch FROM assignment_inputs WHERE id = 1")


def current_epoch(conn: Connection | Session) -> int:
    """The epoch as ``conn`` sees it (0 in a database no change has touched)."""
    return int(conn.execute(_EPOCH).scalar_one_or_none() or 0)


def current_epochs(conn: Connection | Session) -> tuple[int, int]:
    """(epoch, boundaries epoch) as ``conn`` sees them."""
    row = conn.execute(_EPOCHS).one_or_none()
    return (int(row[0]), int(row[1])) if row is not None else (0, 0)


def lock_exclusive(conn: Connection | Session) -> None:
    """Take the lock as a writer of assignment inputs does (edits take it first thing)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": INPUTS_LOCK_KEY})


def lock_shared(conn: Connection | Session) -> int:
    """Take the lock shared for the rest of the transaction; return the epoch under it."""
    conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": INPUTS_LOCK_KEY})
    return current_epoch(conn)
