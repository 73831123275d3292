"""What keeps a site of many guides fast: the nav grouped so Material prunes it, and the cache.

Real ``goldenpath build`` runs of a copy of the project outside the repository (see
:mod:`project_copy`); the group size is set low so the shipped guides make a "large" section.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from project_copy import GUIDES, copy_project, goldenpath

pytestmark = pytest.mark.slow


def build(project: Path, site: Path) -> None:
    result = goldenpath(project, "build", "--golden-paths", GUIDES, "--site-dir", site)
    assert result.returncode == 0, result.stderr


def nav_labels(page: str) -> list[str]:
    """The titles in the primary sidebar: sections, groups, pages (and the open page's headings)."""
    sidebar = page.split("md-sidebar--primary", 1)[1].split("md-sidebar--secondary", 1)[0]
    found = re.findall(r'<span class="md-ellipsis">\s*(.*?)\s*</span>', sidebar, re.S)
    return [html.unescape(label) for label in found]


def set_group_size(project: Path, size: int) -> None:
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert "  - goldenpath\n" in text
    config.write_text(
        text.replace("  - goldenpath\n", f"  - goldenpath:\n      nav_group_size: {size}\n"), encoding="utf-8"
    )


def test_a_large_section_is_grouped_by_stage_and_pruned(tmp_path: Path) -> None:
    project = tmp_path / "project"
    copy_project(project)
    set_group_size(project, 2)  # five how-to guides: test 1, integrate 3, verify 1
    build(project, tmp_path / "site")

    scale = (tmp_path / "site" / "how-to" / "scale-a-service" / "index.html").read_text(encoding="utf-8")
    labels = nav_labels(scale)
    groups = ["Test", "Integrate: C to R", "Integrate: S", "Verify"]
    assert [label for label in labels if label in groups] == groups  # stages in the model's order
    # Pruned: the open group's pages are linked, other groups' pages are not.
    assert "Scale your service" in labels
    assert "Roll back a deployment" not in labels and "Add an endpoint, test first" not in labels
    roll_back = (tmp_path / "site" / "how-to" / "roll-back-a-deployment" / "index.html").read_text()
    assert "Roll back a deployment" in nav_labels(roll_back)
    assert "Scale your service" not in nav_labels(roll_back)
    # The section's own page lists every guide, whatever the nav shows.
    index = html.unescape((tmp_path / "site" / "how-to" / "index.html").read_text(encoding="utf-8"))
    for title in ("Add an endpoint, test first", "Scale your service", "Roll back a deployment"):
        assert title in index


def test_a_small_section_keeps_its_flat_nav(tmp_path: Path) -> None:
    project = tmp_path / "project"
    copy_project(project)  # the default group size is far above five guides
    build(project, tmp_path / "site")
    page = (tmp_path / "site" / "how-to" / "scale-a-service" / "index.html").read_text(encoding="utf-8")
    labels = nav_labels(page)
    assert "Integrate" not in labels and "Test" not in labels
    assert {"Scale your service", "Roll back a deployment", "Add an endpoint, test first"} <= set(labels)


def test_the_cache_is_used_again_and_never_shows_a_stale_page(tmp_path: Path) -> None:
    project = tmp_path / "project"
    guides = copy_project(project)
    site = tmp_path / "site"
    build(project, site)
    cache = project / ".goldenpath" / "cache" / "site"
    stored = cache / "rendered.pickle"
    assert stored.is_file() and (cache / "pages" / "hello-world.pickle").is_file()
    first = stored.stat().st_mtime_ns

    build(project, site)  # nothing changed: the rendered guides are read, not written again
    assert stored.stat().st_mtime_ns == first

    spec = guides / "hello-world" / "guide.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("Hello world: your first service", "Hello, cached world"), encoding="utf-8")
    build(project, site)
    page = (site / "getting-started" / "hello-world" / "index.html").read_text(encoding="utf-8")
    assert "Hello, cached world" in page

    # A cache that cannot be read is ignored and written again.
    stored.write_bytes(b"not a pickle")
    (cache / "pages" / "hello-world.pickle").write_bytes(b"\x80\x05truncated")
    build(project, site)
    assert "Hello, cached world" in (site / "getting-started" / "hello-world" / "index.html").read_text()
    assert stored.read_bytes() != b"not a pickle"
