"""How much run history to keep: ``history_keep_runs`` and ``history_keep_days`` per guide.

A guide's run is removed when it is beyond the guide's newest ``runs`` runs or finished more than
``days`` days ago (either limit removes it; 0 is no limit), unless the guide's status is decided
from it: the newest run, the newest pass, failure and timeout, the newest pass in which every
step ran for real, and the first failure since the newest pass are always kept
(:data:`.schema.DECIDING`). So pruning never changes a status, its "last verified" or "broken
since" date, the step durations that shards are balanced by, or the page's estimated time; the
status page's trend shows the passes that are kept. It runs in the transaction that records a run
(or merges a file), for the guides written: one indexed look-up and delete per guide.
"""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from goldenpath.config import Settings
from goldenpath.status import schema


@dataclass(frozen=True)
class Retention:
    """How many runs of each guide to keep, and for how long; 0 keeps them all."""

    runs: int = 0
    days: int = 0

    @classmethod
    def of(cls, settings: Settings) -> Retention:
        return cls(settings.history_keep_runs, settings.history_keep_days)

    @property
    def keeps_all(self) -> bool:
        return self.runs <= 0 and self.days <= 0


KEEP_ALL = Retention()
"""Every run, for ever: the default."""


def prune(
    conn: sqlite3.Connection,
    guide_ids: Iterable[str],
    retention: Retention,
    now: datetime.datetime | None = None,
) -> int:
    """Inside a write transaction: remove the runs of ``guide_ids`` that ``retention`` lets go, with
    their steps; return how many runs were removed."""
    if retention.keeps_all:
        return 0
    limits = []
    params: dict[str, object] = {}
    if retention.runs > 0:
        limits.append(
            "rowid NOT IN (SELECT rowid FROM runs WHERE guide_id = :guide "
            "ORDER BY finished DESC, rowid DESC LIMIT :keep)"
        )
        params["keep"] = retention.runs
    if retention.days > 0:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        limits.append("finished < :cutoff")
        params["cutoff"] = (now - datetime.timedelta(days=retention.days)).isoformat()
    doomed = f"""
        WITH RECURSIVE wanted(guide_id) AS (SELECT :guide), {schema.DECIDING}
        SELECT run_id, guide_id FROM runs
        WHERE guide_id = :guide AND ({" OR ".join(limits)}) AND rowid NOT IN (SELECT id FROM deciding)
    """
    removed = 0
    for guide_id in dict.fromkeys(guide_ids):
        runs = conn.execute(doomed, {**params, "guide": guide_id}).fetchall()
        conn.executemany("DELETE FROM steps WHERE run_id = ? AND guide_id = ?", runs)
        conn.executemany("DELETE FROM runs WHERE run_id = ? AND guide_id = ?", runs)
        removed += len(runs)
    return removed
