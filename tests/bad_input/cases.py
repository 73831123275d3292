"""The bad-input corpus: what a hostile or careless pull request can put in a golden-paths repo.

Each case is a small repository (files written into a fresh folder), the ``goldenpath`` command a
contributor or CI would run on it, and what must come back: the documented exit code and a
one-line message naming the file and line (when there is one) and what is wrong. The classes:
decoding and size, numbers, patterns, template evaluation, confinement, command line and
settings, sandbox. ``tests/broken_specs`` holds more, one defect each, for lint's own wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from helpers import guide_spec

SPEC = "gp/g/guide.yaml"
TEMPLATE = "gp/g/templates/t.j2"


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    """Arguments of ``goldenpath``; ``{tmp}`` is the case's folder."""
    message: str
    """Part of the one error line that must be printed."""
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    where: str = ""
    """The file the error names (relative to the case's folder); "" for none."""
    at: str | None = None
    """Text on the line the error must point at, in ``where``; None: no line expected."""
    exit: int = 2
    links: Mapping[str, str] = field(default_factory=dict)
    """Symbolic links to make: path -> target (``{tmp}`` allowed)."""
    env: Mapping[str, str] = field(default_factory=dict)
    dirs: tuple[str, ...] = ()


def spec(steps: list[dict[str, Any]], **options: Any) -> str:
    return guide_spec("g", steps, **options)


RUN = {"id": "s", "title": "Say hi", "run": "echo hi", "expect": {"output": "hi"}}
LINT = ("lint", "--golden-paths", "gp")
NEW = ("new", "--golden-paths", "gp", "g", "dest")
CHECK = ("check", "--golden-paths", "gp")


def with_step(**step: Any) -> dict[str, str | bytes]:
    return {SPEC: spec([{**RUN, **step}])}


def with_template(body: str, **step: Any) -> dict[str, str | bytes]:
    file_step = {"id": "f", "title": "Write it", "file": {"path": "out.txt", "template": "t.j2"}, **step}
    return {SPEC: spec([file_step]), TEMPLATE: body}


def with_param(**param: Any) -> dict[str, str | bytes]:
    parameter = {"name": "name", "description": "The name.", "default": "demo", **param}
    file_step = {"id": "f", "title": "Write it", "file": {"path": "{{ name }}.txt", "template": "t.j2"}}
    return {SPEC: spec([file_step], parameters=[parameter]), TEMPLATE: "{{ name }}\n"}


def nested(depth: int) -> str:
    return spec([RUN]).replace("spec:\n", "spec:\n  x: " + "[" * depth + "]" * depth + "\n", 1)


