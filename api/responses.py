"""The JSON response of the busy routes: orjson, straight from dicts the domain built.

FastAPI would validate such a dict against its annotation before writing it; these
routes return this response instead, and their annotation stays for the schema only.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class FastJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
