"""``goldenpath check`` as a user runs it: a real subprocess, exit codes, JUnit, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from helpers import processes_with, unreachable_kubeconfig, write_guide

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")


def check(
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOLDENPATH, "check", "--golden-paths", str(tmp_path / "gp"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )


def test_passing_and_failing_guides_exit_codes_and_junit(tmp_path: Path) -> None:
    write_guide(
        tmp_path / "gp",
        "good",
        [
            {"id": "hi", "title": "Say hi", "run": "echo hi", "expect": {"output": "hi"}},
            {"id": "deploy", "title": "Deploy", "run": "kubectl x", "requires": ["cluster"]},
        ],
    )
    write_guide(
        tmp_path / "gp",
        "bad",
        [{"id": "oops", "title": "Fail", "run": "exit 1"}],
        guide_type="getting-started",
    )
    junit = tmp_path / "out" / "junit.xml"

    good = check(tmp_path, "good")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "✓ 1. Say hi" in good.stdout and "○ 2. Deploy" in good.stdout
    assert "needs a cluster" in good.stdout

    both = check(tmp_path, "--junit", str(junit))
    assert both.returncode == 1, both.stdout + both.stderr
    assert "FAILED: golden path 'bad' at step 1 \"Fail\"" in both.stdout
    assert "getting-started/bad/#step-oops" in both.stdout
    assert "spec: gp/bad/guide.yaml:" in both.stdout
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["bad"].find("failure") is not None and cases["good"].find("failure") is None
    props = {p.get("name"): p.get("value") for p in cases["good"].iter("property")}
    assert props["step.hi"].startswith("passed")
    assert props["step.deploy"].startswith("skipped in 0.00s: needs a cluster")
    # A pass with a skipped cluster step says so: partial, never a plain verification.
    assert (props["coverage"], props["steps.real"], props["steps.skipped"]) == ("partial", "1", "1")
    assert "good: passed, partial: 1 of 2 steps ran for real; 1 was skipped" in (
        cases["good"].findtext("system-out") or ""
    )
    assert "passed, partial" in good.stdout and "1 partly" in good.stdout
    # Each case points at its spec, relative to the repository, at the failing step's line.
    bad_line = cases["bad"].get("line")
    assert cases["bad"].get("file") == "gp/bad/guide.yaml" and int(bad_line or 0) > 1
    assert f"spec: gp/bad/guide.yaml:{bad_line}" in both.stdout
    assert cases["bad"].get("classname") == "gp.bad.guide.yaml"
    assert [p.name for p in junit.parent.iterdir()] == ["junit.xml"]  # no temp file left


def test_missing_tool_exits_3_and_is_not_broken(tmp_path: Path) -> None:
    write_guide(tmp_path / "gp", "tool", [{"id": "t", "title": "Tool", "run": "gp-nope-tool"}])
    out = check(tmp_path)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "ERROR (sandbox): golden path 'tool'" in out.stdout
    assert "not marked broken" in out.stdout


def test_unreachable_cluster_and_bad_input(tmp_path: Path) -> None:
    write_guide(tmp_path / "gp", "g", [{"id": "s", "title": "S", "run": "true"}])
    kwok = check(
        tmp_path, "--sandbox", "kubernetes", env={"KUBECONFIG": str(unreachable_kubeconfig(tmp_path))}
    )
    assert kwok.returncode == 3 and "the cluster is unreachable" in kwok.stderr
    # The attempt is recorded, so the page can say so, and the guide is not marked broken.
    status = subprocess.run(
        [GOLDENPATH, "status", "--format", "json", "--golden-paths", str(tmp_path / "gp")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (entry,) = json.loads(status.stdout)
    assert entry["status"] == "unverified"
    assert "sandbox error" in entry["reason"] and "unreachable" in entry["reason"]
    unknown = check(tmp_path, "nope")
    assert unknown.returncode == 2 and "no guide named 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr + kwok.stderr


def test_secret_is_never_printed(tmp_path: Path) -> None:
    secret = f"tok/{uuid.uuid4().hex}+é"
    encoded = {
        "base64": "printf 'user:%s' \"$MY_TOKEN\" | base64 -w0",
        "base64url": "printf '%s' \"$MY_TOKEN\" | base64 -w0 | tr '+/' '-_'",
        "url": 'python3 -c \'import os, urllib.parse as u; print(u.quote(os.environ["MY_TOKEN"], safe=""))\'',
        "json": 'python3 -c \'import json, os; print(json.dumps({"t": os.environ["MY_TOKEN"]}))\'',
        "split": "printf '%s' \"$MY_TOKEN\" | fold -w 9",
        "wrapped": "printf '%s' \"$MY_TOKEN$MY_TOKEN\" | base64 -w 16",
    }
    write_guide(
        tmp_path / "gp",
        "secret",
        [
            {"id": "copy", "title": "Copy it", "run": "export DERIVED=1"},
            *[{"id": name, "title": name, "run": command} for name, command in encoded.items()],
            {
                # the runner's scratch folders (the shell's saved state) hold no secret in clear
                "id": "disk",
                "title": "Nothing on disk",
                "run": '! grep -rlF -- "$MY_TOKEN" /dev/shm/goldenpath-scratch-* /tmp/goldenpath-secret-*',
            },
            {
                "id": "use",
                "title": "Use the token",
                "run": "echo 'token: {{ token }}'; echo $MY_TOKEN >&2; exit 1",
            },
        ],
        parameters=[{"name": "token", "description": "Token.", "secret": True, "env": "MY_TOKEN"}],
    )
    junit = tmp_path / "junit.xml"
    runs = tmp_path / "runs"
    out = check(tmp_path, "--junit", str(junit), env={"MY_TOKEN": secret, "GOLDENPATH_RUNS_DIR": str(runs)})
    assert out.returncode == 1
    assert "token: ***" in out.stdout
    forms = {secret, secret.replace("/", "%2F"), secret[:9]}
    history = tmp_path / ".goldenpath" / "history.sqlite"
    files = [junit, history, *tmp_path.rglob("*")]
    for text in (
        out.stdout,
        out.stderr,
        *(f.read_bytes().decode("utf-8", "replace") for f in files if f.is_file()),
    ):
        for form in forms:
            assert form not in text
    assert "✓ 8. Nothing on disk" in out.stdout, out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_runs_cleanup_leaves_nothing_and_exits_130(tmp_path: Path, jobs: int) -> None:
    marker = f"gp-ctrlc-{uuid.uuid4().hex}"
    names = ["slow-a", "slow-b"][:jobs]
    for name in names:
        write_guide(
            tmp_path / "gp",
            name,
            [
                {
                    "id": "wait",
                    "title": "Wait",
                    "run": f"touch {tmp_path / name}.started; bash -c 'sleep 60; true' {marker}",
                },
            ],
            cleanup=[{"id": "undo", "title": "Undo", "run": f"touch {tmp_path / name}.cleaned"}],
        )
    junit = tmp_path / "junit.xml"
    junit.write_text("<testsuites/>")  # an earlier report: must not become an empty, clean suite
    proc = subprocess.Popen(
        [
            GOLDENPATH,
            "check",
            "--golden-paths",
            str(tmp_path / "gp"),
            "--jobs",
            str(jobs),
            "--junit",
            str(junit),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"{name}.started").exists() for name in names):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert all((tmp_path / f"{name}.cleaned").exists() for name in names)
    assert "interrupted" in err
    assert processes_with(marker) == []
    suite = ET.parse(junit).getroot()
    errors = {case.get("name"): case.find("error") for case in suite.iter("testcase")}
    assert set(errors) == set(names), ET.tostring(suite, encoding="unicode")
    for error in errors.values():
        assert error is not None and "interrupted" in (error.text or "")


def test_unwritable_reports_stop_the_check_before_any_step_runs(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    write_guide(tmp_path / "gp", "good", [{"id": "hello", "title": "Hello", "run": f"touch {ran}"}])
    (tmp_path / "a-folder").mkdir()
    result = check(tmp_path, "--junit", str(tmp_path / "a-folder"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot write {tmp_path / 'a-folder'}: it is a folder" in result.stderr
    assert "Traceback" not in result.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.goldenpath]\nhistory = "a-folder"\n')
    result = check(tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "cannot write the run history" in result.stderr and "--no-history" in result.stderr
    assert not ran.exists()


def test_github_annotations_point_at_the_failing_step(tmp_path: Path) -> None:
    write_guide(tmp_path / "gp", "bad", [{"id": "oops", "title": "Fail", "run": "echo no: way; exit 1"}])
    plain = check(tmp_path)
    assert "::error" not in plain.stdout
    annotated = check(tmp_path, env={"GITHUB_ACTIONS": "true"})
    assert annotated.returncode == 1
    (line,) = [line for line in annotated.stdout.splitlines() if line.startswith("::error ")]
    assert line.startswith("::error file=gp/bad/guide.yaml,line=") and ",title=bad broken at step 1 " in line
    assert "::exited with 1, expected 0" in line
    status = subprocess.run(
        [GOLDENPATH, "status", "--golden-paths", "gp", "--fail-on", "broken"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GITHUB_ACTIONS": "true"},
    )
    assert status.returncode == 1
    assert any(line.startswith("::error file=gp/bad/guide.yaml,line=") for line in status.stdout.splitlines())


def test_locations_are_never_wrapped_in_a_narrow_log(tmp_path: Path) -> None:
    name = "a-guide-with-a-rather-long-identifier-for-a-narrow-terminal"
    write_guide(tmp_path / "gp", name, [{"id": "oops", "title": "Fail", "run": "exit 1"}])
    out = check(tmp_path, env={"COLUMNS": "40"})
    assert out.returncode == 1
    assert any(
        line.startswith(f"  spec: gp/{name}/guide.yaml:") and line.split(":")[-1].isdigit()
        for line in out.stdout.splitlines()
    ), out.stdout
