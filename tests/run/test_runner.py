"""The runner on real subprocesses: shell state, expectations, retries, background, timeouts."""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from goldenpath.run import runner
from goldenpath.run.results import GuideResult, describe_failure
from goldenpath.sandbox import workspace
from goldenpath.sandbox.local import LocalSandbox
from goldenpath.spec import loader
from helpers import processes_with, write_guide

PY = sys.executable


def run(tmp_path: Path, steps: list[dict[str, Any]], **options: Any) -> GuideResult:
    folder = tmp_path / "golden_paths"
    write_guide(folder, "demo", steps, **options)
    (guide,) = loader.load_guides(folder)
    events: list[runner.Event] = []
    result = runner.run_guide(runner.prepare(guide), LocalSandbox(), on_event=events.append)
    assert events[0].kind == "guide-started" and events[-1].kind == "guide-finished"
    finished = [e.result for e in events if e.kind == "step-finished"]
    assert finished == list(result.steps)
    return result


def outcomes(result: GuideResult) -> dict[str, str]:
    return {s.step_id: s.outcome for s in result.steps}


def test_passing_guide_carries_shell_state_between_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp, shm = tmp_path / "temp", tmp_path / "shm"
    temp.mkdir()
    shm.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(workspace, "SCRATCH_TMPFS", shm)
    result = run(
        tmp_path,
        [
            {"id": "make-dir", "title": "Make a folder", "run": "mkdir -p app/src && cd app"},
            {"id": "export", "title": "Set a variable", "run": "export GREETING=hello\nNAME=world"},
            {
                "id": "use",
                "title": "Use them",
                "run": 'echo "$GREETING $NAME from $(basename "$PWD")"',
                "expect": {"output": "hello world from app\n"},
            },
            {
                "id": "file",
                "title": "Write a file",
                "file": {"path": "src/main.py", "template": "main.py.j2"},
                "expect": {"files": ["src/main.py"]},
            },
            {
                "id": "run-it",
                "title": "Run it",
                "run": f"{PY} src/main.py",
                "expect": {
                    "contains": ["answer=42"],
                    "notContains": ["Traceback"],
                    "matches": ["^answer=\\d+$"],
                },
            },
            {
                "id": "env",
                "title": "Scrubbed environment",
                "hidden": True,
                "run": 'test "$HOME" != /root && test -z "${VIRTUAL_ENV:-}" && echo "$HOME"',
                "expect": {"output": "<any>/home\n"},
            },
        ],
        templates={"main.py.j2": "print('answer=42')\n"},
    )
    assert result.outcome == "passed", describe_failure(result, _guide(tmp_path))
    assert [s.number for s in result.steps] == [1, 2, 3, 4, 5, None]
    assert result.steps[-1].hidden
    assert result.sandbox == "local" and "bash" in result.sandbox_versions
    assert result.content_hash and result.leaks == ()
    assert list(temp.iterdir()) == [] and list(shm.iterdir()) == []  # nothing left behind


def _guide(tmp_path: Path) -> Any:
    (guide,) = loader.load_guides(tmp_path / "golden_paths")
    return guide


def test_failing_command_names_step_command_anchor_and_line(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            {"id": "ok", "title": "Fine", "run": "true"},
            {"id": "break", "title": "Break it", "run": "echo oops >&2; exit 1"},
            {"id": "later", "title": "Never", "run": "true"},
        ],
        troubleshooting=[
            {
                "problem": "It says oops",
                "fix": "Set it up first.",
                "step": "break",
                "symptom": {"contains": ["oops"]},
            }
        ],
    )
    assert result.outcome == "failed" and result.broken
    step = result.problem
    assert step is not None and step.step_id == "break"
    assert step.exit_code == 1 and step.stderr == "oops\n"
    assert outcomes(result)["later"] == "skipped"
    report = describe_failure(result, _guide(tmp_path), "https://docs.example.com")
    assert "FAILED: golden path 'demo' at step 2 \"Break it\"" in report
    assert "echo oops >&2; exit 1" in report and "exit code: 1" in report
    assert "https://docs.example.com/how-to/demo/#step-break" in report
    assert f"{tmp_path / 'golden_paths/demo/guide.yaml'}:{step.line}" in report
    assert step.line > 1
    assert "known problem: It says oops\n  fix: Set it up first." in report


