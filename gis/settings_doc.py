"""The settings reference (docs/settings.md), generated from :mod:`gis.settings`.

    python -m gis.settings_doc           # print it
    python -m gis.settings_doc --write   # write docs/settings.md

Each field's description ends with its unit in brackets ("... [ms]"); the table shows the
environment variable, type, default, unit and description of every setting, nested groups
(the community class thresholds) expanded under their own prefix.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from gis.settings import PROJECT_ROOT, Settings

DOC_PATH = PROJECT_ROOT / "docs" / "settings.md"
UNIT = re.compile(r"\s*\[([^\[\]]+)\]$")

INTRO = """\
# Settings

Every setting is an environment variable with the prefix `WANGGE_` (the community class
thresholds: `WANGGE_CLASS_`, the 12345 loop: `WANGGE_LOOP_`), read once per process by
`gis.settings.get_settings()`.
Booleans take `true`/`false`; `WANGGE_CORS_ORIGINS` is comma-separated.

This page is generated from the descriptions in `gis/settings.py`
(`python -m gis.settings_doc --write`, or `wangge settings --markdown`); a test keeps it
equal to them.
"""


@dataclass(frozen=True)
class SettingDoc:
    """One row of the reference."""

    env: str
    type: str
    default: str
    unit: str
    description: str


def type_name(annotation: Any) -> str:
    """``int``, ``str | None``, ``list[str]``, ``path``: the type as a reader writes it."""
    origin = get_origin(annotation)
    if origin in (UnionType, Union):
        return " | ".join("None" if a is NoneType else type_name(a) for a in get_args(annotation))
    if origin is not None:
        inner = ", ".join(type_name(a) for a in get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is Path:
        return "path"
    return str(getattr(annotation, "__name__", annotation))


def default_text(field: FieldInfo) -> str:
    """The default as it reads in the docs: the same on every machine."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "default_shown" in extra:
        return str(extra["default_shown"])
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is None or value is PydanticUndefined:
        return "unset"
    if isinstance(value, Path):
        try:
            return f"`<checkout>/{value.relative_to(PROJECT_ROOT)}`"
        except ValueError:
            return f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return "`" + ",".join(map(str, value)) + "`" if value else "empty"
    if value == "":
        return "empty"
    return f"`{value}`"


def split_unit(description: str | None) -> tuple[str, str]:
    """(description without its unit, unit); the unit is "" when the description has none."""
    text = (description or "").strip()
    found = UNIT.search(text)
    if not found:
        return text, ""
    return text[: found.start()].rstrip(), found.group(1)


def rows(model: type[BaseSettings] = Settings) -> list[SettingDoc]:
    """One row per setting, in the order ``model`` declares them."""
    prefix = str(model.model_config.get("env_prefix", ""))
    out: list[SettingDoc] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            out += rows(annotation)
            continue
        description, unit = split_unit(field.description)
        out.append(
            SettingDoc(
                env=f"{prefix}{name}".upper(),
                type=type_name(annotation),
                default=default_text(field),
                unit=unit,
                description=description,
            )
        )
    return out


def markdown() -> str:
    """The whole of docs/settings.md."""
    lines = [
        INTRO,
        "| variable | type | default | unit | description |",
        "|---|---|---|---|---|",
    ]
    for r in rows():
        cells = (f"`{r.env}`", f"`{r.type}`", r.default, r.unit, r.description)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The settings reference as Markdown.")
    parser.add_argument("--write", action="store_true", help=f"write {DOC_PATH.name} in docs/")
    args = parser.parse_args(argv)
    text = markdown()
    if args.write:
        DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
        DOC_PATH.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
