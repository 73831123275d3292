"""Run a GitHub Actions job on this machine, the way a runner would, for the workflow dry run.

Each ``run:`` step runs in order with ``bash --noprofile --norc -eo pipefail``, in a fresh
clone, with GitHub's environment variables and files (``GITHUB_OUTPUT``, ``GITHUB_ENV``, ...) and
the workflow's expressions evaluated. The standard actions are emulated: ``checkout`` as a clone,
``cache`` as nothing, ``upload-artifact``/``download-artifact`` as copies, ``setup-python`` and
``setup-go`` as the machine's own. Steps that need GitHub itself, or Docker, are not run; the
job's result lists them with the reason.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# -- expressions ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|'(?P<str>(?:[^']|'')*)'|(?P<op>==|!=|<=|>=|&&|\|\||[!<>(),\[\].*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


def _number(value: Any) -> float:
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if str(value).strip() else 0.0
    except ValueError:
        return float("nan")


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if type(left) is type(right):
        return bool(left == right)
    return _number(left) == _number(right)


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, 0.0, "") and not (isinstance(value, float) and value != value)


class Expression:
    """A small evaluator of GitHub's expression syntax: contexts, literals, ``== != ! && ||``,
    ``()`` and the functions the shipped workflows use."""

    def __init__(self, text: str, contexts: dict[str, Any], functions: dict[str, Any]) -> None:
        self.tokens = [(m.lastgroup, m.group(m.lastgroup or 0)) for m in _TOKEN.finditer(text) if m.lastgroup]
        self.at = 0
        self.contexts = contexts
        self.functions = functions

    def value(self) -> Any:
        result = self._or()
        if self.at != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.at]}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def _take(self) -> tuple[str | None, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            left = right if truthy(left) else left
        return left

    def _compare(self) -> Any:
        left = self._unary()
        if self._peek() in ("==", "!="):
            op = self._take()[1]
            right = self._unary()
            return _equal(left, right) == (op == "==")
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            inner = self._or()
            self._take()
            return inner
        if kind == "num":
            return float(text)
        if kind == "str":
            return text.replace("''", "'")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self._peek() == "(":
            self._take()
            args = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._take()
            self._take()
            return self.functions[text.lower()](*args)
        value: Any = self.contexts.get(text)
        while self._peek() in (".", "["):
            if self._take()[1] == ".":
                key = self._take()[1]
            else:
                key = self._or()
                self._take()
            value = value.get(key) if isinstance(value, dict) else None
        return value


# -- a job ----------------------------------------------------------------------------------------


@dataclass
class Job:
    """The result of one job's dry run."""

    ran: list[str] = field(default_factory=list)
    not_run: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Steps whose ``if:`` was false."""
    failed: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


@dataclass
class Runner:
    """Where and as whom jobs run: the repository to clone, the shared artifact store, the
    ``github`` context, and the steps that cannot run here (step name -> why)."""

    origin: Path
    root: Path
    github: dict[str, Any]
    not_run: dict[str, str]
    vars: dict[str, str] = field(default_factory=dict)
    timeout: float = 1800.0

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    def run(
        self,
        workflow: Path,
        job_id: str,
        matrix: dict[str, Any] | None = None,
        needs: dict[str, Any] | None = None,
        inputs: dict[str, str] | None = None,
    ) -> Job:
        document = yaml.safe_load(workflow.read_text())
        job = document["jobs"][job_id]
        label = "-".join([job_id, *(str(v) for v in (matrix or {}).values())])
        workspace = self.root / "work" / label
        temp = self.root / "temp" / label
        for folder in (workspace, temp):
            shutil.rmtree(folder, ignore_errors=True)
        workspace.mkdir(parents=True)
        temp.mkdir(parents=True)
        result = Job()
        steps: dict[str, Any] = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
        files = {
            name: temp / f"{name.lower()}.txt"
            for name in ("GITHUB_ENV", "GITHUB_STEP_SUMMARY", "GITHUB_PATH")
        }
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_WORKSPACE=str(workspace),
            RUNNER_TEMP=str(temp),
            RUNNER_OS="Linux",
            GITHUB_REPOSITORY=str(self.github.get("repository", "")),
            GITHUB_RUN_ID=str(self.github.get("run_id", "")),
            GITHUB_SHA=str(self.github.get("sha", "")),
            GITHUB_REF=str(self.github.get("ref", "")),
            GITHUB_BASE_REF=str(self.github.get("base_ref") or ""),
            GITHUB_EVENT_NAME=str(self.github.get("event_name", "")),
            # `git config --global` in a step changes this job's file, never the machine's.
            GIT_CONFIG_GLOBAL=str(temp / "gitconfig"),
            **{name: str(path) for name, path in files.items()},
        )
        for path in files.values():
            path.touch()
        status = {"failed": False}
        contexts = {
            "github": {**self.github, "workspace": str(workspace)},
            "runner": {"os": "Linux", "temp": str(temp)},
            "matrix": matrix or {},
            "needs": needs or {},
            "inputs": inputs or {},
            "vars": self.vars,
            "secrets": {},
            "steps": steps,
            "env": env,
        }
        functions = {
            "always": lambda: True,
            "success": lambda: not status["failed"],
            "failure": lambda: status["failed"],
            "cancelled": lambda: False,
            "hashfiles": lambda *patterns: _hash_files(workspace, patterns),
            "startswith": lambda a, b: str(a).lower().startswith(str(b).lower()),
            "contains": lambda a, b: str(b).lower() in str(a).lower(),
        }

        def evaluate(text: str) -> Any:
            return Expression(text, contexts, functions).value()

        def render(value: Any) -> str:
            def one(found: re.Match[str]) -> str:
                got = evaluate(found.group(1))
                if isinstance(got, float) and got.is_integer():
                    got = int(got)
                return "" if got is None else str(got).lower() if isinstance(got, bool) else str(got)

            return re.sub(r"\$\{\{(.*?)\}\}", one, str(value), flags=re.S)

        for source in (document.get("env") or {}, job.get("env") or {}):
            env.update({k: render(v) for k, v in source.items()})
        for index, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0]
            condition = str(step.get("if", "success()"))
            condition = condition.strip()[3:-2] if condition.strip().startswith("${{") else condition
            if not re.search(r"\b(always|failure|cancelled|success)\(", condition):
                condition = f"success() && ({condition})"
            if not truthy(evaluate(condition)):
                result.skipped.append(name)
                continue
            if name in self.not_run or step.get("uses", "").split("@")[0] in self.not_run:
                why = self.not_run.get(name) or self.not_run[step["uses"].split("@")[0]]
                result.not_run.append((name, why))
                continue
            step_env = {**env, **{k: render(v) for k, v in (step.get("env") or {}).items()}}
            output = temp / f"output-{index}.txt"
            output.write_text("")
            step_env["GITHUB_OUTPUT"] = str(output)
            if "run" in step:
                ok = self._script(render(step["run"]), workspace, step_env, result)
            else:
                with_ = {k: render(v) for k, v in (step.get("with") or {}).items()}
                ok = self._action(step["uses"], with_, workspace, output, result)
            outputs = _outputs(output.read_text())
            for line in files["GITHUB_ENV"].read_text().splitlines():
                key, _, value = line.partition("=")
                if key:
                    env[key] = value
            if step.get("id"):
                steps[step["id"]] = {"outputs": outputs, "outcome": "success" if ok else "failure"}
            result.ran.append(name)
            if not ok and not step.get("continue-on-error"):
                status["failed"] = True
                result.failed = result.failed or name
        result.outputs = {k: render(v) for k, v in (job.get("outputs") or {}).items()}
        return result

    def _script(self, script: str, workspace: Path, env: dict[str, str], result: Job) -> bool:
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=self.timeout,
        )
        result.log.append(
            f"$ {script.strip()}\n{done.stdout[-3000:]}{done.stderr[-3000:]}[exit {done.returncode}]"
        )
        return done.returncode == 0

    def _action(self, uses: str, with_: dict[str, str], workspace: Path, output: Path, result: Job) -> bool:
        action = uses.split("@")[0]
        if action == "actions/checkout":
            done = subprocess.run(
                ["git", "clone", "-q", str(self.origin), str(workspace)], capture_output=True, text=True
            )
            ref = str(self.github.get("sha") or "")
            if done.returncode == 0 and ref:
                done = subprocess.run(
                    ["git", "-C", str(workspace), "checkout", "-q", ref], capture_output=True, text=True
                )
            result.log.append(f"checkout: {done.stderr.strip()}")
            return done.returncode == 0
        if action in ("actions/setup-python", "actions/setup-go"):
            return True  # the machine's own
        if action.startswith("actions/cache"):
            output.write_text(f"cache-hit=false\ncache-primary-key={with_.get('key', '')}\n")
            return True
        if action in ("actions/upload-artifact", "actions/upload-pages-artifact"):
            name = with_.get("name") or "github-pages"
            target = self.artifacts / name
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for pattern in with_.get("path", "").split("\n"):
                for found in workspace.glob(pattern.strip()) if pattern.strip() else []:
                    if found.is_dir():  # a folder's contents are the artifact's root, as GitHub does
                        shutil.copytree(found, target, dirs_exist_ok=True)
                    else:
                        shutil.copy2(found, target / found.name)
            return True
        if action == "actions/download-artifact":
            into = workspace / with_.get("path", ".")
            names = [p.name for p in self.artifacts.iterdir()] if self.artifacts.is_dir() else []
            if "name" in with_:
                shutil.copytree(self.artifacts / with_["name"], into, dirs_exist_ok=True)
            for name in fnmatch.filter(names, with_.get("pattern", "") or "\0"):
                shutil.copytree(self.artifacts / name, into / name, dirs_exist_ok=True)
            return True
        raise AssertionError(f"no emulation for {uses}: list it as not run, with the reason")


def _hash_files(workspace: Path, patterns: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(workspace.glob(pattern)):
            if path.is_file():
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _outputs(text: str) -> dict[str, str]:
    """``key=value`` lines and ``key<<DELIMITER`` blocks of a ``GITHUB_OUTPUT`` file."""
    found: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<")[0]:
            key, delimiter = line.split("<<", 1)
            body = []
            for more in lines:
                if more == delimiter:
                    break
                body.append(more)
            found[key] = "\n".join(body)
        elif "=" in line:
            key, _, value = line.partition("=")
            found[key] = value
    return found
