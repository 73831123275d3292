"""``goldenpath import`` on Markdown how-tos written for these tests, in the shapes real pages
take: front matter, prompts, output blocks, titled files, admonitions, tabs, a background server,
a placeholder, Hugo shortcodes and snippets. Each imports to a guide that lints, and after
``check --accept`` on the right sandbox passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from goldenpath.sandbox import kwok

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")
HOWTOS = Path(__file__).resolve().parents[1] / "fixtures" / "howtos"


def gp(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOLDENPATH, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def imported(tmp_path: Path, name: str) -> tuple[subprocess.CompletedProcess[str], Path, dict]:  # type: ignore[type-arg]
    page = tmp_path / f"{name}.md"
    shutil.copy(HOWTOS / f"{name}.md", page)
    done = gp(tmp_path, "import", str(page), "--golden-paths", "gp")
    spec = tmp_path / "gp" / name / "guide.yaml"
    return done, spec, yaml.safe_load(spec.read_text()) if spec.exists() else {}


def steps_of(document: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {s["id"]: s for s in document["spec"]["steps"] + document["spec"].get("cleanup", [])}


def test_a_page_with_prompts_files_tabs_a_server_and_a_placeholder(tmp_path: Path) -> None:
    done, spec, document = imported(tmp_path, "serve-a-folder")
    assert done.returncode == 0, done.stdout + done.stderr
    page = tmp_path / "serve-a-folder.md"
    assert f"{page}:1: front matter keys not mapped: author" in done.stdout
    assert f"{page}:29: step 'start-the-server': keeps running: marked background" in done.stdout
    meta = document["metadata"]
    assert meta["title"] == "Share a folder over HTTP" and meta["summary"].startswith("Python's standard")
    steps = steps_of(document)
    assert steps["write-the-page"]["file"] == {"path": "public/index.html", "template": "index.html.j2"}
    template = (spec.parent / "templates" / "index.html.j2").read_text()
    assert template.startswith("{% raw %}") and "{{ build }}" in template  # shown as written
    server = steps["start-the-server"]
    assert server["run"] == "python3 -m http.server 8731 --bind 127.0.0.1 --directory public"  # no prompt
    assert server["background"] is True and server["ready"] == {"port": 8731, "timeout": 30}
    assert "**Pick a port:**" in server["explain"]  # the admonition, as text
    fetch = steps["fetch-the-page"]
    assert [v["label"] for v in fetch["variants"]] == ["curl", "Python"]
    assert fetch["expect"]["output"] == "<h1>Reports</h1>\n"
    assert steps["sign-it"]["run"] == 'echo "served by {{ your_name }}"'
    assert document["spec"]["parameters"][0]["name"] == "your_name"
    assert document["spec"]["prerequisites"] == [{"text": "You need Python 3 and `curl`."}]
    assert document["spec"]["nextSteps"][0]["url"].startswith("https://docs.python.org/")
    assert list(steps)[-1] == "clean-up" and steps["clean-up"] in document["spec"]["cleanup"]

    assert gp(tmp_path, "lint", "--golden-paths", "gp").returncode == 0
    assert gp(tmp_path, "check", "--golden-paths", "gp").returncode == 1  # the page's sample is stale
    accepted = gp(tmp_path, "check", "--accept", "--golden-paths", "gp")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "served by {{ your_name }}" in spec.read_text()
    assert gp(tmp_path, "check", "--golden-paths", "gp").returncode == 0


def test_a_hugo_page_with_shortcodes_lists_sessions_and_an_editor(tmp_path: Path) -> None:
    done, spec, document = imported(tmp_path, "hugo-task")
    assert done.returncode == 0, done.stdout + done.stderr
    page = tmp_path / "hugo-task.md"
    for line, said in [
        (7, "dropped 1 HTML comment(s)"),
        (13, "shortcode {{< include >}} (task-prereqs.md) dropped"),
        (58, "interactive, kept in the text, not run: vi todo.txt"),
        (62, "snippet 'shared/editor-tips.md' not included"),
        (66, "relative link not mapped: /docs/plain-text/"),
    ]:
        assert f"{page}:{line}: {said}" in done.stdout, (line, done.stdout)
    text = spec.read_text()
    assert "# - hugo-task.md:58: interactive" in text  # the notes stay with the guide
    body = text.split("\napiVersion:", 1)[1]  # below the notes
    assert "{{<" not in body and "{{%" not in body
    steps = steps_of(document)
    assert "keep notes as plain files" in document["metadata"]["summary"]
    # Fences inside a numbered list, each a step titled by the text before it.
    assert steps["make-the-folder"]["run"] == "mkdir -p notes && cd notes"
    assert steps["write-a-first-note"]["explain"] == "Write a first note:"
    assert steps["read-the-notes"]["expect"]["output"] == "5 todo.txt\n"  # stale, as pasted
    session = [s for s in steps.values() if s["run"].startswith(("grep", "ls"))]
    assert [(s["run"], s["expect"]["output"]) for s in session] == [
        ("grep -c milk todo.txt", "1\n"),
        ("ls", "todo.txt\n"),
    ]
    texts = [s.get(key, "") for s in steps.values() for key in ("explain", "after")]
    assert any("```bash\nvi todo.txt\n```" in t for t in texts)  # kept, not run

    assert gp(tmp_path, "lint", "--golden-paths", "gp").returncode == 0
    accepted = gp(tmp_path, "check", "--accept", "--golden-paths", "gp")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "2 todo.txt" in spec.read_text()
    assert gp(tmp_path, "check", "--golden-paths", "gp").returncode == 0


@pytest.mark.cluster
def test_a_kubectl_page_is_accepted_on_a_cluster(tmp_path: Path, kwok_cluster: kwok.Cluster) -> None:
    done, spec, document = imported(tmp_path, "configmap")
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(s.get("requires") == ["cluster"] for s in steps_of(document).values())
    env = {"KUBECONFIG": str(kwok_cluster.kubeconfig)}
    local = gp(tmp_path, "check", "--accept", "--golden-paths", "gp")
    assert local.returncode == 0 and "not run on the local sandbox, so not accepted" in local.stdout
    accepted = gp(tmp_path, "check", "--accept", "--sandbox", "kubernetes", "--golden-paths", "gp", env=env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "app-settings   2      <duration>" in spec.read_text()


def test_what_cannot_be_imported_leaves_nothing(tmp_path: Path) -> None:
    prose = tmp_path / "prose.md"
    prose.write_text("# Only words\n\nNothing to run here.\n")
    done = gp(tmp_path, "import", str(prose), "--golden-paths", "gp")
    assert done.returncode == 2 and f"{prose}: no shell code block found" in done.stderr
    assert not (tmp_path / "gp").exists() or not any((tmp_path / "gp").iterdir())

    imported(tmp_path, "configmap")
    again = gp(tmp_path, "import", str(tmp_path / "configmap.md"), "--golden-paths", "gp")
    assert again.returncode == 2 and "the guide folder exists already" in again.stderr
    bad_id = gp(
        tmp_path, "import", str(tmp_path / "configmap.md"), "--id", "Not An Id", "--golden-paths", "gp"
    )
    assert bad_id.returncode == 2 and "'Not An Id' is not a guide id" in bad_id.stderr
    missing = gp(tmp_path, "import", str(tmp_path / "nowhere.md"), "--golden-paths", "gp")
    assert missing.returncode == 2
    assert sorted(p.name for p in (tmp_path / "gp").iterdir()) == ["configmap"]  # no staging left


def test_a_manifest_from_the_web_and_a_hard_coded_password_are_reported(tmp_path: Path) -> None:
    page = tmp_path / "web.md"
    page.write_text(
        "# Install a tool\n\n## Install\n\n```bash\nkubectl apply -f https://example.com/tool.yaml\n```\n\n"
        "## Log in\n\n```bash\ntool login --password='Sup3r-s3cret!' --user admin\n```\n"
    )
    done = gp(tmp_path, "import", str(page), "--golden-paths", "gp")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "applies a manifest from the web: save it under templates/ with a file step" in done.stdout
    assert "a hard-coded password became the secret parameter 'password'" in done.stdout
    text = (tmp_path / "gp" / "web" / "guide.yaml").read_text()
    assert "Sup3r-s3cret!" not in text and "--password='{{ password }}'" in text


def test_the_worked_example_of_the_docs_imports_and_passes(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "platform-teams" / "writing-golden-paths.md"
    example = docs.read_text().split("````markdown\n", 1)[1].split("\n````", 1)[0]
    page = tmp_path / "share-a-folder.md"
    page.write_text(example + "\n")
    done = gp(tmp_path, "import", str(page), "--golden-paths", "gp")
    assert done.returncode == 0, done.stdout + done.stderr
    spec = tmp_path / "gp" / "share-a-folder" / "guide.yaml"
    assert (spec.parent / "templates" / "index.html.j2").is_file()
    steps = steps_of(yaml.safe_load(spec.read_text()))
    assert steps["start-the-server"]["background"] is True
    assert steps["fetch-the-page"]["expect"]["output"] == "<h1>Reports</h1>\n"
    accepted = gp(tmp_path, "check", "--accept", "--golden-paths", "gp")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_no_text_is_lost_between_headings(tmp_path: Path) -> None:
    page = tmp_path / "intro.md"
    page.write_text(
        "---\ndescription: Given by the front matter.\n---\n\n# Title\n\nAn intro paragraph.\n\n"
        "## A section\n\nIts words.\n\n### Its first part\n\nRun this:\n\n```bash\necho hi\n```\n"
    )
    done = gp(tmp_path, "import", str(page), "--golden-paths", "gp")
    assert done.returncode == 0, done.stdout + done.stderr
    document = yaml.safe_load((tmp_path / "gp" / "intro" / "guide.yaml").read_text())
    assert document["metadata"]["summary"] == "Given by the front matter."
    (step,) = document["spec"]["steps"]
    assert step["title"] == "Its first part"
    assert step["explain"] == "An intro paragraph.\n\n**A section**\n\nIts words.\n\nRun this:"