def test_only_the_troubleshooting_entry_that_matches_is_shown(tmp_path: Path) -> None:
    steps = [
        {
            "id": "get",
            "title": "Get the deployment",
            "run": "echo 'Error from server (NotFound): deployments.apps \"helo\" not found' >&2; exit 1",
        }
    ]
    entries = [
        {
            "problem": "The rollout is stuck",
            "fix": "Describe the pods.",
            "step": "get",
            "symptom": {"contains": ["timed out waiting"]},
        },
        {
            "problem": "No such deployment",
            "fix": "Check the name.",
            "step": "get",
            "symptom": {"regex": ["NotFound.*not found"]},
        },
        {
            "problem": "curl prints nothing",
            "fix": "Start the server.",
            "step": "get",
            "symptom": {"exitCode": 7},
        },
    ]
    report = describe_failure(run(tmp_path / "a", steps, troubleshooting=entries), _guide(tmp_path / "a"))
    assert "known problem: No such deployment\n  fix: Check the name." in report
    assert "rollout is stuck" not in report and "curl prints nothing" not in report
    # None matches: the report points at the step's troubleshooting on the page instead.
    report = describe_failure(run(tmp_path / "b", steps, troubleshooting=entries[:1]), _guide(tmp_path / "b"))
    assert "rollout is stuck" not in report
    assert (
        "no known problem of this step matches; see the troubleshooting of this step on the page: " in report
    )
    assert "how-to/demo/#step-get" in report


def test_wrong_you_should_see_shows_a_diff(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            {
                "id": "greet",
                "title": "Greet",
                "run": "printf 'Hello\\nWorld\\n'",
                "expect": {"output": "Hello\nEarth\n"},
            }
        ],
    )
    step = result.steps[0]
    assert step.outcome == "failed"
    assert step.message == 'output differs from "you should see"'
    assert "-Earth\n+World" in step.expected and " Hello" in step.expected


def test_tolerant_match_across_varying_values(tmp_path: Path) -> None:
    command = (
        'h=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d " \\n"); '
        'echo "pod/web-${h}-$((RANDOM % 9000 + 1000))x ready on 10.$((RANDOM % 250)).0.$((RANDOM % 250))"; '
        "date -u +%Y-%m-%dT%H:%M:%S.%NZ"
    )
    expected = "pod/web-<hash>-<hash> ready on <ip>\n<timestamp>\n"
    for _ in range(2):
        result = run(
            tmp_path, [{"id": "pods", "title": "Pods", "run": command, "expect": {"output": expected}}]
        )
        assert result.outcome == "passed", result.steps[0].expected


def test_retry_passes_once_the_service_is_ready(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            {
                "id": "serve",
                "title": "Start a slow server",
                "background": True,
                "run": f"sleep 0.6; exec {PY} -m http.server {{{{ port }}}} --bind 127.0.0.1",
            },
            {
                "id": "call",
                "title": "Call it",
                "run": "curl -sf http://127.0.0.1:{{ port }}/ >/dev/null",
                "retry": {"within": 15, "interval": 0.2, "backoff": 1.2},
            },
        ],
        parameters=[{"name": "port", "type": "port", "description": "Port.", "default": 8080}],
    )
    assert result.outcome == "passed", result.steps
    assert result.steps[1].attempts > 1


def test_retry_that_never_passes_times_out(tmp_path: Path) -> None:
    start = time.monotonic()
    result = run(
        tmp_path,
        [
            {
                "id": "wait",
                "title": "Wait for it",
                "run": "test -f never-there",
                "retry": {"within": 1.0, "interval": 0.2, "backoff": 1.5},
            }
        ],
    )
    step = result.steps[0]
    assert step.outcome == "timeout" and result.outcome == "timeout" and result.broken
    assert step.attempts >= 3 and "retry.within" in step.message
    assert time.monotonic() - start < 5


def test_a_settled_mismatch_ends_the_retry_early_as_failed(tmp_path: Path) -> None:
    start = time.monotonic()
    result = run(
        tmp_path,
        [
            {
                "id": "ask",
                "title": "Ask for the image",
                # A typo that no amount of waiting fixes; the age keeps changing, which is not news.
                "run": 'echo "Image: registry.example.com/acme/helo:1.0.0 (age ${RANDOM}s)"',
                "expect": {"contains": ["registry.example.com/acme/hello:1.0.0"]},
                "retry": {"within": 60},
            }
        ],
    )
    step = result.steps[0]
    # About 2.5 s on an idle machine; far below the 60 s budget on a loaded one too.
    assert time.monotonic() - start < 20
    assert step.outcome == "failed" and result.broken and step.attempts == 3
    assert "the same output 3 times in a row; 3 attempts in" in step.message
    assert "retry.settle" in step.message and "of the 60s retry budget" in step.message


