"""Sharding as CI runs it: each machine checks its shard and records its own history, one job
merges the histories. Real subprocesses, real history files, and ``pytest --shard``."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from git_repo import edit, make_repo
from goldenpath.status.history import History
from helpers import build_file_tree, guide_run, write_guide

pytest_plugins = ["pytester"]

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")
GUIDES = ("alpha", "bravo", "charlie", "delta", "echo")
HISTORY = "state/history.sqlite"


def goldenpath(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOLDENPATH, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "120"},
    )


def machines(tmp_path: Path, count: int, seed: Path | None = None) -> list[Path]:
    """``count`` project checkouts sharing the guides of ``tmp_path/gp``, each recording into its
    own history (``[tool.goldenpath] history``), all starting from ``seed`` when given."""
    for guide_id in GUIDES:
        if not (tmp_path / "gp" / guide_id).exists():
            write_guide(
                tmp_path / "gp", guide_id, [{"id": "hi", "title": "Say hi", "run": f"echo {guide_id}"}]
            )
    roots = []
    for n in range(1, count + 1):
        root = build_file_tree(
            tmp_path / f"machine-{n}",
            {"pyproject.toml": f'[tool.goldenpath]\ngolden_paths = "../gp"\nhistory = "{HISTORY}"\n'},
        )
        if seed is not None:
            (root / HISTORY).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(seed, root / HISTORY)
        roots.append(root)
    return roots


def run_shard(root: Path, shard: str, *names: str) -> tuple[str, list[str]]:
    """Check one shard on one machine: its shard line and the guides its JUnit report holds."""
    done = goldenpath(root, "check", "--shard", shard, "--junit", "junit.xml", *names)
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(text for text in done.stdout.splitlines() if text.startswith("shard "))
    cases = [case.get("name") or "" for case in ET.parse(root / "junit.xml").getroot().iter("testcase")]
    return line, cases


def recorded(path: Path) -> tuple[list[tuple[str, str]], list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        runs = conn.execute("SELECT guide_id, run_id FROM runs ORDER BY guide_id, run_id").fetchall()
        steps = conn.execute("SELECT * FROM steps ORDER BY run_id, guide_id, position").fetchall()
    conn.close()
    return runs, steps


def test_two_shards_run_every_guide_once_and_their_histories_merge(tmp_path: Path) -> None:
    one, two = machines(tmp_path, 2)
    # No history anywhere: a round-robin by id, the same on both machines.
    line_one, ran_one = run_shard(one, "1/2")
    line_two, ran_two = run_shard(two, "2/2")
    assert line_one == "shard 1/2: 3 of 5 guides: alpha, charlie, echo"
    assert line_two == "shard 2/2: 2 of 5 guides: bravo, delta"
    assert sorted(ran_one + ran_two) == list(GUIDES)
    runs_one, steps_one = recorded(one / HISTORY)
    runs_two, steps_two = recorded(two / HISTORY)
    assert [g for g, _ in runs_one] == ["alpha", "charlie", "echo"]
    assert [g for g, _ in runs_two] == ["bravo", "delta"]

    merged = tmp_path / "merged" / "history.sqlite"
    done = goldenpath(
        tmp_path, "history", "merge", str(one / HISTORY), str(two / HISTORY), "--into", str(merged)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"merged 5 new run(s) from 2 file(s) into {merged} (0 already there)\n"
    runs, steps = recorded(merged)
    assert runs == sorted(runs_one + runs_two) and len(set(runs)) == 5
    assert steps == sorted(steps_one + steps_two)
    again = goldenpath(
        tmp_path, "history", "merge", str(one / HISTORY), str(two / HISTORY), "--into", str(merged)
    )
    assert again.stdout == f"merged 0 new run(s) from 2 file(s) into {merged} (5 already there)\n"
    assert recorded(merged) == (runs, steps)


def test_shards_balance_by_the_restored_history_and_merge_back_into_it(tmp_path: Path) -> None:
    seed = History(tmp_path / "seed.sqlite")  # what CI restores from the data branch
    for i, guide_id in enumerate(GUIDES):
        seed.record(guide_run(guide_id, "previous", (90.0 if guide_id == "charlie" else 1.0 + i,)))
    central, one, two = machines(tmp_path, 3, seed=seed.path)
    line_one, ran_one = run_shard(one, "1/2")
    line_two, ran_two = run_shard(two, "2/2")
    assert line_one == "shard 1/2: 1 of 5 guides: charlie"  # the long one, alone
    assert line_two == "shard 2/2: 4 of 5 guides: alpha, bravo, delta, echo"
    assert sorted(ran_one + ran_two) == list(GUIDES)
    # The merge job: both shards into the restored history, the project's default target.
    done = goldenpath(central, "history", "merge", str(one / HISTORY), str(two / HISTORY))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"merged 5 new run(s) from 2 file(s) into {central / HISTORY} (10 already there)\n"
    )
    runs, _ = recorded(central / HISTORY)
    assert len(runs) == len(set(runs)) == 10
    assert {g for g, r in runs if r == "previous"} == set(GUIDES)
    assert sorted(g for g, r in runs if r != "previous") == list(GUIDES)


def test_a_shard_of_named_guides_and_an_empty_shard(tmp_path: Path) -> None:
    (root,) = machines(tmp_path, 1)
    line, ran = run_shard(root, "2/2", "echo", "alpha", "delta")
    assert line == "shard 2/2: 1 of 3 guides: delta" and ran == ["delta"]
    line, ran = run_shard(root, "4/4", "bravo")
    assert line == "shard 4/4: 0 of 1 guide: nothing to check" and ran == []


def test_the_affected_guides_are_sharded(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    edit(repo / "golden_paths/_shared/partials/footer.j2", "made by", "written by")  # alpha and beta
    lines = []
    for shard in ("1/2", "2/2"):
        done = goldenpath(repo, "check", "--affected", "--base", "main", "--shard", shard, "--no-history")
        assert done.returncode == 0, done.stdout + done.stderr
        lines.append(done.stdout.splitlines()[0])
    assert lines == ["shard 1/2: 1 of 2 guides: alpha", "shard 2/2: 1 of 2 guides: beta"]


@pytest.mark.parametrize(
    ("shard", "message"),
    [
        ("0/2", "argument --shard: '0/2' is not a shard: K/N needs 1 <= K <= N"),
        ("3/2", "argument --shard: '3/2' is not a shard: K/N needs 1 <= K <= N"),
        ("x", "argument --shard: expected K/N, e.g. 2/3 for the second of three shards, got 'x'"),
    ],
)
def test_a_bad_shard_is_a_usage_error(tmp_path: Path, shard: str, message: str) -> None:
    done = goldenpath(tmp_path, "check", "--shard", shard)
    assert done.returncode == 2
    assert message in done.stderr and done.stdout == ""


def test_merge_of_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    done = goldenpath(tmp_path, "history", "merge", "nowhere.sqlite", "--into", "h.sqlite")
    assert done.returncode == 2
    assert done.stderr == "error: nowhere.sqlite: no such run history file (give the path of a file)\n"
    assert not (tmp_path / "h.sqlite").exists()


SUITE = {"checks/golden_paths.suite.yaml": "golden_paths: ../golden_paths\n"}


def plugin_guides(pytester: pytest.Pytester) -> None:
    build_file_tree(pytester.path, SUITE)
    for guide_id in ("alpha", "bravo", "charlie", "delta"):
        write_guide(pytester.path / "golden_paths", guide_id, [{"id": "s", "title": "S", "run": "true"}])


def test_pytest_shard_deselects_the_guides_of_the_other_shards(pytester: pytest.Pytester) -> None:
    plugin_guides(pytester)
    first = pytester.runpytest("checks/", "-v", "--shard", "1/2", "--no-history")
    first.assert_outcomes(passed=2, deselected=2)
    first.stdout.fnmatch_lines(["shard 1/2: 2 of 4 guides: alpha, charlie", "*::alpha PASSED*"])
    second = pytester.runpytest("checks/", "-v", "--shard", "2/2", "--no-history")
    second.assert_outcomes(passed=2, deselected=2)
    second.stdout.fnmatch_lines(["shard 2/2: 2 of 4 guides: bravo, delta"])
    # The same split as goldenpath check, from the same history.
    history = History(pytester.path / ".goldenpath" / "history.sqlite")
    for guide_id in ("alpha", "bravo", "charlie", "delta"):
        history.record(guide_run(guide_id, "r", (60.0 if guide_id == "delta" else 1.0,)))
    balanced = pytester.runpytest("checks/", "--shard", "1/2", "--no-history")
    balanced.assert_outcomes(passed=1, deselected=3)
    balanced.stdout.fnmatch_lines(["shard 1/2: 1 of 4 guides: delta"])
    done = goldenpath(
        pytester.path, "check", "--shard", "1/2", "--no-history", "--golden-paths", "golden_paths"
    )
    assert done.stdout.splitlines()[0] == "shard 1/2: 1 of 4 guides: delta"


def test_pytest_shard_under_xdist_and_a_bad_shard(pytester: pytest.Pytester) -> None:
    plugin_guides(pytester)
    history = History(pytester.path / ".goldenpath" / "history.sqlite")
    for guide_id in ("alpha", "bravo", "charlie", "delta"):
        history.record(guide_run(guide_id, "r", (60.0 if guide_id == "delta" else 1.0,)))
    # The workers split by the durations the main process read, and record into the history.
    spread = pytester.runpytest_subprocess("checks/", "-n", "2", "--shard", "2/2", "-v")
    spread.assert_outcomes(passed=3)  # every worker deselects the same guides (not counted)
    assert "2 workers [3 items]" in spread.stdout.str()
    ran = {line.rsplit("::", 1)[1].strip() for line in spread.stdout.lines if " PASSED " in line}
    assert ran == {"alpha", "bravo", "charlie"}
    assert len(history.runs()) == 4 + 3
    bad = pytester.runpytest("checks/", "--shard", "3/2")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*argument --shard: '3/2' is not a shard: K/N needs 1 <= K <= N*"])
