"""The site built as Backstage TechDocs builds it: MkDocs with the ``techdocs-core`` plugin.

techdocs-core pins versions the project's .venv cannot hold, so ``scripts/install-techdocs`` keeps
a venv of its own (outside the clone, reused between runs). The slow tests build a copy of the
repository with it, so no ``site/`` is written into the checkout, and compare with the normal
build of the same copy.
"""

from __future__ import annotations

import datetime
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldenpath import config
from goldenpath.run.results import GuideResult, StepResult
from goldenpath.spec import loader
from goldenpath.status.history import History
from helpers import REPO

TECHDOCS_YML = "mkdocs.techdocs.yml"
INSTALL = REPO / "scripts" / "install-techdocs"
GUIDE = "hello-world"
GUIDE_PAGE = Path("getting-started") / GUIDE / "index.html"

# The top-level keys TechDocs keeps in an mkdocs.yml (@backstage/plugin-techdocs-node 2.3.0 removes
# every other one before it builds).
TECHDOCS_KEYS = {
    "site_name", "site_url", "site_description", "site_author", "repo_url", "repo_name", "edit_uri",
    "edit_uri_template", "docs_dir", "site_dir", "nav", "exclude_docs", "not_in_nav", "theme",
    "plugins", "markdown_extensions", "extra", "extra_css", "use_directory_urls", "strict",
    "dev_addr", "watch", "copyright", "remote_branch", "remote_name", "validation", "google_analytics",
}  # fmt: skip
# Top-level entries of the checkout that the site build does not read.
NOT_COPIED = {
    ".git", ".venv", ".sandbox", ".goldenpath", "site", "artifacts", "tests", "bench",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules",
}  # fmt: skip


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def entries(items: list[Any]) -> list[tuple[str, Any]]:
    """(name, configuration) of each entry of a ``plugins`` or ``markdown_extensions`` list."""
    found = []
    for item in items:
        if isinstance(item, str):
            found.append((item, None))
        else:
            ((name, options),) = item.items()
            found.append((name, options))
    return found


def test_techdocs_config_is_mkdocs_yml_with_techdocs_core() -> None:
    site, techdocs = load(REPO / "mkdocs.yml"), load(REPO / TECHDOCS_YML)
    assert set(techdocs) <= TECHDOCS_KEYS, "TechDocs would drop these keys"
    for key in (set(site) | set(techdocs)) - {"theme", "plugins", "markdown_extensions"}:
        assert techdocs.get(key) == site.get(key), f"{key} differs from mkdocs.yml"
    # techdocs-core empties the palette and brings its own search; the rest is mkdocs.yml's.
    assert {**techdocs["theme"], "palette": None} == {**site["theme"], "palette": None}
    assert entries(techdocs["plugins"]) == [
        ("techdocs-core", None) if name == "search" else (name, options)
        for name, options in entries(site["plugins"])
    ]
    extensions = dict(entries(techdocs["markdown_extensions"]))
    # Only what undoes techdocs-core's additions: line numbers and its list rules.
    assert extensions.pop("mdx_truly_sane_lists") == {"nested_indent": 4, "truly_sane": False}
    assert extensions["pymdownx.highlight"].pop("linenums") is False
    assert list(extensions.items()) == entries(site["markdown_extensions"])


def test_catalog_entity_points_techdocs_at_the_repository() -> None:
    entity = load(REPO / "catalog-info.yaml")
    assert (entity["apiVersion"], entity["kind"]) == ("backstage.io/v1alpha1", "Component")
    assert entity["metadata"]["annotations"]["backstage.io/techdocs-ref"] == "dir:."
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entity["metadata"]["name"])
    assert {"type", "lifecycle", "owner"} <= set(entity["spec"])