def test_output_that_keeps_changing_runs_to_the_whole_budget(tmp_path: Path) -> None:
    start = time.monotonic()
    result = run(
        tmp_path,
        [
            {
                "id": "count",
                "title": "Count up",
                "run": "date +%N",
                "expect": {"output": "never this\n"},
                "retry": {"within": 2.0, "interval": 0.3, "backoff": 1.0},
            }
        ],
    )
    step = result.steps[0]
    elapsed = time.monotonic() - start
    assert step.outcome == "timeout" and step.attempts >= 5
    assert 2.0 <= elapsed < 4, elapsed  # the budget in full, not a round of backoff short of it
    assert f"still not as expected after {step.attempts} attempts in 2." in step.message


def test_a_condition_that_is_not_met_yet_runs_to_the_budget(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            {
                "id": "wait",
                "title": "Wait for the file",
                "run": "test -f ready",
                "retry": {"within": 1.5, "interval": 0.2, "backoff": 1.0},
            }
        ],
    )
    assert result.steps[0].outcome == "timeout" and result.steps[0].attempts > 3


def test_a_readiness_failure_names_what_it_saw_last(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            {
                "id": "serve",
                "title": "Serve",
                "background": True,
                "run": f"exec {PY} -m http.server {{{{ port }}}} --bind 127.0.0.1",
                # The server answers, but not on this path: 404, never ready.
                "ready": {"http": "http://127.0.0.1:{{ port }}/healthz", "timeout": 1.5},
            },
        ],
        parameters=[{"name": "port", "type": "port", "description": "Port.", "default": 8080}],
    )
    step = result.steps[0]
    assert step.outcome == "timeout"
    assert "not ready within 1.5s: wanted http://127.0.0.1:" in step.message
    assert step.message.endswith("the last answer was HTTP 404")
    closed = run(
        tmp_path / "closed",
        [
            {
                "id": "closed",
                "title": "Wait for a port nobody opens",
                "background": True,
                "run": "sleep 30",
                "ready": {"port": "{{ port }}", "timeout": 0.5},
            }
        ],
        parameters=[{"name": "port", "type": "port", "description": "Port.", "default": 8080}],
    )
    assert closed.steps[0].message.endswith("the last try to connect got: Connection refused")


def test_background_server_with_readiness_and_http_checks(tmp_path: Path) -> None:
    server = (
        "import http.server, json, sys\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        body = json.dumps({'status': 'ok', 'items': [{'name': 'a'}]}).encode()\n"
        "        self.send_response(200); self.end_headers(); self.wfile.write(body)\n"
        "    def log_message(self, *a): pass\n"
        "print('listening on', sys.argv[1], flush=True)\n"
        "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n"
    )
    result = run(
        tmp_path,
        [
            {
                "id": "code",
                "title": "Write the server",
                "file": {"path": "server.py", "template": "server.py.j2"},
            },
            {
                "id": "by-log",
                "title": "Start it",
                "background": True,
                "run": f"{PY} server.py {{{{ port }}}}",
                "ready": {"log": "listening on \\d+", "timeout": 20},
                "expect": {"contains": ["listening on"]},
            },
            {
                "id": "by-port",
                "title": "Start another",
                "background": True,
                "run": f"{PY} server.py {{{{ other }}}}",
                "ready": {"port": "{{ other }}"},
            },
            {
                "id": "by-http",
                "title": "And a third",
                "background": True,
                "run": f"{PY} server.py {{{{ third }}}}",
                "ready": {"http": "http://127.0.0.1:{{ third }}/"},
            },
            {
                "id": "get",
                "title": "Ask it",
                "http": {"url": "http://127.0.0.1:{{ port }}/"},
                "expect": {"status": 200, "json": {"status": "ok", "items[0].name": "a"}},
            },
            {
                "id": "get-wrong",
                "title": "Ask it wrongly",
                "hidden": True,
                "http": {"url": "http://127.0.0.1:{{ other }}/"},
                "expect": {"json": {"status": "down"}},
            },
        ],
        templates={"server.py.j2": server},
        parameters=[
            {"name": n, "type": "port", "description": "Port.", "default": 8080}
            for n in ("port", "other", "third")
        ],
    )
    assert outcomes(result) == {
        "code": "passed",
        "by-log": "passed",
        "by-port": "passed",
        "by-http": "passed",
        "get": "passed",
        "get-wrong": "failed",
    }
    assert result.steps[-1].message == 'JSON field status is "ok", expected "down"'
    assert result.leaks == ()
    assert not processes_with(result.run_id)


