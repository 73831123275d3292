"""Shell commands of an imported page: prompts, placeholders, secrets, and what a check needs to
know about each (a cluster, an image builder, whether it keeps running)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SHELLS = {"bash", "sh", "shell", "zsh", "console", "shell-session", "sh-session", "shellsession", "terminal"}
_PROMPT = re.compile(r"^\s*[$%] ")
_PLACEHOLDER = re.compile(r"(?<![<\w])<([a-z][a-z0-9]*(?:[-_][a-z0-9]+)*)>(?![>\w])")
_SECRET = re.compile(
    r"(?i)(?<!\w)((?:--from-literal=)?)([a-z_]*(?:password|passwd|secret|token|api[_-]?key)[a-z_]*)="
    r"(?!\.{0,2}/|~/)('[^']*'|\"[^\"]*\"|[^\s'\"]+)"  # a path is no secret
)
_CLUSTER = re.compile(r"(?:^|[\s;&|(])(?:kubectl|helm|kustomize)\s")
_IMAGES = re.compile(r"(?:^|[\s;&|(])(?:docker|podman)\s+(?:build|push|image\s+push)\b|(?:^|\s)buildah\s")
_INTERACTIVE = re.compile(
    r"\bkubectl\s+edit\b|\s-(?:it|ti)\b|\s--(?:stdin|tty)\b|^\s*(?:vi|vim|nano|emacs)\s"
)
_FETCHED = re.compile(r"\bkubectl\s+(?:apply|create)\b.*\s-f\s+https?://")
_BACKGROUND: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bkubectl\s+port-forward\b.*?\s(\d+):\d+"), "port"),
    (re.compile(r"\bkubectl\s+proxy\b(?:.*--port[= ](\d+))?"), "port:8001"),
    (re.compile(r"\bpython3?\s+-m\s+http\.server\b(?:\s+(\d+))?"), "port:8000"),
    (re.compile(r"\bflask\s+run\b"), "port:5000"),
    (re.compile(r"\b(?:uvicorn|gunicorn|npm\s+start|npm\s+run\s+dev|minikube\s+tunnel)\b"), ""),
    (re.compile(r"\s(?:--watch|-w)(?:\s|$)|\btail\s+-f\b|\bkubectl\s+logs\b.*\s(?:-f|--follow)\b"), ""),
)


@dataclass
class Parameters:
    """The parameters an import creates from placeholders and hard-coded secrets."""

    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    """Secret values seen on the page -> their parameter."""


def escape(text: str) -> str:
    """Text with what Jinja2 would read as a tag shown as written."""
    return re.sub(r"\{[{%#]", lambda m: "{{ '" + m.group(0) + "' }}", text)


def split_session(content: str) -> list[tuple[str, str]]:
    """(command, output) pairs of a code block; a block with ``$ `` prompts is a terminal session,
    where the lines without a prompt are the output of the command before them."""
    lines = content.rstrip("\n").split("\n")
    if not any(_PROMPT.match(line) for line in lines):
        return [(content.rstrip("\n"), "")]
    pairs: list[tuple[list[str], list[str]]] = []
    for line in lines:
        continuing = pairs and not pairs[-1][1] and pairs[-1][0][-1].endswith("\\")
        if _PROMPT.match(line):
            pairs.append(([_PROMPT.sub("", line, count=1)], []))
        elif continuing:
            pairs[-1][0].append(line)
        elif pairs:
            pairs[-1][1].append(line)
    return [("\n".join(c), "\n".join(o).strip("\n") + "\n" if "".join(o).strip() else "") for c, o in pairs]


def is_interactive(command: str) -> bool:
    return _INTERACTIVE.search(command) is not None


def prepare(command: str, parameters: Parameters) -> tuple[str, list[str]]:
    """The command as a spec's ``run``: secrets and placeholders as parameters, Jinja escaped.
    Returns it and what to tell the author."""
    told: list[str] = []
    command = escape(command)
    for value, name in parameters.secrets.items():
        command = command.replace(value, "{{ " + name + " }}")

    def secret(found: re.Match[str]) -> str:
        name = re.sub(r"\W", "_", found.group(2).lower())
        raw = found.group(3)
        quote = raw[0] if raw[0] in "'\"" else ""
        value = raw.strip("'\"")
        if "{{" in value:
            return found.group(0)
        parameters.secrets[value] = name
        parameters.found.setdefault(
            name,
            {"name": name, "description": f"The {name.replace('_', ' ')} (a secret).", "secret": True},
        )
        told.append(
            f"a hard-coded {name} became the secret parameter '{name}' (set GOLDENPATH_SECRET_{name.upper()})"
        )
        return f"{found.group(1)}{found.group(2)}={quote}{{{{ {name} }}}}{quote}"

    command = _SECRET.sub(secret, command)

    def placeholder(found: re.Match[str]) -> str:
        name = found.group(1).replace("-", "_")
        parameters.found.setdefault(
            name,
            {
                "name": name,
                "description": f"What the page wrote as <{found.group(1)}>: describe it for readers.",
                "default": found.group(1),
            },
        )
        if name.endswith("_name") and name.split("_")[0] in ("pod", "container", "node", "replicaset"):
            told.append(f"<{found.group(1)}> looks like a value from an earlier step's output: capture it")
        return "{{ " + name + " }}"

    return _PLACEHOLDER.sub(placeholder, command), told


def needs(command: str) -> list[str]:
    """What the command needs from the sandbox, as a step's ``requires``."""
    found = []
    if _IMAGES.search(command):
        found.append("images")
    if _CLUSTER.search(command):
        found.append("cluster")
    return found


def background(command: str) -> tuple[bool, dict[str, Any] | None]:
    """Whether a command keeps running (a server, a tunnel, a watch) and a proposed ``ready``."""
    for pattern, ready in _BACKGROUND:
        found = pattern.search(command)
        if found is None:
            continue
        if ready == "port" or (ready.startswith("port:") and found.lastindex and found.group(1)):
            return True, {"port": int(found.group(1)), "timeout": 30}
        if ready.startswith("port:"):
            return True, {"port": int(ready.split(":")[1]), "timeout": 30}
        return True, None
    return False, None


def fetched(command: str) -> bool:
    """``kubectl apply -f https://...``: the manifest comes from the web, not from a template."""
    return _FETCHED.search(command) is not None
