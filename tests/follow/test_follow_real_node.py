"""Following hello-world to its end in a real terminal (tmux), the cluster half included: the
reader's shell points at the session's real-node cluster and its registry stand-in the way
``goldenpath sandbox up --sandbox real-node`` tells a reader to (``realnode.reader_env``), in a
namespace of its own, and every step is run by pressing Enter.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from terminal_harness import Tmux
from test_follow_terminal import BIN, exit_code, reader_env, save

from goldenpath.host import free_port
from goldenpath.sandbox import realnode
from helpers import REPO

pytestmark = [pytest.mark.node, pytest.mark.cluster, pytest.mark.xdist_group("realnode")]


@pytest.fixture
def reader_shell(real_node: object, tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    cluster = real_node.up()  # type: ignore[attr-defined]
    settings = real_node.settings  # type: ignore[attr-defined]
    env = realnode.reader_env(settings, cluster, path=f"{BIN}:{os.environ.get('PATH', os.defpath)}")
    namespace = f"follow-{uuid.uuid4().hex[:6]}"
    kubeconfig = tmp_path / "kubeconfig.yaml"  # the reader's own, with their team's namespace
    kubeconfig.write_text(Path(env.pop("KUBECONFIG")).read_text())
    kubectl = ["kubectl", "--kubeconfig", str(kubeconfig)]
    subprocess.run([*kubectl, "create", "namespace", namespace], check=True, capture_output=True)
    in_namespace = [*kubectl, "config", "set-context", "--current", f"--namespace={namespace}"]
    subprocess.run(in_namespace, check=True, capture_output=True)
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    tmux = Tmux(work, {**reader_env(home), **env, "KUBECONFIG": str(kubeconfig)})
    try:
        yield tmux, work
    finally:
        tmux.close()
        subprocess.run([*kubectl, "delete", "namespace", namespace, "--wait=false"], capture_output=True)
        realnode.forget_reader(settings, cluster)


def test_following_hello_world_on_a_clean_folder_passes_every_step(reader_shell: tuple[Tmux, Path]) -> None:
    terminal, work = reader_shell
    port, local_port = free_port(), free_port()
    terminal.send(
        f"goldenpath follow hello-world --golden-paths {REPO / 'golden_paths'} "
        f"--set port={port} --set local_port={local_port}"
    )
    answered = 0
    while True:  # every question answered as a new reader would: Enter, the default
        screen = terminal.wait_for(r"(Ready\?|Clean up now|Leave running|What now\?|Step \d+ not run)", 400)
        last = screen[: terminal.shown].rsplit("\n", 1)[-1]
        assert "What now?" not in last and "not run" not in last, screen[-4000:]
        if "Clean up now" in last:
            terminal.send("y")
            break
        terminal.send("")
        answered += 1
    assert answered == 16
    screen = terminal.wait_for(r"Leave running: ", 200)
    terminal.send("")  # no: the local server and the tunnel stop
    end = terminal.wait_for(r"Next steps[\s\S]*goldenpath follow add-an-endpoint", 60)
    save("follow-hello-world.txt", end)
    summary = end[end.rindex("== Where you are") :]
    statuses = re.findall(r"^[✓✗-] (\d+)\. (.+?): (.+)$", summary, re.MULTILINE)
    assert [int(number) for number, _, _ in statuses] == list(range(1, 17)), summary
    assert {status for _, _, status in statuses} == {"passed"}, summary
    assert "Remove it from the cluster: passed" in summary
    assert "Stopped 2 background process(es)" in end
    assert "In the cluster" not in summary  # the clean-up deleted what deploy.yaml made
    assert "Step 13 passed" in end and "1/1     Running" in end  # the reader's own pods ran
    assert exit_code(terminal) == 0
    assert (work / "hello" / "deploy.yaml").is_file()