def test_background_that_never_gets_ready_times_out(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            {
                "id": "serve",
                "title": "Serve",
                "background": True,
                "run": "sleep 30",
                "ready": {"port": 1, "timeout": 0.5},
            }
        ],
    )
    assert result.steps[0].outcome == "timeout"
    assert "not ready within 0.5s" in result.steps[0].message
    assert not processes_with(result.run_id)


def test_hanging_step_is_killed_at_its_timeout_and_cleanup_still_runs(tmp_path: Path) -> None:
    marker = f"gp-hang-{uuid.uuid4().hex}"
    record = tmp_path / "cleanup.txt"
    start = time.monotonic()
    result = run(
        tmp_path,
        [
            {"id": "prepare", "title": "Prepare", "run": "mkdir sub && cd sub && export FOO=bar"},
            {
                "id": "hang",
                "title": "Hang",
                "timeout": 1,
                "run": f"bash -c 'sleep 60; true' {marker} & bash -c 'sleep 60; true' {marker}",
            },
        ],
        cleanup=[
            {"id": "record", "title": "Record state", "run": f'echo "$FOO $(basename "$PWD")" > {record}'}
        ],
    )
    assert time.monotonic() - start < 10
    assert outcomes(result) == {"prepare": "passed", "hang": "timeout", "record": "passed"}
    assert result.outcome == "timeout" and "stopped (timeout)" in result.steps[1].message
    assert record.read_text() == "bar sub\n"
    assert processes_with(marker) == []


def test_missing_tool_is_a_sandbox_error_not_a_broken_guide(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [{"id": "tool", "title": "Use a tool", "run": "no-such-tool-gp --version"}],
        cleanup=[{"id": "undo", "title": "Undo", "run": "false"}],
    )
    assert result.outcome == "error" and not result.broken
    assert result.steps[0].outcome == "error"
    assert "'no-such-tool-gp' is not installed" in result.steps[0].message
    assert result.steps[1].outcome == "failed"  # a consequence; the first problem decides


def test_failing_prerequisite_is_an_error_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    result = run(
        tmp_path,
        [{"id": "s", "title": "S", "run": f"touch {marker}"}],
        prerequisites=[{"text": "A tool called gp-missing.", "command": "gp-missing -v"}],
    )
    assert result.outcome == "error"
    assert result.steps[0].section == "prerequisites"
    assert "prerequisite not met: A tool called gp-missing." in result.steps[0].message
    assert not marker.exists()


def test_cluster_steps_are_skipped_locally_with_the_reason(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            {"id": "local", "title": "Local", "run": "true"},
            {"id": "deploy", "title": "Deploy", "run": "kubectl apply -f x.yaml", "requires": ["cluster"]},
        ],
    )
    assert result.outcome == "passed"
    assert result.steps[1].outcome == "skipped"
    assert result.steps[1].message == (
        "needs a cluster, which the local sandbox cannot do; run with --sandbox real-node, kwok or kubernetes"
    )
    assert [s.coverage for s in result.steps] == ["real", "skipped"]


def test_exit_in_a_step_ends_the_shell_which_restarts(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            {"id": "cd", "title": "Cd", "run": "mkdir d && cd d"},
            {"id": "leave", "title": "Leave", "run": "exit 3", "expect": {"exitCode": 3}},
            {"id": "where", "title": "Where", "run": "basename $PWD", "expect": {"output": "d"}},
        ],
    )
    assert result.outcome == "passed", result.steps


def test_secrets_are_masked_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    monkeypatch.setenv("GOLDENPATH_SECRET_TOKEN", secret)
    result = run(
        tmp_path,
        [
            {
                "id": "use",
                "title": "Use the token",
                "run": 'echo "token={{ token }} env=$GOLDENPATH_SECRET_TOKEN"; echo {{ token }} >&2; false',
            },
        ],
        parameters=[{"name": "token", "description": "API token.", "secret": True}],
    )
    assert result.outcome == "failed"
    step = result.steps[0]
    assert step.stdout == "token=*** env=***\n" and step.stderr == "***\n"
    assert secret not in repr(result) and "***" in step.command


def test_processes_that_escape_are_stopped_and_reported(tmp_path: Path) -> None:
    marker = f"gp-escape-{uuid.uuid4().hex}"
    result = run(
        tmp_path,
        [
            {
                "id": "escape",
                "title": "Escape",
                "run": f"setsid bash -c 'touch up; sleep 60; true' {marker} &\n"
                "until [ -f up ]; do sleep 0.02; done",
            }
        ],
    )
    assert result.outcome == "passed"
    assert any(marker in leak for leak in result.leaks)
    assert processes_with(marker) == []
