"""Fixtures of the operations tests: a backup repository beside a scratch cluster."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def backup_dir(scratch_state_dir: Path) -> Iterator[Path]:
    """A (not yet existing) backup repository folder, removed afterwards."""
    path = scratch_state_dir.with_name(scratch_state_dir.name + "-repo")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def restore_dir(scratch_state_dir: Path) -> Iterator[Path]:
    """Where a restore may put its new cluster; stopped and removed afterwards."""
    from gis.cluster import Cluster

    path = scratch_state_dir.with_name(scratch_state_dir.name + "-restored")
    yield path
    if (path / "pgdata").exists():
        Cluster(state_dir=path).down()
    shutil.rmtree(path, ignore_errors=True)
