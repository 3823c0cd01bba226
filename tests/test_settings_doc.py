"""The settings reference: every setting described with its unit, and docs/settings.md
equal to what the descriptions generate (so the page cannot drift from the code)."""

from __future__ import annotations

import contextlib
import io
import sys

import pytest
from pydantic_settings import BaseSettings

from api.cli.main import main
from gis.settings import ClassThresholds, Settings
from gis.settings_doc import DOC_PATH, markdown, rows, split_unit


def _leaf_fields(model: type[BaseSettings]) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            names += _leaf_fields(annotation)
        else:
            names.append(name)
    return names


def test_every_setting_has_a_description_and_a_unit() -> None:
    for model in (Settings, ClassThresholds):
        for name, field in model.model_fields.items():
            description, unit = split_unit(field.description)
            assert description, f"{model.__name__}.{name} has no description"
            assert unit, f"{model.__name__}.{name}: the description names no [unit]"


def test_the_reference_lists_every_setting_once() -> None:
    envs = [r.env for r in rows()]
    assert len(envs) == len(set(envs)) == len(_leaf_fields(Settings))
    assert "WANGGE_SNAP_TOLERANCE_M" in envs
    assert "WANGGE_CLASS_B_MIN_RESIDENTS" in envs
    snap = next(r for r in rows() if r.env == "WANGGE_SNAP_TOLERANCE_M")
    assert (snap.type, snap.default, snap.unit) == ("float", "`50.0`", "m")


def test_docs_settings_md_is_the_generated_reference() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == markdown(), (
        "docs/settings.md is out of date: run `.venv/bin/python -m gis.settings_doc --write`"
    )


def test_wangge_settings_prints_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["wangge", "settings", "--markdown"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main()
    assert out.getvalue() == markdown()
