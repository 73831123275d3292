"""``goldenpath follow`` with its answers piped in: the choices, the checks of a step the reader
did themselves, bad input and the exit codes (the terminal itself: ``test_follow_terminal.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import write_guide

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")


def follow(
    folder: Path, golden_paths: Path, *args: str, answers: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(folder / "none.yaml"), "NO_COLOR": "1"}
    return subprocess.run(
        [GOLDENPATH, "follow", *args, "--golden-paths", str(golden_paths)],
        cwd=folder,
        input=answers,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def two_steps(golden_paths: Path) -> None:
    write_guide(
        golden_paths,
        "two-steps",
        [
            {
                "id": "write",
                "title": "Write the greeting",
                "file": {"path": "out/greeting.txt", "template": "greeting.txt.j2"},
            },
            {
                "id": "read",
                "title": "Read it",
                "run": "cat out/greeting.txt",
                "expect": {"output": "hello {{ name }}\n"},
                "check": {"run": "test -f out/read-marker", "expect": {"exitCode": 0}},
            },
        ],
        templates={"greeting.txt.j2": "hello {{ name }}\n"},
        parameters=[{"name": "name", "description": "Who to greet", "default": "world"}],
        troubleshooting=[
            {
                "step": "read",
                "problem": "`No such file or directory`",
                "symptom": {"contains": ["No such file"]},
                "fix": "Write the greeting first (step 1).",
            }
        ],
    )


def test_enter_runs_each_step_and_set_changes_the_values(tmp_path: Path) -> None:
    two_steps(tmp_path / "gp")
    (tmp_path / "w").mkdir()
    # the bite check of step 2 must fail before it: only the reader's own marker passes it
    done = follow(tmp_path / "w", tmp_path / "gp", "two-steps", "--set", "name=you", answers="\n\n")
    assert (tmp_path / "w" / "out" / "greeting.txt").read_text() == "hello you\n"
    assert "Your values: name=you" in done.stdout
    assert "Step 1 passed" in done.stdout
    # step 2 runs, and its check (the marker) does not pass after it: a failure with its fix
    assert "Step 2 failed: the step's check did not pass after the step" in done.stdout
    assert done.returncode == 1


def test_a_step_done_by_the_reader_is_checked(tmp_path: Path) -> None:
    two_steps(tmp_path / "gp")
    work = tmp_path / "w"
    work.mkdir()
    # "m" for step 1 without writing the file: its check fails and says what is missing
    done = follow(work, tmp_path / "gp", "two-steps", answers="m\n\nq\n")
    assert "Step 1 failed: out/greeting.txt does not exist" in done.stdout
    assert "1. Write the greeting: failed" in done.stdout
    assert done.returncode == 1
    (work / "out").mkdir()
    (work / "out" / "greeting.txt").write_text("hello world\n")
    (work / "out" / "read-marker").write_text("")
    done = follow(work, tmp_path / "gp", "two-steps", answers="m\n\ns\n")
    assert "Step 1: checked" in done.stdout
    assert "1. Write the greeting: done by you, checked" in done.stdout
    assert "2. Read it: skipped by you" in done.stdout
    assert done.returncode == 1  # 0 only when every step passed or was done


def test_a_known_problem_is_shown_with_its_fix_and_the_way_on(tmp_path: Path) -> None:
    two_steps(tmp_path / "gp")
    (tmp_path / "w").mkdir()
    done = follow(tmp_path / "w", tmp_path / "gp", "two-steps", "--from", "read", "--yes")
    assert "Starting at step 2" in done.stdout
    assert "Known problem: `No such file or directory`" in done.stdout
    assert "Fix: Write the greeting first (step 1)." in done.stdout
    assert "resume later with: goldenpath follow two-steps --from read" in done.stdout
    assert done.returncode == 1


def test_bad_input_is_one_line_with_the_fix(tmp_path: Path) -> None:
    two_steps(tmp_path / "gp")
    (tmp_path / "w").mkdir()
    done = follow(tmp_path / "w", tmp_path / "gp", "two-steps", "--from", "nope")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --from: nope: no such step in this guide (steps: write, read)"
    done = follow(tmp_path / "w", tmp_path / "gp", "two-steps", "--set", "nmae=x")
    assert done.returncode == 2
    assert "did you mean 'name'?" in done.stderr
    assert not (tmp_path / "w" / "out").exists()