@pytest.fixture(scope="module")
def techdocs_mkdocs() -> Path:
    """The ``mkdocs`` of the TechDocs venv, set up (or only checked) by the project's script."""
    result = subprocess.run([str(INSTALL)], capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        pytest.fail(f"scripts/install-techdocs failed:\n{result.stdout}{result.stderr}", pytrace=False)
    return Path(result.stdout.strip().splitlines()[-1]) / "bin" / "mkdocs"


def mkdocs_build(mkdocs: list[str], root: Path, config_file: str, site_dir: str) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [*mkdocs, "build", "--strict", "-f", config_file, "-d", site_dir]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def record_broken_run(root: Path) -> tuple[str, str]:
    """A failed check of the guide in the copy's run history; (title, failed step's title)."""
    guide = loader.load_guides(root / "golden_paths", only=[GUIDE])[0]
    first, second = guide.spec.steps[:2]
    now = datetime.datetime.now(datetime.timezone.utc)
    History(config.load_settings(root).history_path).record(
        GuideResult(
            guide_id=GUIDE,
            outcome="failed",
            run_id="run-techdocs-test",
            started=now - datetime.timedelta(seconds=5),
            finished=now,
            sandbox="kwok",
            sandbox_versions={"kubernetes": "v1.33.13"},
            content_hash=loader.content_hash(guide),
            steps=(
                StepResult(step_id=first.id, title=first.title, number=1, section="steps", outcome="passed"),
                StepResult(
                    step_id=second.id,
                    title=second.title,
                    number=2,
                    section="steps",
                    outcome="failed",
                    message="exited with 7",
                    exit_code=7,
                ),
            ),
        )
    )
    return guide.metadata.title, second.title


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A copy of the repository with a run history, built once the normal way (``site-normal``)."""
    root = tmp_path_factory.mktemp("techdocs") / "repo"
    root.mkdir()
    for entry in REPO.iterdir():
        if entry.name in NOT_COPIED:
            continue
        if entry.is_dir():
            shutil.copytree(entry, root / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(entry, root / entry.name)
    title, failed_step = record_broken_run(root)
    mkdocs_build([sys.executable, "-m", "mkdocs"], root, "mkdocs.yml", "site-normal")
    return root, title, failed_step


def pages(site: Path) -> dict[str, str]:
    """Every page of a built site (its path -> HTML)."""
    return {str(p.relative_to(site)): p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.html"))}


def article(page: str) -> str:
    found = re.search(r"<article.*?</article>", page, re.S)
    assert found is not None
    return found.group(0)


def visible(page: str) -> tuple[str, list[str]]:
    """What a reader gets from a page's article: its text, whitespace squeezed, and its anchors."""
    body = article(page)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    return text, re.findall(r'\bid="([^"]+)"', body)


def assert_techdocs_site(site: Path, title: str) -> dict[str, str]:
    built = pages(site)
    guide = built[str(GUIDE_PAGE)]
    assert f">{html.escape(title, quote=False)}<" in guide
    # techdocs-core's marks: the metadata file Backstage reads, its footer navigation on every
    # page, MkDocs' own search instead of Material's.
    metadata = json.loads((site / "techdocs_metadata.json").read_text())
    assert metadata["site_name"] == "Golden paths"
    missing = [uri for uri, page in built.items() if uri != "404.html" and 'aria-label="Footer"' not in page]
    assert not missing, f"no techdocs-core footer navigation on {missing}"
    assert (site / "search" / "worker.js").is_file()
    return built


@pytest.mark.slow
def test_techdocs_config_builds_the_same_site_with_techdocs_core(
    techdocs_mkdocs: Path, project: tuple[Path, str, str]
) -> None:
    root, title, failed_step = project
    mkdocs_build([str(techdocs_mkdocs)], root, TECHDOCS_YML, "site")
    normal = pages(root / "site-normal")
    built = assert_techdocs_site(root / "site", title)
    assert 'aria-label="Footer"' not in normal[str(GUIDE_PAGE)]  # the mark is techdocs-core's
    assert not (root / "site-normal" / "techdocs_metadata.json").exists()

    # The same pages, each with the same text and anchors; the status page differs by its time.
    assert sorted(built) == sorted(normal)
    for uri in normal:
        if uri != "404.html" and not uri.startswith("status/"):
            assert visible(built[uri]) == visible(normal[uri]), uri
    assert 'class="linenodiv"' not in built[str(GUIDE_PAGE)]  # no line numbers, as in mkdocs.yml

    # The statuses come from the run history, as in the normal build.
    guide = built[str(GUIDE_PAGE)]
    assert '<div class="goldenpath-status goldenpath-status--broken">' in guide
    assert f"at step 2: {failed_step}" in html.unescape(guide)
    assert "md-status--broken" in built["index.html"]

    def statuses(site: str) -> list[tuple[str, str, str]]:
        report = json.loads((root / site / "status.json").read_text())
        return [(item["guide"], item["status"], item["reason"]) for item in report]

    assert statuses("site") == statuses("site-normal")
    assert (GUIDE, "broken") in {(guide_id, status) for guide_id, status, _ in statuses("site")}


@pytest.mark.slow
def test_mkdocs_yml_builds_as_the_techdocs_builder_patches_it(
    techdocs_mkdocs: Path, project: tuple[Path, str, str], tmp_path: Path
) -> None:
    # A Backstage builder reads mkdocs.yml itself and appends techdocs-core to its plugins.
    root, title, _ = project
    site = load(root / "mkdocs.yml")
    site["plugins"].append("techdocs-core")
    (root / "mkdocs.builder.yml").write_text(yaml.safe_dump(site, sort_keys=False), encoding="utf-8")
    mkdocs_build([str(techdocs_mkdocs)], root, "mkdocs.builder.yml", str(tmp_path / "site"))
    built = assert_techdocs_site(tmp_path / "site", title)
    assert sorted(built) == sorted(pages(root / "site-normal"))
