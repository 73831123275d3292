"""A terminal for tests: a private tmux server, keys sent as a reader types them, the screen read
back with ``capture-pane`` (the scrollback included)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest


class Tmux:
    """One tmux session on a server of its own (``-L``), started in ``cwd`` with ``env``."""

    def __init__(self, cwd: Path, env: Mapping[str, str], width: int = 110, height: int = 50) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is not installed: run scripts/install-base-packages", pytrace=False)
        self.socket = f"goldenpath-test-{uuid.uuid4().hex[:8]}"
        self.env = dict(env)
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "reader",
            "-x",
            str(width),
            "-y",
            str(height),
            "-c",
            str(cwd),
            "bash --norc --noprofile",
        )
        self._tmux("set-option", "-g", "history-limit", "50000")
        self.shown = 0

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30, env=self.env
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def send(self, text: str, enter: bool = True) -> None:
        """Type ``text`` (literally), then Enter."""
        if text:
            self._tmux("send-keys", "-t", "reader", "-l", text)
        if enter:
            self._tmux("send-keys", "-t", "reader", "Enter")

    def screen(self) -> str:
        """Everything the pane printed so far, the scrollback included, without trailing blanks."""
        text = self._tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "reader")
        return "\n".join(line.rstrip() for line in text.splitlines()).rstrip() + "\n"

    def wait_for(self, pattern: str, timeout: float = 60.0, after: int | None = None) -> str:
        """Wait until the screen shows ``pattern`` (a regex) after offset ``after`` (default: past
        what the previous wait found); returns the screen."""
        start = self.shown if after is None else after
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            found = re.search(pattern, screen[start:], re.MULTILINE)
            if found:
                self.shown = start + found.end()
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {pattern!r}; the screen:\n{screen[-3000:]}")
            time.sleep(0.2)

    def answer(self, question: str, text: str = "", timeout: float = 60.0) -> str:
        """Wait for a question (a regex), then answer it."""
        screen = self.wait_for(question, timeout)
        self.send(text)
        return screen

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
