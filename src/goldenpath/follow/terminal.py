"""What ``goldenpath follow`` says and asks in the reader's terminal: wrapped prose, commands set
apart, statuses with a mark and a word (colour only helps), and questions with one-key answers."""

from __future__ import annotations

import getpass
import os
import shutil
import sys
import textwrap
from collections.abc import Mapping
from typing import TextIO

MARKS = {"good": "✓", "bad": "✗", "neutral": "-"}
_COLOURS = {"good": "32", "bad": "31", "neutral": "33", "title": "1", "dim": "2"}


class Terminal:
    """The reader's terminal: ``out`` for everything said, ``answers`` for what they type."""

    def __init__(self, out: TextIO | None = None, answers: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.answers = answers or sys.stdin
        self.width = min(100, max(40, shutil.get_terminal_size((88, 24)).columns - 2))
        self.colour = self.out.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"

    def _paint(self, text: str, style: str) -> str:
        return f"\033[{_COLOURS[style]}m{text}\033[0m" if self.colour else text

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def heading(self, text: str) -> None:
        self.say()
        self.say(self._paint(f"== {text} ".ljust(self.width, "="), "title"))

    def prose(self, text: str, indent: str = "") -> None:
        """Markdown prose as wrapped paragraphs; list items stay items, emphasis marks go."""
        for paragraph in text.replace("**", "").split("\n\n"):
            lines = [line.strip() for line in paragraph.strip().splitlines() if line.strip()]
            if not lines:
                continue
            items: list[str] = []
            for line in lines:  # a line starting with "- " starts an item; others continue it
                if line.startswith("- ") or not items:
                    items.append(line)
                else:
                    items[-1] += " " + line
            for item in items:
                bullet = item.startswith("- ")
                body = item[2:] if bullet else item
                self.say(
                    textwrap.fill(
                        body,
                        self.width,
                        initial_indent=indent + ("  - " if bullet else ""),
                        subsequent_indent=indent + ("    " if bullet else ""),
                    )
                )
            self.say()

    def block(self, text: str, indent: str = "    ") -> None:
        """Text shown byte for byte (a command, output), indented."""
        for line in text.rstrip("\n").splitlines() or [""]:
            self.say(indent + line)

    def status(self, kind: str, text: str) -> None:
        self.say(self._paint(f"{MARKS[kind]} {text}", kind))

    def dim(self, text: str) -> None:
        self.say(self._paint(text, "dim"))

    def ask(self, question: str, choices: Mapping[str, str], default: str) -> str:
        """One of ``choices`` (key: what it does); Enter picks ``default``. A closed input is "q"
        when that is a choice, else the default: a piped script ends the session cleanly."""
        keys = " | ".join(f"{'Enter' if key == default else key}: {label}" for key, label in choices.items())
        while True:
            self.say(self._paint(f"{question} [{keys}]", "title"))
            print("> ", end="", file=self.out, flush=True)
            line = self.answers.readline()
            if not line:
                self.say()
                return "q" if "q" in choices else default
            answer = line.strip().lower()
            if not answer:
                return default
            if answer in choices:
                return answer
            self.say(f"Type one of: {', '.join(choices)} (or press Enter).")

    def wait(self, prompt: str) -> bool:
        """Wait for Enter; False when the input closed."""
        print(self._paint(prompt, "title"), end=" ", file=self.out, flush=True)
        return bool(self.answers.readline())

    def read(self, prompt: str, secret: bool = False) -> str:
        """A value the reader types; a secret is not echoed."""
        if secret and self.answers is sys.stdin and sys.stdin.isatty():
            return getpass.getpass(prompt, stream=self.out)
        print(prompt, end="", file=self.out, flush=True)
        return self.answers.readline().rstrip("\n")
