"""The Markdown page of a guide: golden file, commands byte for byte, template overrides."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from goldenpath.errors import UserError
from goldenpath.render.renderer import RenderedGuide, render_guide
from goldenpath.site import page
from goldenpath.site.markdown import fence
from goldenpath.spec import loader
from helpers import FIXTURES, GOLDEN

SITE_FIXTURES = FIXTURES / "site" / "golden_paths"
GOLDEN = GOLDEN
REPO_URL = "https://github.com/acme/platform-docs"

_FENCE = re.compile(r"^(?P<indent> *)(?P<ticks>`{3,})(?P<info>[^`\n]*)\n", re.MULTILINE)


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """(info string, content) of every fenced block, indentation of nested blocks removed."""
    blocks = []
    pos = 0
    while match := _FENCE.search(markdown, pos):
        indent, ticks = match["indent"], match["ticks"]
        close = re.compile(rf"^{indent}{ticks}`*[ \t]*$", re.MULTILINE)
        end = close.search(markdown, match.end())
        assert end is not None, f"unclosed fence at {match.start()}"
        lines = markdown[match.end() : end.start()].splitlines(keepends=True)
        content = "".join(line[len(indent) :] if line.startswith(indent) else line for line in lines)
        blocks.append((match["info"].strip(), content))
        pos = end.end()
    return blocks


@pytest.fixture(scope="module")
def rendered() -> dict[str, RenderedGuide]:
    guides = loader.load_guides(SITE_FIXTURES)
    return {g.id: render_guide(g) for g in guides}


@pytest.fixture(scope="module")
def pages(rendered: dict[str, RenderedGuide]) -> dict[str, page.Page]:
    return {p.src_uri: p for p in page.build_pages(list(rendered.values()), repo_url=REPO_URL)}


def test_page_matches_golden_file(pages: dict[str, page.Page]) -> None:
    markdown = pages["getting-started/sample-service.md"].markdown
    golden = GOLDEN / "sample-service.md"
    if os.environ.get("GOLDENPATH_UPDATE_GOLDEN") == "1":
        golden.write_text(markdown, encoding="utf-8")
    assert markdown == golden.read_text(encoding="utf-8"), (
        "page differs from tests/golden/sample-service.md; "
        "rerun with GOLDENPATH_UPDATE_GOLDEN=1 if the change is intended"
    )


def test_commands_on_page_are_the_rendered_commands(
    pages: dict[str, page.Page], rendered: dict[str, RenderedGuide]
) -> None:
    guide = rendered["sample-service"]
    blocks = fenced_blocks(pages["getting-started/sample-service.md"].markdown)
    bash = [content for info, content in blocks if info == "bash"]
    shown = [s for s in (*guide.steps, *guide.cleanup) if s.number is not None or s.section == "cleanup"]
    for step in shown:
        for command in step.commands:
            expected = command if command.endswith("\n") else command + "\n"
            assert expected in bash, f"step {step.id}: command not shown byte for byte"
    assert not any(content.startswith("$ ") for content in bash)


def test_hidden_steps_are_counted_not_shown(
    pages: dict[str, page.Page], rendered: dict[str, RenderedGuide]
) -> None:
    markdown = pages["getting-started/sample-service.md"].markdown
    hidden = [s for s in rendered["sample-service"].steps if s.number is None]
    assert len(hidden) == 1
    assert "#step-check-log" not in markdown
    assert "1 hidden verification step run by checks" in markdown


def test_fence_outgrows_backticks_in_content() -> None:
    block = fence("printf '```'\n", "bash")
    assert block.startswith("````bash\n") and block.endswith("\n````")
    assert fenced_blocks(block + "\n") == [("bash", "printf '```'\n")]


def test_page_meta_and_links(pages: dict[str, page.Page]) -> None:
    service = pages["getting-started/sample-service.md"]
    assert service.tags == ("build", "python", "kubernetes")
    assert service.title == "Sample service: from template to cluster"
    assert "[Sample task](../how-to/sample-task.md)" in service.markdown
    assert "(../getting-started/sample-service.md)" in pages["how-to/sample-task.md"].markdown
    assert "[Sample task](sample-task.md)" in pages["how-to/index.md"].markdown


def test_no_report_links_without_repo_url(rendered: dict[str, RenderedGuide]) -> None:
    built = page.build_pages(list(rendered.values()))
    assert all("issues/new" not in p.markdown for p in built)


def test_override_template_extends_the_built_in_one(
    tmp_path: Path, rendered: dict[str, RenderedGuide]
) -> None:
    (tmp_path / "page.md.j2").write_text(
        '{% extends "goldenpath/page.md.j2" %}\n'
        '{% block status %}\n!!! success "{{ status }}"\n\n{% endblock %}\n',
        encoding="utf-8",
    )
    built = page.build_pages(
        [rendered["sample-task"]], template_dir=tmp_path, statuses={"sample-task": "Verified"}
    )
    markdown = built[0].markdown
    assert '!!! success "Verified"\n\n!!! abstract "At a glance"' in markdown
    assert "## 1. Say hello { #step-say-hello }" in markdown


def test_broken_override_is_a_user_error(tmp_path: Path, rendered: dict[str, RenderedGuide]) -> None:
    (tmp_path / "page.md.j2").write_text("{% block x %}\n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        page.build_pages([rendered["sample-task"]], template_dir=tmp_path)
    assert "page.md.j2" in str(caught.value)
