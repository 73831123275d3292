"""``goldenpath follow`` as a reader uses it: in a real terminal (tmux), typing the answers.

Each test starts a private tmux server in a fresh folder with a clean environment, types into it
with ``send-keys`` and reads the screen with ``capture-pane``. No cluster here: the cluster half of
hello-world is followed in ``test_follow_real_node.py``. The screens are saved in ``artifacts/``.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from terminal_harness import Tmux

from goldenpath.host import free_port
from helpers import REPO, write_guide

pytestmark = pytest.mark.slow

BIN = str(Path(sys.executable).parent)
ARTIFACTS = REPO / "artifacts"


def reader_env(home: Path, **extra: str) -> dict[str, str]:
    """A new reader's shell: goldenpath installed, no cluster configured."""
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', os.defpath)}",
        "HOME": str(home),
        "TERM": "screen",
        "LANG": "C.UTF-8",
        "KUBECONFIG": str(home / "no-cluster.yaml"),
    }
    env.update(extra)
    return env


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "home").mkdir()
    return work


@pytest.fixture
def terminal(folder: Path) -> Iterator[Tmux]:
    tmux = Tmux(folder, reader_env(folder.parent / "home"))
    try:
        yield tmux
    finally:
        tmux.close()


def save(name: str, screen: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(screen, encoding="utf-8")


def exit_code(terminal: Tmux) -> int:
    terminal.send('echo "exit code: $?"')
    terminal.wait_for(r"^exit code: \d+$", 30)
    return int(re.findall(r"^exit code: (\d+)$", terminal.screen(), re.MULTILINE)[-1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_failing_step_shows_its_fix_and_from_resumes_there(terminal: Tmux, folder: Path) -> None:
    port = free_port()
    command = f"goldenpath follow hello-world --golden-paths {REPO / 'golden_paths'} --set port={port}"
    terminal.send(command)
    for number in (1, 2, 3):  # create the service and its tests, run the tests
        terminal.wait_for(rf"Step {number} of 16", 60)
        terminal.answer(r"Ready\?", "")
        terminal.wait_for(rf"Step {number} passed", 120)
    assert (folder / "hello" / "app.py").is_file()
    terminal.wait_for(r"Step 4 of 16: Run it on your machine")
    terminal.answer(r"Ready\?", "s")  # the reader skips starting the service...
    terminal.wait_for(r"Step 4 skipped")
    terminal.answer(r"Step 5 of 16: Call it[\s\S]*Ready\?", "")  # ...so calling it fails
    failed = terminal.wait_for(r"What now\?", 60)
    tail = failed[failed.index("Step 5 of 16") :]
    assert "Step 5 failed" in tail
    assert "Known problem: `curl` prints nothing, or `Connection refused`" in tail
    assert "Fix: The service is not running or listens on another port." in tail
    assert "goldenpath follow hello-world --from call-it" in tail
    terminal.send("q")
    end = terminal.wait_for(r"Where you are[\s\S]*5\. Call it: failed", 30)
    assert "4. Run it on your machine: skipped by you" in end
    assert "3. Run the tests: passed" in end
    assert exit_code(terminal) == 1

    # The reader fixes it (starts the service), then resumes at the step that failed.
    terminal.send(f"python3 hello/app.py --host 127.0.0.1 --port {port} 2>/dev/null &")
    terminal.send(f"{command} --from call-it")
    terminal.wait_for(r"Starting at step 5")
    terminal.answer(r"Step 5 of 16: Call it[\s\S]*Ready\?", "")
    resumed = terminal.wait_for(r"Step 5 passed", 60)
    assert "Hello from hello!" in resumed[resumed.rindex("Step 5 of 16") :]
    terminal.answer(r"Step 6 of 16[\s\S]*Ready\?", "")
    terminal.wait_for(r"Step 6 passed", 60)
    terminal.answer(r"Step 7 of 16[\s\S]*Ready\?", "q")
    screen = terminal.wait_for(r"To carry on later: goldenpath follow hello-world --from create-dockerfile")
    terminal.send("kill %1")
    save("follow-failing-step.txt", screen)


def test_a_cluster_step_without_a_cluster_is_refused_with_the_way_to_get_one(terminal: Tmux) -> None:
    terminal.send(f"goldenpath follow hello-world --golden-paths {REPO / 'golden_paths'} --from deploy")
    screen = terminal.wait_for(r"--from deploy\n", 60, after=len(terminal.screen()) + 20)
    assert "Cluster: none configured" in screen
    assert "Step 11 not run: this step needs a Kubernetes cluster, and none is configured" in screen
    assert "goldenpath sandbox up --sandbox real-node" in screen
    assert "Ready?" not in screen  # refused before anything is offered
    assert exit_code(terminal) == 3


def test_secrets_are_prompted_unechoed_and_background_processes_stay_only_when_asked(
    terminal: Tmux, folder: Path
) -> None:
    golden_paths = folder.parent / "golden_paths"
    port = free_port()
    write_guide(
        golden_paths,
        "token-service",
        [
            {
                "id": "serve",
                "title": "Start a server",
                "run": f"python3 -m http.server {port} --bind 127.0.0.1",
                "background": True,
                "ready": {"port": port, "timeout": 20},
                "expect": {"nothing": True},
            },
            {
                "id": "use-token",
                "title": "Use your token",
                "run": 'echo "token is $GOLDENPATH_SECRET_API_TOKEN"',
                "expect": {"contains": ["token is"]},
            },
        ],
        parameters=[{"name": "api_token", "description": "Your API token", "secret": True}],
    )
    secret = "s3cr3t-value-that-must-not-show"
    terminal.send(f"goldenpath follow token-service --golden-paths {golden_paths}")
    terminal.answer(r"api_token \(Your API token; not shown as you type\):", secret)
    terminal.answer(r"Step 1 of 2: Start a server[\s\S]*Ready\?", "")
    terminal.wait_for(r"Step 1 passed")
    terminal.answer(r"Step 2 of 2: Use your token[\s\S]*Ready\?", "")
    terminal.wait_for(r"Step 2 passed")
    terminal.answer(r"Leave running: Start a server\?", "y")
    screen = terminal.wait_for(r"stop it with: kill -- -(\d+)", 30)
    assert secret not in screen
    assert "token is ***" in screen
    assert listening(port), "the reader asked to keep the server running"
    pid = re.findall(r"stop it with: kill -- -(\d+)", screen)[-1]
    assert f"Start a server: process {pid}, http://127.0.0.1:{port}/" in screen
    assert exit_code(terminal) == 0
    terminal.send(f"kill -- -{pid}")  # the way the digest says to stop it
    terminal.send("echo stopped")
    terminal.wait_for(r"^stopped$", 30)
    for _ in range(50):
        if not listening(port):
            break
        time.sleep(0.1)
    assert not listening(port)

    # Not asked to keep it: the server stops with the session.
    given = "GOLDENPATH_SECRET_API_TOKEN=x"  # from the environment: no prompt
    terminal.send(f"{given} goldenpath follow token-service --golden-paths {golden_paths}")
    terminal.answer(r"Step 1 of 2: Start a server[\s\S]*Ready\?", "")
    terminal.answer(r"Step 2 of 2: Use your token[\s\S]*Ready\?", "")
    terminal.answer(r"Leave running: Start a server\?", "")
    terminal.wait_for(r"Stopped 1 background process", 30)
    assert exit_code(terminal) == 0
    assert not listening(port)
