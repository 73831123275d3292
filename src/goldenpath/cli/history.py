"""``goldenpath history merge``: the run histories of several machines (shards) into one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from goldenpath import config
from goldenpath.errors import EXIT_OK
from goldenpath.status.merge import merge as merge_histories
from goldenpath.status.retention import Retention


def merge(sources: Sequence[Path], into: Path | None = None, golden_paths: Path | None = None) -> int:
    """Copy every run of each source into ``into`` (default: the project's run history), once.

    Prints ``merged N new run(s) from M file(s) into TARGET (K already there)``; the project's
    ``history_keep_*`` settings then apply to the target.
    ``golden_paths`` is accepted like every command's and unused: a run names its guide by id.
    """
    settings = config.load_settings()
    target = into if into is not None else settings.history_path
    print(merge_histories(sources, target, Retention.of(settings)))
    return EXIT_OK
