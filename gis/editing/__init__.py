"""Grid editing (网格调整): operations, preview, versioned commits, history and undo.

A planner previews an edit (:func:`preview_edit`), then commits it against the
base version the preview returned (:func:`commit_edit`); a stale base is a 409.
"""

from gis.editing.commit import CommitResult, apply_edit, commit_edit, preview_edit
from gis.editing.history import grid_history, version_detail
from gis.editing.request import OPERATIONS, EditRequest

__all__ = [
    "OPERATIONS",
    "CommitResult",
    "EditRequest",
    "apply_edit",
    "commit_edit",
    "grid_history",
    "preview_edit",
    "version_detail",
]
