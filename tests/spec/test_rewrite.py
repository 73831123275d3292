"""Rewriting one scalar of a guide in place: the value loads back, every other byte stays."""

from __future__ import annotations

import copy
import difflib
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldenpath.spec.rewrite import RewriteError, replace_scalar
from helpers import REPO

DOC = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
# A comment above the metadata.
metadata:
  id: demo
  title: Demo guide  # a trailing comment
  summary: >-
    A folded summary
    over two lines.
  owner: "@acme/platform"
  tags: [python, 'demo']
spec:
  steps:
    # The first step.
    - id: hello
      run: echo hello
      expect:
        # Inside the parent mapping.
        output: |  # a comment
          hello
          world

    # After the block, at a lower indentation.
    - id: quiet
      run: "true"
      expect: {nothing: true}
    - id: flow
      run: printf 'a\\n'
      expect: {output: "a\\n"}
    - id: plain
      run: echo hi
      expect:
        output: hi
        # A comment after the plain value.
    - id: quoted
      expect:
        output: 'it''s'   # quoted
  cleanup:
    - id: bye
      run: echo bye
      expect:
        output: |-
          bye


# A comment at column 0 after blank lines.
"""

# Each path of DOC with where the unchanged rest of the document starts.
PATHS = {
    "spec.steps[0].expect.output": "\n    # After the block",
    "spec.steps[2].expect.output": "}\n    - id: plain",
    "spec.steps[3].expect.output": "        # A comment after the plain value.",
    "spec.steps[4].expect.output": "  cleanup:",
    "spec.cleanup[0].expect.output": "\n\n# A comment at column 0",
    "metadata.title": "  summary: >-",
    "metadata.summary": '  owner: "@acme/platform"',
    "metadata.tags[1]": "]\nspec:",
}

VALUES = [
    "one line\n",
    "no trailing newline",
    "two\nlines\n",
    "  leading spaces\nnext\n",
    "\n\nleading empty lines\n",
    "inner\n\nempty line\n",
    "...\n---\n",
    "unicode: é ß 漢字 😀\n",
    "a # not a comment\n",
    "key: value\n",
    "'single' and \"double\" quotes, a \\ backslash\n",
    "{{ service_name }} {% if x %}y{% endif %}\n",
    "- item\n[flow] {x: 1}\n|\n> folded?\n",
    "tab\there\n",
    "kept\n\n\n",
    "\n",
    "",
    "control \x07 and line\u2028separator\n",
]

# End marks of block scalars: (document, path, where its unchanged rest starts).
ENDINGS = [
    ("a:\n  b: |\n    x", "a.b", ""),
    ("a:\n  b: |\n    x\n\n\n", "a.b", "\n\n"),
    ("a:\n  b: |+\n    x\n\n  c: 1\n", "a.b", "\n  c: 1\n"),
    ("a:\n  b: |\n    x\n  # c\n  c: 1\n", "a.b", "  # c\n  c: 1\n"),
    ("a:\n  b: |\n    x\n  \n    \n  c: 1\n", "a.b", "  \n    \n  c: 1\n"),
    ("a:\n  b: |2\n      x\n    y\n\nc: 1\n", "a.b", "\nc: 1\n"),
    ("a:\n  b: >+\n    x\n\n# end\n", "a.b", "\n# end\n"),
    ("a:\n  b: |\n  c: 1\n", "a.b", "  c: 1\n"),
    ("a:\n  - |\n    x\n\n  - y\n", "a[0]", "\n  - y\n"),
    ("a:\n- - x\n  - |-\n    y\n\n# c\n", "a[0][1]", "\n# c\n"),
]

SCALE = REPO / "golden_paths" / "scale-a-service" / "guide.yaml"


def _steps(path: str) -> list[str | int]:
    return [int(i) if i else k for k, i in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path)]


def _get(data: Any, path: str) -> Any:
    for step in _steps(path):
        data = data[step]
    return data


def _patched(text: str, path: str, value: str) -> Any:
    data = copy.deepcopy(yaml.safe_load(text))
    *parents, last = _steps(path)
    target = data
    for step in parents:
        target = target[step]
    target[last] = value
    return data


def _node(text: str, path: str) -> yaml.Node:
    node: Any = yaml.compose(text, Loader=yaml.SafeLoader)
    for step in _steps(path):
        node = dict((k.value, v) for k, v in node.value)[step] if isinstance(step, str) else node.value[step]
    assert isinstance(node, yaml.Node)
    return node


def _check(old: str, path: str, value: str, rest: str) -> str:
    """Rewrite, then check the value, the other values, and the bytes before and after."""
    new = replace_scalar(old, path, value)
    assert _get(yaml.safe_load(new), path) == value
    assert yaml.safe_load(new) == _patched(old, path, value)
    start = _node(old, path).start_mark.index
    assert new[:start] == old[:start]
    assert new.endswith(rest)
    assert len(new) >= start + len(rest)
    return new


def _output_paths(text: str) -> list[str]:
    spec = yaml.safe_load(text)["spec"]
    return [
        f"spec.{part}[{i}].expect.output"
        for part in ("steps", "cleanup")
        for i, step in enumerate(spec.get(part, []))
        if "output" in (step.get("expect") or {})
    ]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("path", PATHS)
def test_value_loads_back_and_the_rest_is_unchanged(path: str, value: str) -> None:
    _check(DOC, path, value, DOC[DOC.index(PATHS[path]) :])


@pytest.mark.parametrize("value", ["new\n", "new", "  indented\n", "kept\n\n"])
@pytest.mark.parametrize(("doc", "path", "rest"), ENDINGS)
def test_lines_after_a_block_scalar_stay_as_they_were(doc: str, path: str, rest: str, value: str) -> None:
    _check(doc, path, value, rest)


def test_writes_a_literal_block_in_block_context() -> None:
    new = replace_scalar(DOC, "spec.steps[0].expect.output", "line one\n\nline three\n")
    assert "        output: |  # a comment\n          line one\n\n          line three\n\n" in new
    new = replace_scalar(DOC, "spec.steps[3].expect.output", "  a\nb")
    assert "        output: |2-\n            a\n          b\n        # A comment" in new
    new = replace_scalar(DOC, "spec.steps[4].expect.output", "x\n")
    assert "        output: |   # quoted\n          x\n  cleanup:" in new


def test_writes_a_double_quoted_scalar_in_flow_context() -> None:
    new = replace_scalar(DOC, "spec.steps[2].expect.output", 'say "hi"\\\n\tdone\n')
    assert '      expect: {output: "say \\"hi\\"\\\\\\n\\tdone\\n"}\n' in new


@pytest.mark.parametrize("value", ["x\n", "x", "x\n\n"])
def test_the_header_comment_of_a_block_scalar_is_kept(value: str) -> None:
    doc = "a:\n  b: |-  # keep me\n    old\n  c: 1\n"
    new = replace_scalar(doc, "a.b", value)
    assert new.split("\n")[1].endswith("  # keep me")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("spec.steps[9].expect.output", "not found"),
        ("spec.steps[0].expect.nope", "not found"),
        ("metadata.title.more", "not found"),
        ("metadata.tags[0][1]", "not found"),
        ("spec.steps", "not a scalar but a sequence"),
        ("spec.steps[1].expect", "not a scalar but a mapping"),
        ("spec..steps", "not a dotted path"),
    ],
)
def test_a_missing_or_non_scalar_path_is_an_error(path: str, message: str) -> None:
    with pytest.raises(RewriteError) as caught:
        replace_scalar(DOC, path, "x\n")
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_invalid_yaml_is_an_error() -> None:
    with pytest.raises(RewriteError, match=r"^a: the document is not valid YAML"):
        replace_scalar("a: [1,\n", "a", "x")


@pytest.mark.parametrize(
    "guide", sorted((REPO / "golden_paths").glob("*/guide.yaml")), ids=lambda p: p.parent.name
)
def test_writing_the_same_output_back_changes_nothing(guide: Path) -> None:
    text = guide.read_text(encoding="utf-8")
    paths = _output_paths(text)
    assert paths
    for path in paths:
        assert replace_scalar(text, path, _get(yaml.safe_load(text), path)) == text


@pytest.mark.parametrize("path", _output_paths(SCALE.read_text(encoding="utf-8")))
def test_accepting_a_step_of_a_shipped_guide_changes_only_its_block(tmp_path: Path, path: str) -> None:
    guide = Path(shutil.copy(SCALE, tmp_path / "guide.yaml"))
    old = guide.read_text(encoding="utf-8")
    value = "NAME   READY\n  indented line\n\nhello-<hash>   3/3\n"
    guide.write_text(replace_scalar(old, path, value), encoding="utf-8")
    new = guide.read_text(encoding="utf-8")
    assert yaml.safe_load(new) == _patched(old, path, value)

    old_lines, new_lines = old.splitlines(), new.splitlines()
    first = _node(old, path).start_mark.line  # the line of ``output: |``
    column = len(old_lines[first]) - len(old_lines[first].lstrip())
    last = first
    for number in range(first + 1, len(old_lines)):
        line = old_lines[number]
        if line.strip() and len(line) - len(line.lstrip()) <= column:
            break
        if line.strip():
            last = number
    changes = [
        op for op in difflib.SequenceMatcher(None, old_lines, new_lines).get_opcodes() if op[0] != "equal"
    ]
    assert changes
    for _, i1, i2, _, _ in changes:
        assert first <= i1 and i2 <= last + 1, (path, old_lines[i1:i2])
