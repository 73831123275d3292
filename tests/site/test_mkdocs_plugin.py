"""A real ``mkdocs build --strict`` with the plugin, from a small spec folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES

SITE_FIXTURES = FIXTURES / "site" / "golden_paths"

MKDOCS_YML = """\
site_name: Test site
theme:
  name: material
  features: [navigation.indexes, navigation.sections, content.code.copy]
markdown_extensions:
  - admonition
  - pymdownx.details
  - pymdownx.superfences
  - pymdownx.tabbed: {alternate_style: true}
  - pymdownx.highlight
  - attr_list
  - md_in_html
  - toc: {permalink: true}
plugins:
  - search
  - tags
  - goldenpath:
      golden_paths: specs
      repo_url: https://github.com/acme/platform-docs
validation:
  links:
    anchors: warn
"""


def build_file_tree(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


def mkdocs_build(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(SITE_FIXTURES, tmp_path / "specs")
    build_file_tree(
        tmp_path,
        {
            "mkdocs.yml": MKDOCS_YML,
            "docs/index.md": "# Home\n\n[Start here](getting-started/sample-service.md#step-call-it)\n",
            "docs/tags.md": "# Tags\n\n<!-- material/tags -->\n",
        },
    )
    return tmp_path


@pytest.mark.slow
def test_build_generates_guide_pages(project: Path) -> None:
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    site = project / "site"
    html = (site / "getting-started" / "sample-service" / "index.html").read_text(encoding="utf-8")
    for anchor in ("step-create-service", "step-call-it", "step-manifests", "step-remove-files"):
        assert f'id="{anchor}"' in html
    assert 'id="step-check-log"' not in html  # hidden
    assert '<span class="filename">sample/deploy.yaml</span>' in html
    assert "Deployment" in html
    assert 'class="tabbed-set' in html
    assert "https://github.com/acme/platform-docs/issues/new?title=" in html
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Getting started" in home and "How-to guides" in home
    assert (site / "how-to" / "sample-task" / "index.html").is_file()
    assert (site / "reference" / "golden-path.schema.json").is_file()
    assert (site / "reference" / "spec" / "index.html").is_file()
    assert not (project / "docs" / "getting-started").exists()  # never written into docs/
    tags = (site / "tags" / "index.html").read_text(encoding="utf-8")
    assert "kubernetes" in tags


@pytest.mark.slow
def test_bad_spec_fails_with_file_and_line(project: Path) -> None:
    spec = project / "specs" / "sample-task" / "guide.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("  stage: test\n", "  stage: test\n  colour: red\n"), encoding="utf-8")
    line = text.splitlines().index("  stage: test") + 2
    result = mkdocs_build(project)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"specs/sample-task/guide.yaml:{line}: metadata.colour: unknown key 'colour'" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_a_template_linked_outside_is_never_published(project: Path) -> None:
    templates = project / "specs" / "sample-service" / "templates"
    victim = next(p for p in sorted(templates.iterdir()) if p.is_file())
    victim.unlink()
    secret = project / "outside-secret.txt"
    secret.write_text("root:x:0:0:do-not-publish-me\n", encoding="utf-8")
    victim.symlink_to(secret)
    result = mkdocs_build(project)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"{victim.name}: the template links outside the golden paths ({secret})" in output
    assert "Traceback" not in output
    site = project / "site"
    published = [p for p in site.rglob("*") if p.is_file()] if site.exists() else []
    assert not any("do-not-publish-me" in p.read_text(errors="replace") for p in published)
