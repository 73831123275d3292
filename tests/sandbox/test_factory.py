"""The sandbox package: a sandbox built by name, and where the leftovers of dead runs are looked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenpath import config
from goldenpath.errors import UserError
from goldenpath.sandbox import SANDBOXES, clusters_dir, collect_leftovers, get_sandbox, kwok
from goldenpath.sandbox.local import LocalSandbox


def test_every_sandbox_name_has_a_factory() -> None:
    assert tuple(SANDBOXES) == config.SANDBOX_NAMES


def test_the_local_sandbox_is_built_by_name(tmp_path: Path) -> None:
    assert isinstance(get_sandbox("local", config.Settings(root=tmp_path)), LocalSandbox)


def test_an_unknown_sandbox_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown sandbox 'nowhere'"):
        get_sandbox("nowhere", config.Settings(root=tmp_path))


@pytest.mark.parametrize("elsewhere", [False, True])
def test_clusters_are_looked_for_where_the_kwok_sandbox_makes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, elsewhere: bool
) -> None:
    """The package knows the folder without importing the kwok module; both must agree."""
    monkeypatch.delenv("GOLDENPATH_SANDBOX_DIR", raising=False)
    if elsewhere:
        monkeypatch.setenv("GOLDENPATH_SANDBOX_DIR", str(tmp_path / "elsewhere"))
    settings = config.Settings(root=tmp_path)
    assert clusters_dir(settings) == kwok.sandbox_dir(settings) / "kwok"


def test_no_clusters_folder_means_nothing_to_collect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDENPATH_SANDBOX_DIR", str(tmp_path / "sandbox"))
    monkeypatch.setenv("GOLDENPATH_RUNS_DIR", str(tmp_path / "runs"))
    assert collect_leftovers(config.Settings(root=tmp_path)) == []
