"""The persistent shell on a real bash: what a reader's terminal keeps, and what it never leaks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldenpath.run.cancel import Watch
from goldenpath.run.shell import MAX_OUTPUT, Shell, ShellOutput
from goldenpath.sandbox.base import GuideRun, Session
from goldenpath.sandbox.local import LocalSandbox

SECRET_VAR = "GOLDENPATH_SECRET_TOKEN"


@pytest.fixture
def session() -> Iterator[Session]:
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    with LocalSandbox().open(GuideRun("demo", f"run-{uuid.uuid4().hex[:8]}", {SECRET_VAR: secret})) as opened:
        yield opened


@pytest.fixture
def shell(session: Session) -> Iterator[Shell]:
    opened = Shell(session, Watch(None), [SECRET_VAR])
    try:
        yield opened
    finally:
        opened.close()


def ok(output: ShellOutput, stdout: str, stderr: str = "") -> None:
    assert (output.exit_code, output.stdout, output.stderr) == (0, stdout, stderr), output


def test_declarations_positional_parameters_and_return_are_the_terminals(shell: Shell) -> None:
    ok(shell.run("declare -A colour=([sky]=blue); declare count=3; set -- a b", 5), "")
    ok(shell.run('echo "${colour[sky]} $count $# $1"', 5), "blue 3 2 a\n")
    early = shell.run("echo before; return 4; echo after", 5)
    assert (early.exit_code, early.stdout, early.died) == (4, "before\n", False)
    ok(shell.run("echo still here", 5), "still here\n")


def test_a_restart_keeps_the_state_of_the_last_command_that_ended(shell: Shell, session: Session) -> None:
    ok(shell.run("mkdir -p sub && cd sub && export GREETING=hello", 5), "")
    gone = shell.run("cd / && export GREETING=bye && exit 3", 5)
    assert gone.died and gone.exit_code == 3
    ok(shell.run('echo "$GREETING $(basename "$PWD")"', 5), "hello sub\n")
    stopped = shell.run("export GREETING=late; sleep 30", 0.5)
    assert stopped.timed_out and stopped.exit_code is None
    ok(shell.run('echo "$GREETING $(basename "$PWD")"', 5), "hello sub\n")
    assert shell.cwd == session.workspace / "sub"


def test_a_secret_stays_set_but_never_reaches_a_state_file(shell: Shell, session: Session) -> None:
    secret = session.env[SECRET_VAR]
    ok(shell.run(f'test "${SECRET_VAR}" = {secret} && export OTHER=1', 5), "")
    assert shell.run("exit 1", 5).died
    ok(shell.run(f'echo "${{#{SECRET_VAR}}} $OTHER"', 5), f"{len(secret)} 1\n")  # from the session again
    state = session.scratch / "state.sh"
    assert shell.save_state(state)
    written = [p.read_bytes() for p in session.scratch.iterdir() if p.is_file()]
    assert b"OTHER" in state.read_bytes() and not any(secret.encode() in text for text in written)


def test_a_state_bigger_than_its_pipe_still_arrives_whole(shell: Shell) -> None:
    size = 1536 * 1024
    ok(
        shell.run(f'BIG=$(head -c {size} /dev/zero | tr "\\0" x); export BIG; echo "${{#BIG}}"', 20),
        f"{size}\n",
    )
    assert shell.run("exit 2", 20).died
    ok(shell.run('echo "${#BIG}"', 20), f"{size}\n")


def test_a_process_a_command_left_running_never_writes_into_a_later_output(shell: Shell) -> None:
    ok(shell.run("(sleep 0.4; echo late; echo late >&2) &", 5), "")
    ok(shell.run("true", 5), "")
    ok(shell.run("sleep 1; echo mine", 5), "mine\n")
    ok(shell.run("echo next", 5), "next\n")


def test_output_is_kept_to_its_last_bytes_and_the_scratch_folder_stays_small(
    shell: Shell, session: Session
) -> None:
    big = shell.run(
        f"head -c {MAX_OUTPUT + 10} /dev/zero | tr '\\0' a; echo -n END; echo oops >&2; false", 20
    )
    assert big.exit_code == 1 and big.stderr == "oops\n"
    assert len(big.stdout) == MAX_OUTPUT and big.stdout.endswith("aEND")
    ok(shell.run("echo é", 5), "é\n")
    sizes = {p.name: p.stat().st_size for p in session.scratch.iterdir() if p.name.startswith(("out", "err"))}
    assert sum(sizes.values()) < 100, sizes  # the big output was removed once read


def test_a_syntax_error_fails_the_command_not_the_shell(shell: Shell) -> None:
    broken = shell.run("if then fi (", 5)
    assert broken.exit_code == 2 and "syntax error" in broken.stderr and not broken.died
    ok(shell.run("echo fine", 5), "fine\n")


def test_the_command_cannot_write_to_the_runners_pipes(shell: Shell) -> None:
    ok(shell.run("echo hi", 5), "hi\n")
    fds = shell.run("ls /proc/self/fd", 5)
    # ls itself opens one descriptor for the listing; the shell's pipes are closed for the command
    assert fds.exit_code == 0 and len(fds.stdout.split()) <= 4, fds.stdout
    assert os.path.exists(shell.command_file)


def test_a_background_step_starts_from_the_state_of_the_shell(
    shell: Shell, session: Session, tmp_path: Path
) -> None:
    state = tmp_path / "background.state"
    assert not shell.save_state(state) and not state.exists()  # nothing ran yet
    ok(shell.run("mkdir -p srv && cd srv && export PORT_NAME=web", 5), "")
    assert shell.save_state(state)
    text = state.read_text()
    assert "PORT_NAME" in text and text.endswith(f"cd -- {session.workspace / 'srv'}\n")
