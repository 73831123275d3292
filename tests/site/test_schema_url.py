"""The JSON Schema's ``$id`` is its address on the site, derived from ``site_url``, and it is there.

Built for real (``goldenpath build``) from a copy of the project outside the repository with a
``site_url`` in its own ``pyproject.toml`` (see :mod:`project_copy`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from goldenpath.site.reference import SCHEMA_NOTE_TOKEN, SCHEMA_URL_TOKEN, schema_tokens
from goldenpath.spec.schema import SCHEMA_PATH, json_schema, schema_url
from project_copy import GUIDES, copy_project, goldenpath

SITE_URL = "https://docs.acme.dev/golden-paths/"
EDITOR_PAGE = Path("platform-teams") / "writing-golden-paths" / "index.html"


def test_schema_url_is_the_site_url_plus_the_published_path() -> None:
    assert (
        schema_url("https://docs.acme.dev/gp/")
        == "https://docs.acme.dev/gp/reference/golden-path.schema.json"
    )
    assert schema_url("https://docs.acme.dev") == "https://docs.acme.dev/reference/golden-path.schema.json"
    assert schema_url("") == SCHEMA_PATH == "reference/golden-path.schema.json"
    assert json_schema("https://docs.acme.dev")["$id"] == schema_url("https://docs.acme.dev")
    assert json_schema()["$id"] == "golden-path.schema.json"  # relative: wherever it is read from


def test_the_tokens_of_a_page_are_filled_in_and_other_text_is_left_alone() -> None:
    page = f"# x\n\n$schema={SCHEMA_URL_TOKEN}\n\n{SCHEMA_NOTE_TOKEN}\n\n{{{{ greeting }}}}\n"
    with_url = schema_tokens(page, "https://docs.acme.dev")
    assert "$schema=https://docs.acme.dev/reference/golden-path.schema.json" in with_url
    assert "goldenpath." not in with_url and "{{ greeting }}" in with_url
    without = schema_tokens(page, "")
    assert f"$schema={SCHEMA_PATH}\n" in without and '!!! warning "No site_url is configured"' in without
    assert schema_tokens("no tokens {{ x }}", "") == "no tokens {{ x }}"


@pytest.mark.slow
def test_the_site_publishes_the_schema_where_its_id_points(tmp_path: Path) -> None:
    project = tmp_path / "project"
    copy_project(project, site_url=SITE_URL)
    built = goldenpath(project, "build", "--golden-paths", GUIDES, "--site-dir", tmp_path / "site")
    assert built.returncode == 0, built.stderr
    printed = goldenpath(project, "schema", "--golden-paths", GUIDES)
    assert printed.returncode == 0, printed.stderr
    schema = json.loads(printed.stdout)

    assert schema["$id"] == SITE_URL.rstrip("/") + "/reference/golden-path.schema.json"
    path = schema["$id"].removeprefix(SITE_URL)
    published = tmp_path / "site" / path
    assert published.is_file(), f"nothing at {path}, where $id points"
    assert published.read_text(encoding="utf-8") == printed.stdout  # the same file
    assert "hello-world" in schema["$defs"]["NextStep"]["properties"]["guide"]["examples"]

    page = html.unescape((tmp_path / "site" / EDITOR_PAGE).read_text(encoding="utf-8"))
    assert f"$schema={schema['$id']}" in page
    assert "docs.example.com" not in page and "goldenpath.schema_url" not in page
    assert "No site_url is configured" not in page


@pytest.mark.slow
def test_without_a_site_url_the_schema_and_the_docs_say_so(tmp_path: Path) -> None:
    project = tmp_path / "project"
    copy_project(project)
    built = goldenpath(project, "build", "--golden-paths", GUIDES, "--site-dir", tmp_path / "site")
    assert built.returncode == 0, built.stderr
    printed = goldenpath(project, "schema", "--golden-paths", GUIDES)
    assert printed.returncode == 0 and "no site_url in [tool.goldenpath]" in printed.stderr
    schema = json.loads(printed.stdout)
    assert schema["$id"] == "golden-path.schema.json"
    assert (tmp_path / "site" / SCHEMA_PATH).read_text(encoding="utf-8") == printed.stdout
    page = html.unescape((tmp_path / "site" / EDITOR_PAGE).read_text(encoding="utf-8"))
    assert f"$schema={SCHEMA_PATH}" in page and "No site_url is configured" in page
    assert "goldenpath.schema_url" not in page
