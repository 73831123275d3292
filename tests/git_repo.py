"""A real git repository of golden paths in tmp_path, for affected/review/owners tests.

Three guides: ``alpha`` and ``beta`` share the partial ``golden_paths/_shared/partials/footer.j2``
(``alpha`` through a symlinked folder and ``{% include %}``, ``beta`` through a symlinked file
and ``{% extends %}``); ``gamma`` has its own text template and a Kubernetes manifest.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from helpers import build_file_tree

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ name }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: "{{ name }}"}
  template:
    metadata:
      labels: {app: "{{ name }}"}
    spec:
      containers:
        - name: app
          image: registry.example.com/{{ name }}:1.0.0
"""


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-gpg-sign", "-m", message)


def spec_text(guide_id: str, steps: list[dict[str, Any]], **extra: Any) -> str:
    document: dict[str, Any] = {
        "apiVersion": "goldenpath.dev/v1",
        "kind": "GoldenPath",
        "metadata": {
            "id": guide_id,
            "title": f"Guide {guide_id}",
            "summary": "A test guide.",
            "owner": extra.pop("owner", f"@acme/{guide_id}-team"),
            "stage": "build",
            "review": {"by": "alice", "date": datetime.date(2026, 11, 1)},
        },
        "spec": {
            "type": "how-to",
            "parameters": [{"name": "name", "description": "A name.", "default": guide_id}],
            "steps": steps,
            **extra,
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


def _file_step(template: str, path: str) -> list[dict[str, Any]]:
    return [
        {"id": "write", "title": "Write the file", "file": {"path": path, "template": template}},
        {"id": "show", "title": "Show it", "run": f"cat {path}", "expect": {"contains": ["{{ name }}"]}},
    ]


def make_repo(root: Path) -> Path:
    """Write the three guides, commit them on ``main``; return the repository."""
    build_file_tree(
        root,
        {
            "pyproject.toml": '[project]\nname = "docs"\nversion = "1"\n\n'
            '[tool.goldenpath]\ngolden_paths = "golden_paths"\n',
            "README.md": "# Docs\n",
            "tests/test_something.py": "def test_nothing():\n    pass\n",
            "golden_paths/_shared/partials/footer.j2": "-- made by {{ name }} --\n",
            "golden_paths/alpha/guide.yaml": spec_text("alpha", _file_step("app.txt.j2", "app.txt")),
            "golden_paths/alpha/templates/app.txt.j2": 'alpha says hello\n{% include "partials/footer.j2" %}',
            "golden_paths/beta/guide.yaml": spec_text("beta", _file_step("main.txt.j2", "main.txt")),
            "golden_paths/beta/templates/main.txt.j2": (
                '{% extends "layout.j2" %}{% block body %}beta body{% endblock %}\n'
            ),
            "golden_paths/beta/templates/base.j2": (
                '{% block body %}{% endblock %}\n{% include "footer.j2" %}'
            ),
            "golden_paths/gamma/guide.yaml": spec_text(
                "gamma",
                [
                    *_file_step("gamma.txt.j2", "gamma.txt"),
                    {
                        "id": "manifest",
                        "title": "Write the manifest",
                        "file": {"path": "deploy.yaml", "template": "deploy.yaml.j2"},
                    },
                ],
            ),
            "golden_paths/gamma/templates/gamma.txt.j2": "gamma {{ name }}\n",
            "golden_paths/gamma/templates/deploy.yaml.j2": MANIFEST,
        },
    )
    (root / "golden_paths/alpha/templates/partials").symlink_to("../../_shared/partials")
    (root / "golden_paths/beta/templates/layout.j2").symlink_to("base.j2")
    (root / "golden_paths/beta/templates/footer.j2").symlink_to("../../_shared/partials/footer.j2")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "guides")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, text)
    path.write_text(text.replace(old, new), encoding="utf-8")
