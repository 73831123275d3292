"""The pytest plugin, driven through ``pytester``: collection, reports, JUnit, xdist."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import pytest

from helpers import build_file_tree, unreachable_kubeconfig, write_guide

pytest_plugins = ["pytester"]

SUITE = {"checks/golden_paths.suite.yaml": "golden_paths: ../golden_paths\n"}


def test_suite_collects_each_guide_as_one_item_named_by_its_spec(pytester: pytest.Pytester) -> None:
    build_file_tree(pytester.path, SUITE)
    write_guide(
        pytester.path / "golden_paths",
        "alpha",
        [{"id": "a", "title": "A", "run": "true"}],
        tags=["python", "fast-lane"],
    )
    write_guide(
        pytester.path / "golden_paths", "beta", [{"id": "b", "title": "B", "run": "true"}], stage="verify"
    )
    result = pytester.runpytest("checks/", "-v", "--strict-markers")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "golden_paths/alpha/guide.yaml::alpha PASSED*",
            "golden_paths/beta/guide.yaml::beta PASSED*",
        ]
    )
    selected = pytester.runpytest("checks/", "-v", "--strict-markers", "-k", "beta")
    selected.assert_outcomes(passed=1)
    by_tag = pytester.runpytest("checks/", "--strict-markers", "-m", "fast-lane or verify")
    by_tag.assert_outcomes(passed=2)
    only_python = pytester.runpytest("checks/", "--strict-markers", "-m", "python")
    only_python.assert_outcomes(passed=1)
    direct = pytester.runpytest("golden_paths/", "-v")
    direct.stdout.fnmatch_lines(["golden_paths/alpha/guide.yaml::alpha PASSED*"])
    nowhere = pytester.runpytest(".", "--collect-only", "-q", "-p", "no:cacheprovider", "--ignore=checks")
    nowhere.stdout.fnmatch_lines(["no tests collected*"])


def test_failure_report_points_at_step_page_spec_and_fix(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_file_tree(
        pytester.path, {**SUITE, "pyproject.toml": '[tool.goldenpath]\nsite_url = "https://docs.acme.dev"\n'}
    )
    spec = write_guide(
        pytester.path / "golden_paths",
        "broken",
        [
            {"id": "first", "title": "First", "run": "true"},
            {
                "id": "greet",
                "title": "Greet the world",
                "run": "echo Hello; echo boom >&2",
                "expect": {"output": "Goodbye\n"},
            },
        ],
        troubleshooting=[
            {
                "problem": "Wrong greeting",
                "fix": "Update the service.",
                "step": "greet",
                "symptom": {"contains": ["Hello"]},
            }
        ],
        guide_type="getting-started",
    )
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest("checks/", f"--junitxml={junit}", "-o", "junit_family=xunit1")
    result.assert_outcomes(failed=1)
    line = next(i for i, text in enumerate(spec.read_text().splitlines(), 1) if "id: greet" in text)
    result.stdout.fnmatch_lines(
        [
            "*FAILED: golden path 'broken' at step 2 \"Greet the world\"",
            '*output differs from "you should see"',
            "*command:",
            "*echo Hello; echo boom >&2",
            "*exit code: 0",
            "*-Goodbye",
            "*+Hello",
            "*boom",
            "*page: https://docs.acme.dev/getting-started/broken/#step-greet",
            f"*spec: golden_paths/broken/guide.yaml:{line}",
            "*known problem: Wrong greeting",
            "*fix: Update the service.",
        ]
    )
    case = ET.parse(junit).getroot().find(".//testcase")
    assert case is not None
    # The same file, line and class name as `goldenpath check --junit` gives the case.
    assert (case.get("file"), case.get("line")) == ("golden_paths/broken/guide.yaml", str(line))
    assert case.get("classname") == "golden_paths.broken.guide.yaml"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    annotated = pytester.runpytest("checks/")
    annotated.stdout.fnmatch_lines(
        [f"::error file=golden_paths/broken/guide.yaml,line={line},title=broken *"]
    )
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["step.first"].startswith("passed")
    assert props["step.greet"].startswith("failed in") and props["outcome"] == "failed"


def test_sandbox_error_fails_with_a_clear_headline(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_file_tree(pytester.path, SUITE)
    write_guide(pytester.path / "golden_paths", "g", [{"id": "s", "title": "S", "run": "true"}])
    monkeypatch.setenv("KUBECONFIG", str(unreachable_kubeconfig(pytester.path)))
    kwok = pytester.runpytest("checks/", "--sandbox", "kubernetes")
    kwok.assert_outcomes(failed=1)
    kwok.stdout.fnmatch_lines(["*ERROR (sandbox): the cluster is unreachable*"])
    write_guide(pytester.path / "golden_paths", "g", [{"id": "s", "title": "S", "run": "gp-not-a-tool"}])
    tool = pytester.runpytest("checks/")
    tool.assert_outcomes(failed=1)
    tool.stdout.fnmatch_lines(
        ["*ERROR (sandbox): golden path 'g' at step 1*", "*'gp-not-a-tool' is not installed*"]
    )


def test_skipped_cluster_steps_pass_and_are_reported(pytester: pytest.Pytester) -> None:
    build_file_tree(pytester.path, SUITE)
    write_guide(
        pytester.path / "golden_paths",
        "k8s",
        [
            {"id": "apply", "title": "Apply", "run": "kubectl apply -f x", "requires": ["cluster"]},
        ],
    )
    result = pytester.runpytest("checks/")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*golden paths passed with skipped steps*",
            '*guide.yaml::k8s: skipped step 1 "Apply" (needs a cluster, which the local sandbox cannot do;*',
        ]
    )


def test_golden_paths_option_and_bad_specs(pytester: pytest.Pytester) -> None:
    build_file_tree(pytester.path, {**SUITE, "elsewhere/bad/guide.yaml": "kind: [\n"})
    write_guide(pytester.path / "elsewhere", "other", [{"id": "s", "title": "S", "run": "true"}])
    result = pytester.runpytest("checks/", "--golden-paths", "elsewhere", "-v")
    result.stdout.fnmatch_lines(["*invalid golden path spec:*", "*elsewhere/bad/guide.yaml:*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED


@pytest.mark.slow
def test_two_guides_on_two_workers_do_not_collide_on_their_port(pytester: pytest.Pytester) -> None:
    build_file_tree(pytester.path, SUITE)
    for name in ("left", "right"):
        write_guide(
            pytester.path / "golden_paths",
            name,
            [
                {
                    "id": "serve",
                    "title": "Serve",
                    "background": True,
                    "run": f"{sys.executable} -m http.server {{{{ port }}}} --bind 127.0.0.1",
                    "ready": {"http": "http://127.0.0.1:{{ port }}/"},
                },
                {
                    "id": "call",
                    "title": "Call",
                    "run": "curl -sf http://127.0.0.1:{{ port }}/ -o /dev/null; echo $GOLDENPATH_GUIDE",
                    "expect": {"output": name},
                },
                {"id": "hold", "title": "Hold the port", "run": "sleep 1"},
            ],
            parameters=[{"name": "port", "type": "port", "description": "Port.", "default": 8080}],
        )
    result = pytester.runpytest_subprocess("checks/", "-n", "2", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*[gw?]*PASSED golden_paths/*/guide.yaml::*"] * 2)


def test_accept_option_rewrites_the_block_and_checks_the_guide_again(pytester: pytest.Pytester) -> None:
    build_file_tree(pytester.path, SUITE)
    spec = write_guide(
        pytester.path / "golden_paths",
        "alpha",
        [{"id": "hi", "title": "Say hi", "run": "echo hello world", "expect": {"output": "goodbye\n"}}],
    )
    pytester.runpytest("checks/").assert_outcomes(failed=1)
    accepted = pytester.runpytest("checks/", "--accept", "-rA")
    accepted.assert_outcomes(passed=1)
    accepted.stdout.fnmatch_lines(["*goldenpath: accepted*", "*-    *goodbye", "*+    *hello world"])
    assert "hello world" in spec.read_text() and "goodbye" not in spec.read_text()
    pytester.runpytest("checks/").assert_outcomes(passed=1)
