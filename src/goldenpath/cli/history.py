"""``goldenpath history merge``: the run histories of several machines (shards) into one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from goldenpath import config
from goldenpath.errors import EXIT_OK
from goldenpath.status.merge import merge as merge_histories


def merge(sources: Sequence[Path], into: Path | None = None, golden_paths: Path | None = None) -> int:
    """Copy every run of each source into ``into`` (default: the project's run history), once.

    Prints ``merged N new run(s) from M file(s) into TARGET (K already there)``.
    ``golden_paths`` is accepted like every command's and unused: a run names its guide by id.
    """
    target = into if into is not None else config.load_settings().history_path
    print(merge_histories(sources, target))
    return EXIT_OK