def billion_laughs() -> str:
    levels = ["  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    return spec([RUN]).replace("spec:\n", "spec:\n" + "\n".join(levels) + "\n", 1)


UNREACHABLE = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""
"""A kubeconfig whose API server refuses connections (nothing listens on port 1)."""
CATASTROPHIC = "^(a+)+$"
EVIL_VALUE = "a" * 64 + "!"

DECODING = [
    Case(
        "spec-not-utf8",
        LINT,
        "is not UTF-8 text",
        {SPEC: spec([RUN]).encode().replace(b"Say hi", b"Say h\xe9")},
        SPEC,
        "title: Say h",
    ),
    Case(
        "template-not-utf8", LINT, "not UTF-8", {**with_template(""), TEMPLATE: b"ok\n\xff\xfe\n"}, TEMPLATE
    ),
    Case("spec-too-large", LINT, "at most 2,097,152 are read", {SPEC: spec([RUN]) + "#" * (3 << 20)}, SPEC),
    Case("template-too-large", LINT, "at most 2,097,152 are read", with_template("x" * (3 << 20)), TEMPLATE),
    Case("yaml-nested-deep", LINT, "nested more than 64 levels deep", {SPEC: nested(5000)}, SPEC),
    Case(
        "yaml-nested-just-too-deep",
        LINT,
        "nested more than 64 levels deep",
        {SPEC: nested(80)},
        SPEC,
        "x: [[",
    ),
    Case(
        "yaml-billion-laughs",
        LINT,
        "more than 100,000 values once its aliases are expanded",
        {SPEC: billion_laughs()},
        SPEC,
    ),
    Case(
        "yaml-nul-byte",
        LINT,
        "control character U+0000 is not allowed",
        {SPEC: spec([RUN]).replace("Say hi", "Say\0hi")},
        SPEC,
        "title: Say",
    ),
    Case("yaml-tab-indent", LINT, "invalid YAML", {SPEC: spec([RUN]).replace("  type:", "\ttype:")}, SPEC),
    Case(
        "yaml-two-documents",
        LINT,
        "expected a single document",
        {SPEC: spec([RUN]) + "---\nb: 1\n"},
        SPEC,
        "---",
    ),
    Case(
        "yaml-list-document",
        LINT,
        "expected a mapping for the document, got a list",
        {SPEC: "- a\n- b\n"},
        SPEC,
        "- a",
    ),
    Case("yaml-empty", LINT, "the spec is empty", {SPEC: "\n"}, SPEC),
    Case("spec-is-a-folder", LINT, "cannot read the spec", {}, SPEC, dirs=(SPEC,)),
    Case("template-is-a-folder", LINT, "t.j2", {SPEC: with_template("")[SPEC]}, SPEC, dirs=(TEMPLATE,)),
]

NUMBERS = [
    Case("timeout-nan", LINT, "timeout", with_step(timeout=float("nan")), SPEC, "timeout: .nan"),
    Case("timeout-infinite", LINT, "timeout", with_step(timeout=float("inf")), SPEC, "timeout: .inf"),
    Case("timeout-negative", LINT, "timeout must be positive", with_step(timeout=-5), SPEC, "timeout: -5"),
    Case("timeout-zero", LINT, "timeout must be positive", with_step(timeout=0), SPEC, "timeout: 0"),
    Case("timeout-a-year", LINT, "is too long", with_step(timeout=31536000), SPEC, "timeout: 31536000"),
    Case(
        "retry-within-negative",
        LINT,
        "within must be positive",
        with_step(retry={"within": -1}),
        SPEC,
        "within: -1",
    ),
    Case(
        "retry-interval-zero",
        LINT,
        "interval",
        with_step(retry={"within": 10, "interval": 0}),
        SPEC,
        "interval: 0",
    ),
    Case(
        "retry-interval-busy",
        LINT,
        "is too short",
        with_step(retry={"within": 10, "interval": 0.001}),
        SPEC,
        "interval: 0.001",
    ),
    Case(
        "retry-interval-nan",
        LINT,
        "interval",
        with_step(retry={"within": 10, "interval": float("nan")}),
        SPEC,
        "interval: .nan",
    ),
    Case(
        "retry-backoff-shrinks",
        LINT,
        "is out of range",
        with_step(retry={"within": 10, "backoff": 0.5}),
        SPEC,
        "backoff: 0.5",
    ),
    Case(
        "retry-settle-negative",
        LINT,
        "settle cannot be negative",
        with_step(retry={"within": 10, "settle": -1}),
        SPEC,
        "settle: -1",
    ),
    Case(
        "exit-code-impossible",
        LINT,
        "exit code 300 cannot happen",
        with_step(expect={"exitCode": 300}),
        SPEC,
        "exitCode: 300",
    ),
    Case(
        "port-out-of-range",
        LINT,
        "port 70000 is out of range",
        with_param(type="port", default=70000),
        SPEC,
        "default: 70000",
    ),
    Case(
        "integer-overflows",
        LINT,
        "must be an integer",
        with_param(type="integer", default=float("inf")),
        SPEC,
        "default: .inf",
    ),
    Case(
        "minutes-negative",
        LINT,
        "-5 minutes is out of range",
        {SPEC: spec([RUN]).replace("  type: how-to", "  type: how-to\n  estimatedMinutes: -5")},
        SPEC,
        "estimatedMinutes",
    ),
]

PATTERNS = [
    Case(
        "pattern-catastrophic-in-new",
        (*NEW, "--set", f"name={EVIL_VALUE}"),
        "does not match the pattern",
        with_param(pattern=CATASTROPHIC, default="aaa"),
    ),
    Case(
        "pattern-catastrophic-in-lint",
        LINT,
        "does not match the pattern",
        with_param(pattern=CATASTROPHIC, default=EVIL_VALUE),
        SPEC,
        "default: aaaa",
    ),
    Case(
        "pattern-catastrophic-in-check",
        CHECK,
        "does not match",
        with_param(pattern=CATASTROPHIC, default=EVIL_VALUE),
        SPEC,
        "default: aaaa",
    ),
    Case(
        "pattern-backreference",
        LINT,
        "backreferences are not supported",
        with_param(pattern=r"(a)\1"),
        SPEC,
        "pattern:",
    ),
    Case(
        "pattern-lookahead",
        LINT,
        "lookaround is not supported",
        with_param(pattern="(?=a)a"),
        SPEC,
        "pattern:",
    ),
    Case("pattern-unclosed", LINT, "missing ]", with_param(pattern="[a-z"), SPEC, "pattern:"),
    Case(
        "matches-lookbehind",
        LINT,
        "lookaround is not supported",
        with_step(expect={"matches": ["(?<=x)y"]}),
        SPEC,
        "(?<=x)y",
    ),
    Case(
        "output-regex-line-invalid",
        LINT,
        "invalid regular expression",
        with_step(expect={"output": "id=[0-9 (re)\n"}),
        SPEC,
        "output:",
    ),
    Case(
        "symptom-regex-invalid",
        LINT,
        "invalid regular expression",
        {
            SPEC: spec(
                [RUN],
                troubleshooting=[
                    {
                        "problem": "It fails",
                        "fix": "Fix it.",
                        "step": "s",
                        "symptom": {"regex": ["(unclosed"]},
                    }
                ],
            )
        },
        SPEC,
        "(unclosed",
    ),
    Case(
        "ready-log-invalid",
        LINT,
        "invalid regular expression",
        with_step(run="sleep 5", background=True, expect={}, ready={"log": "*oops"}),
        SPEC,
        "log:",
    ),
]

TEMPLATES = [
    Case(
        "jinja-huge-string", LINT, "would be too large", with_template("{{ 'x' * 10**10 }}"), TEMPLATE, "{{"
    ),
    Case("jinja-huge-power", LINT, "too large", with_template("{{ 10 ** (10 ** 10) }}"), TEMPLATE, "{{"),
    Case(
        "jinja-huge-range",
        LINT,
        "Range too big",
        with_template("{% for i in range(10**10) %}x{% endfor %}"),
        TEMPLATE,
        "{%",
    ),
    Case(
        "jinja-output-too-large",
        LINT,
        "at most 1,000,000",
        with_template("{% for i in range(99999) %}{{ 'x' * 99 }}{% endfor %}"),
        TEMPLATE,
    ),
    Case(
        "jinja-padding-too-large",
        LINT,
        "at most 1,000,000",
        with_template("{{ 'x'|center(10**9) }}"),
        TEMPLATE,
    ),
    Case(
        "jinja-endless-recursion",
        LINT,
        "RecursionError",
        with_template("{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}"),
        TEMPLATE,
    ),
    Case(
        "jinja-unsafe-attribute",
        LINT,
        "is unsafe",
        with_template("{{ ''.__class__.__mro__ }}"),
        TEMPLATE,
        "{{",
    ),
    Case(
        "jinja-syntax-error",
        LINT,
        "template syntax error",
        with_template("ok\n{% if %}\n"),
        TEMPLATE,
        "{% if %}",
    ),
    Case(
        "jinja-include-above",
        LINT,
        "which is not under templates/",
        with_template("{% include '../../../etc/passwd' %}"),
        TEMPLATE,
        "{% include",
    ),
    Case(
        "jinja-undefined-in-path",
        LINT,
        "undefined",
        {
            SPEC: spec([{"id": "f", "title": "Write", "file": {"path": "{{ nope }}/x", "template": "t.j2"}}]),
            TEMPLATE: "x",
        },
        SPEC,
        "path:",
    ),
    Case(
        "command-huge-string",
        LINT,
        "would be too large",
        with_step(run="echo {{ 'x' * 10**10 }}"),
        SPEC,
        "run: echo",
    ),
    Case("command-int-too-long", LINT, "limit", with_template("{{ 7 ** 9999 }}"), TEMPLATE),
]

CONFINEMENT = [
    Case(
        "file-path-absolute",
        LINT,
        "leaves the working directory",
        with_template("x", file={"path": "{tmp}/escaped.txt", "template": "t.j2"}),
        SPEC,
        "path:",
    ),
    Case(
        "file-path-climbs",
        LINT,
        "leaves the working directory",
        with_template("x", file={"path": "../../../escaped.txt", "template": "t.j2"}),
        SPEC,
        "path:",
    ),
    Case(
        "file-path-empty",
        LINT,
        "leaves the working directory",
        with_template("x", file={"path": "", "template": "t.j2"}),
        SPEC,
        "path:",
    ),
    Case(
        "file-path-climbs-in-check",
        CHECK,
        "leaves the working directory",
        with_template("x", file={"path": "../../escaped.txt", "template": "t.j2"}),
        SPEC,
        "path:",
    ),
    Case("param-climbs-in-new", (*NEW, "--set", "name=../../escaped"), "leaves", with_param()),
    Case("param-absolute-in-new", (*NEW, "--set", "name={tmp}/escaped"), "leaves", with_param()),
    Case("param-climbs-in-check", CHECK, "leaves", with_param(default="../../escaped"), SPEC, "path:"),
    Case(
        "template-name-climbs",
        LINT,
        "is not under templates/",
        {
            SPEC: spec(
                [{"id": "f", "title": "W", "file": {"path": "o", "template": "../../../../etc/passwd"}}]
            )
        },
        SPEC,
    ),
    Case(
        "template-links-to-passwd",
        LINT,
        "links outside the golden paths (/etc/passwd)",
        with_template(""),
        "gp/g/templates/passwd.j2",
        links={"gp/g/templates/passwd.j2": "/etc/passwd"},
    ),
    Case(
        "templates-folder-links-to-etc",
        LINT,
        "template folder links outside the golden paths (/etc)",
        {SPEC: spec([RUN])},
        "gp/g/templates",
        links={"gp/g/templates": "/etc"},
    ),
    Case(
        "template-link-escapes-in-new",
        NEW,
        "links outside the golden paths",
        with_template(""),
        links={"gp/g/templates/passwd.j2": "/etc/passwd"},
    ),
    Case("new-onto-a-file", NEW, "is a file", {**with_param(), "dest": "I was here first\n"}),
    Case(
        "new-through-a-link",
        NEW,
        "outside",
        with_param(default="sub/x"),
        links={"dest/sub": "{tmp}/outside"},
        dirs=("outside",),
    ),
]

COMMAND_LINE = [
    Case("set-unknown-parameter", (*NEW, "--set", "nmae=x"), "did you mean 'name'", with_param()),
    Case("set-without-value", (*NEW, "--set", "name"), "expected key=value", with_param()),
    Case(
        "set-wrong-type",
        (*NEW, "--set", "port=eighty"),
        "must be",
        with_param(name="port", type="port", default=8080),
    ),
    Case(
        "new-unknown-guide",
        ("new", "--golden-paths", "gp", "nope", "dest"),
        "no guide named 'nope'",
        {SPEC: spec([RUN])},
    ),
    Case("check-unknown-guide", (*CHECK, "nope"), "no guide named 'nope'", {SPEC: spec([RUN])}),
    Case("check-unknown-sandbox", (*CHECK, "--sandbox", "nope"), "nope", {SPEC: spec([RUN])}),
    Case("check-jobs-zero", (*CHECK, "--jobs", "0"), "--jobs", {SPEC: spec([RUN])}),
    Case(
        "check-junit-is-a-folder",
        (*CHECK, "--junit", "reports"),
        "cannot write reports: it is a folder",
        {SPEC: spec([RUN])},
        dirs=("reports",),
    ),
    Case(
        "check-junit-under-a-file",
        (*CHECK, "--junit", "spec-file/junit.xml"),
        "is not a folder",
        {SPEC: spec([RUN]), "spec-file": "x"},
    ),
    Case(
        "golden-paths-missing",
        ("lint", "--golden-paths", "nowhere"),
        "golden-paths directory not found",
        {},
        "nowhere",
    ),
    Case(
        "pyproject-invalid-toml",
        LINT,
        "invalid TOML",
        {SPEC: spec([RUN]), "pyproject.toml": "[tool.goldenpath\n"},
        "pyproject.toml",
    ),
    Case(
        "pyproject-unknown-setting",
        LINT,
        "did you mean 'sandbox'",
        {SPEC: spec([RUN]), "pyproject.toml": "[tool.goldenpath]\nsandbx = 'local'\n"},
        "pyproject.toml",
    ),
    Case(
        "status-unknown-state",
        ("status", "--golden-paths", "gp", "--fail-on", "broken,nope"),
        "nope",
        {SPEC: spec([RUN])},
    ),
    Case(
        "secret-not-exported",
        CHECK,
        "GOLDENPATH_SECRET_TOKEN",
        {SPEC: spec([RUN], parameters=[{"name": "token", "description": "A token.", "secret": True}])},
    ),
    Case(
        "sandbox-command-on-local",
        ("sandbox", "status", "--sandbox", "local"),
        "invalid choice: 'local'",
        {},
    ),
]

SANDBOX = [
    Case(
        "history-is-a-file",
        CHECK,
        "cannot write the run history",
        {SPEC: spec([RUN]), ".goldenpath": "not a folder"},
        exit=3,
    ),
    Case(
        "history-setting-is-a-folder",
        CHECK,
        "it is a folder",
        {SPEC: spec([RUN]), "pyproject.toml": "[tool.goldenpath]\nhistory = 'hist'\n"},
        dirs=("hist",),
        exit=3,
    ),
    Case(
        "cluster-unreachable",
        (*CHECK, "--sandbox", "kubernetes"),
        "cluster",
        {SPEC: spec([{**RUN, "requires": ["cluster"]}]), "kubeconfig": UNREACHABLE},
        env={"KUBECONFIG": "{tmp}/kubeconfig"},
        exit=3,
    ),
    Case(
        "tool-missing",
        CHECK,
        "not installed",
        {SPEC: spec([{"id": "s", "title": "S", "run": "no-such-tool-here --version"}])},
        exit=3,
    ),
]

CASES: list[Case] = DECODING + NUMBERS + PATTERNS + TEMPLATES + CONFINEMENT + COMMAND_LINE + SANDBOX
