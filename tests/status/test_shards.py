"""Shards: the deterministic, duration-balanced split of guides over machines."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import pytest

from goldenpath.errors import UserError
from goldenpath.status.history import History
from goldenpath.status.shards import (
    describe,
    expected_seconds,
    parse_shard,
    recorded_seconds,
    shard_of,
    split,
)
from helpers import guide_run

IDS = ["alpha", "bravo", "charlie", "delta", "echo"]


def test_every_id_is_in_exactly_one_shard_for_any_count() -> None:
    durations = {"alpha": 30.0, "charlie": 2.5, "echo": 0.1}
    for count in range(1, 9):  # 6, 7 and 8 shards: more shards than guides
        shards = split(IDS, durations, count)
        assert len(shards) == count
        flat = list(itertools.chain.from_iterable(shards))
        assert sorted(flat) == IDS, count
        if count > len(IDS):
            assert sum(1 for shard in shards if not shard) == count - len(IDS)


def test_the_split_is_deterministic_whatever_the_order_of_the_ids() -> None:
    durations = {"alpha": 3.0, "bravo": 3.0, "charlie": 1.0, "delta": 2.0}
    first = split(IDS, durations, 3)
    for seed in range(20):
        shuffled = IDS[:]
        random.Random(seed).shuffle(shuffled)
        assert split(shuffled, dict(reversed(list(durations.items()))), 3) == first
    # Longest first, ties by id, each to the least-loaded shard (ties to the lowest shard):
    # alpha 3 -> 1, bravo 3 -> 2, echo (no run: the median, 2.5) -> 3, delta 2 -> 3, charlie 1 -> 1.
    assert first == [["alpha", "charlie"], ["bravo"], ["delta", "echo"]]


def test_a_long_guide_is_alone_in_its_shard() -> None:
    durations = {"alpha": 1.0, "bravo": 120.0, "charlie": 1.5, "delta": 0.5, "echo": 2.0}
    assert split(IDS, durations, 2) == [["bravo"], ["alpha", "charlie", "delta", "echo"]]
    loads = [sum(durations[i] for i in shard) for shard in split(IDS, durations, 3)]
    assert loads == [120.0, 2.5, 2.5]


def test_without_a_history_it_is_a_round_robin_by_id() -> None:
    assert split(["delta", "alpha", "charlie", "bravo", "echo"], {}, 2) == [
        ["alpha", "charlie", "echo"],
        ["bravo", "delta"],
    ]
    assert split(IDS, {}, 1) == [IDS]
    assert split([], {}, 3) == [[], [], []]


def test_guides_without_a_passing_run_weigh_the_median_of_the_others() -> None:
    assert expected_seconds(IDS, {"alpha": 1.0, "bravo": 2.0, "charlie": 9.0}) == {
        "alpha": 1.0,
        "bravo": 2.0,
        "charlie": 9.0,
        "delta": 2.0,
        "echo": 2.0,
    }
    # Durations of guides outside the selection (deleted, or not affected) do not count.
    assert expected_seconds(["alpha", "bravo"], {"zulu": 50.0}) == {"alpha": 1.0, "bravo": 1.0}


def test_shard_of_keeps_the_order_of_the_guides_and_describe_says_it() -> None:
    ids = ["echo", "alpha", "delta", "bravo", "charlie"]
    assert shard_of(ids, {}, (1, 2)) == ["echo", "alpha", "charlie"]
    assert shard_of(ids, {}, (2, 2)) == ["delta", "bravo"]
    assert (
        describe((1, 2), ["echo", "alpha", "charlie"], 5) == "shard 1/2: 3 of 5 guides: alpha, charlie, echo"
    )
    assert describe((3, 3), [], 1) == "shard 3/3: 0 of 1 guide: nothing to check"


@pytest.mark.parametrize(("text", "parsed"), [("1/1", (1, 1)), ("2/3", (2, 3)), (" 3 / 3 ", (3, 3))])
def test_parse_shard(text: str, parsed: tuple[int, int]) -> None:
    assert parse_shard(text) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0/2", "'0/2' is not a shard: K/N needs 1 <= K <= N"),
        ("3/2", "'3/2' is not a shard: K/N needs 1 <= K <= N"),
        ("1/0", "'1/0' is not a shard"),
        ("x", "expected K/N, e.g. 2/3"),
        ("2", "expected K/N"),
        ("-1/2", "expected K/N"),
        ("1/2/3", "expected K/N"),
    ],
)
def test_parse_shard_refuses_what_is_not_k_of_n(text: str, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        parse_shard(text)


def test_recorded_seconds_are_the_steps_of_the_latest_passing_run(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    assert recorded_seconds(history) == {}
    history.record(guide_run("alpha", "r1", (1.0, 2.0), day=1))
    history.record(guide_run("alpha", "r2", (4.0, 0.5), day=2))
    history.record(guide_run("alpha", "r3", (9.0, 9.0), outcome="failed", day=3))  # not a pass: ignored
    history.record(guide_run("bravo", "r1", (0.25,), day=1))
    history.record(guide_run("charlie", "r1", (7.0,), outcome="failed", day=1))
    assert recorded_seconds(history) == {"alpha": 4.5, "bravo": 0.25}
