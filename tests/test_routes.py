"""The app tries its busiest routers first (api.app.BUSIEST_ROUTERS): that must change no
answer. A route moved forward may not take a path a later router also answers."""

from __future__ import annotations

import importlib
import re

from starlette.routing import compile_path

from api.app import BUSIEST_ROUTERS, router_order

PARAM = re.compile(r"\{([^}:]+)(:[^}]+)?\}")


def _routes(module: str) -> list[tuple[str, set[str]]]:
    router = getattr(importlib.import_module(f"api.routers.{module}"), "router", None)
    if router is None:
        return []
    return [(r.path, set(getattr(r, "methods", None) or {"GET"})) for r in router.routes]


def _sample(path: str) -> str:
    """A concrete path the route answers: every parameter given a plain value."""
    return PARAM.sub("1", path)


def test_busiest_routers_come_first_and_none_is_lost() -> None:
    order = router_order()
    assert tuple(order[: len(BUSIEST_ROUTERS)]) == BUSIEST_ROUTERS
    assert len(order) == len(set(order))


def test_moving_the_busiest_routers_forward_changes_no_answer() -> None:
    clashes = []
    moved = {m: _routes(m) for m in BUSIEST_ROUTERS}
    others = {m: _routes(m) for m in router_order() if m not in BUSIEST_ROUTERS}
    assert sum(len(r) for r in moved.values()) > 10 and sum(len(r) for r in others.values()) > 40
    for first, first_routes in moved.items():
        for path, methods in first_routes:
            regex = compile_path(path)[0]
            for later, later_routes in others.items():
                for other_path, other_methods in later_routes:
                    other_regex = compile_path(other_path)[0]
                    overlap = regex.match(_sample(other_path)) or other_regex.match(_sample(path))
                    if overlap and methods & other_methods:
                        clashes.append(f"{first}:{path} and {later}:{other_path}")
    assert not clashes, clashes
