"""The lint check that suggests a bite check: a step that only looks at what the step before it
did proves more as that step's ``check``, which must fail before the step and pass after it.

Like :mod:`goldenpath.lint.dead_parts`, it only reads the guide; :mod:`goldenpath.lint.rules`
wraps it in its table.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from goldenpath.spec.model import Guide, Step

_KUBECTL_READS = {"get", "describe", "logs", "top", "explain"}
_READERS = {"cat", "grep", "ls", "test", "head", "tail", "wc", "stat", "jq", "[", "file", "diff"}
_CURL_WRITES = re.compile(r"\s(?:-X\s*(?!GET)\w+|--request\s+(?!GET)\w+|-d\b|--data\S*|-F\b|--form\b|-T\b)")


def only_reads(step: Step) -> bool:
    """A visible step that looks at state without changing it: ``kubectl get``, ``curl``, a GET."""
    if step.http is not None:
        return step.http.method.upper() in ("GET", "HEAD")
    if step.run is None or step.background:
        return False
    command = step.run.strip()
    if any(mark in command for mark in ("\n", ">", "&&", ";", "||", "|&")):
        return False
    try:
        words = shlex.split(command.split("|")[0])
    except ValueError:
        return False
    if not words:
        return False
    tool = words[0]
    if tool == "kubectl":
        verbs = [w for w in words[1:] if not w.startswith("-")]
        return bool(verbs) and verbs[0] in _KUBECTL_READS  # waits (rollout status) are steps
    if tool == "curl":
        return _CURL_WRITES.search(" " + command) is None
    return tool in _READERS


_CREATES = re.compile(r"^\s*kubectl\s+(?:\S+\s+)*?(?:create|run|expose)\s")


def starts_something(step: Step) -> bool:
    """A step after which a verification usually checks its work: a background process (a
    server, a port-forward) or a ``kubectl create``, ``run`` or ``expose``."""
    if step.background:
        return True
    return step.run is not None and _CREATES.match(step.run) is not None


def verification_steps(guide: Guide, ctx: object) -> Iterator[tuple[str | Path, int | None, str]]:
    steps = guide.spec.steps
    for index in range(1, len(steps)):
        before, step = steps[index - 1], steps[index]
        if step.hidden or before.hidden or before.check is not None:
            continue
        if only_reads(step) and starts_something(before):
            yield (
                f"spec.steps[{index}]",
                None,
                f"step '{step.id}' only looks at what '{before.id}' did; as a `check` of "
                f"'{before.id}' it would also prove that '{before.id}' is what makes it pass",
            )


BITE_RULES: tuple[tuple[str, str, Literal["error", "warning"], str, str, str, object], ...] = (
    (
        "GP114",
        "bite-check",
        "warning",
        "A step that only verifies the step before it is that step's bite check.",
        "A verification such as `kubectl get pods` or `curl` passes whether or not the step "
        "before it did anything, when what it looks for was already there. Declared as that "
        "step's `check`, it runs before the step, where it must fail, and after it, where it "
        "must pass; the page shows it as the way to see that the step worked and counts the "
        "proven steps. Applies to a visible read-only step (`kubectl get`/`describe`/`logs`, "
        "`curl` without a body or another method, `cat`, `grep`, an HTTP GET) right after a "
        "visible step that starts something (a background process such as a server or a "
        "port-forward, `kubectl create`/`run`/`expose`) and has no `check` yet.",
        "move the verification into the previous step as `check: {run: ..., expect: ...}` "
        "(add `within:` seconds when the result takes a moment), or disable GP114 for the guide",
        verification_steps,
    ),
)
