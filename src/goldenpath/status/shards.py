"""Shards: the guides of one check split over N machines, balanced by their recorded durations.

``goldenpath check --shard K/N`` and ``pytest --shard K/N`` run shard K of N. Every machine
computes the same split from the same run history (or from none), so the shards together run
every selected guide exactly once without talking to each other:

* a guide's expected seconds are the total step duration of its latest passing run; a guide
  without a passing run gets the median of the others, or 1.0 when none has one;
* guides are taken longest first (ties by id) and each goes to the least-loaded shard (ties to
  the lowest shard). With no history every guide weighs 1.0: a round-robin by id.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence

from goldenpath.errors import UserError
from goldenpath.status.history import History

DEFAULT_SECONDS = 1.0
"""What a guide is expected to take when no guide has a passing run."""
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` as ``(2, 3)``; raise :class:`UserError` unless it is K/N with 1 <= K <= N."""
    match = _SHARD.fullmatch(text)
    if match is None:
        raise UserError(f"expected K/N, e.g. 2/3 for the second of three shards, got {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise UserError(f"{text!r} is not a shard: K/N needs 1 <= K <= N, e.g. 1/{max(count, 2)}")
    return index, count


def recorded_seconds(history: History) -> dict[str, float]:
    """Per guide, the total step duration of its latest passing run in ``history``."""
    return {
        guide_id: math.fsum(steps.values())  # exact, so the order of the rows never matters
        for guide_id, steps in sorted(history.step_durations().items())
    }


def expected_seconds(guide_ids: Iterable[str], durations: Mapping[str, float]) -> dict[str, float]:
    """Each guide's expected seconds: recorded, else the median of the recorded others, else 1.0."""
    ids = list(dict.fromkeys(guide_ids))
    known = sorted(durations[i] for i in ids if i in durations)
    fallback = statistics.median(known) if known else DEFAULT_SECONDS
    return {i: durations.get(i, fallback) for i in ids}


def split(guide_ids: Iterable[str], durations: Mapping[str, float], count: int) -> list[list[str]]:
    """``count`` shards of the guides (each sorted by id; some may be empty), longest first to
    the least-loaded shard. Every id is in exactly one shard; the same input, the same shards."""
    if count < 1:
        raise ValueError(f"a split needs at least one shard, got {count}")
    seconds = expected_seconds(guide_ids, durations)
    loads = [0.0] * count
    shards: list[list[str]] = [[] for _ in range(count)]
    for guide_id in sorted(seconds, key=lambda i: (-seconds[i], i)):
        lightest = min(range(count), key=lambda n: (loads[n], n))
        shards[lightest].append(guide_id)
        loads[lightest] += seconds[guide_id]
    return [sorted(shard) for shard in shards]


def shard_of(guide_ids: Sequence[str], durations: Mapping[str, float], shard: tuple[int, int]) -> list[str]:
    """The guides of shard K of N (``shard`` = (K, N)), in the order of ``guide_ids``."""
    index, count = shard
    chosen = set(split(guide_ids, durations, count)[index - 1])
    return [i for i in dict.fromkeys(guide_ids) if i in chosen]


def describe(shard: tuple[int, int], chosen: Sequence[str], total: int) -> str:
    """``shard 1/2: 3 of 6 guides: a, b, c``: what this machine runs."""
    index, count = shard
    noun = "guide" if total == 1 else "guides"
    names = ", ".join(sorted(chosen)) or "nothing to check"
    return f"shard {index}/{count}: {len(chosen)} of {total} {noun}: {names}"
