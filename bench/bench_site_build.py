"""Site build time with the goldenpath plugin vs. a plain MkDocs build of the same pages.

For N synthetic guides (each with a few steps, a file template and a Deployment manifest) this
builds the site twice: once with the plugin generating the pages from the specs, once without the
plugin from the same pages pre-rendered to Markdown in docs/. It prints the best of a few runs of
each and their ratio; the plugin's overhead should stay within 15% at N=200.

    .venv/bin/python bench/bench_site_build.py [N ...] [--runs R]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from mkdocs.config import load_config

from goldenpath.site.page import Page

TARGET_RATIO = 1.15


def front_matter(page: Page, status: str | None = None) -> str:
    """The metadata the plugin sets on a generated page, as YAML front matter of a plain page."""
    meta: dict[str, object] = {"title": page.title, "description": page.description}
    if page.tags:
        meta["tags"] = list(page.tags)
    if status:
        meta["status"] = status
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n"


SITE = """\
site_name: Bench
theme:
  name: material
  features: [content.code.copy, content.tabs.link, navigation.indexes, navigation.sections]
markdown_extensions:
  - admonition
  - pymdownx.details
  - pymdownx.superfences
  - pymdownx.tabbed: {{alternate_style: true}}
  - pymdownx.highlight
  - attr_list
  - md_in_html
  - tables
  - toc: {{permalink: true}}
plugins:
  - search
  - tags
{plugin}
"""

GUIDE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  id: {id}
  title: "Service {n}: build and deploy"
  summary: Create service {n}, run it and deploy it.
  owner: "@acme/team-{team}"
  stage: {stage}
  tags: [python, kubernetes, team-{team}]
spec:
  type: {type}
  estimatedMinutes: 10
  parameters:
    - name: service_name
      description: Name of the service.
      default: svc-{n}
      pattern: "^[a-z][a-z0-9-]{{1,30}}$"
    - name: replicas
      type: integer
      description: Number of pods.
      default: 2
  prerequisites:
    - text: Python 3.10 or newer.
      command: python3 --version
  steps:
    - id: create
      title: Create the service
      explain: The template gives you a small service.
      file: {{path: "{{{{ service_name }}}}/app.py", template: app.py.j2}}
    - id: test
      title: Test it
      run: python3 -m py_compile {{{{ service_name }}}}/app.py && echo compiled
      expect:
        output: |
          compiled
    - id: list
      title: List the files
      variants:
        - {{label: ls, run: "ls {{{{ service_name }}}}"}}
        - {{label: find, run: "find {{{{ service_name }}}} -type f"}}
    - id: deploy
      title: Generate the Deployment
      file: {{path: "{{{{ service_name }}}}/deploy.yaml", template: deploy.yaml.j2}}
    - id: verify
      title: Verify
      hidden: true
      run: test -f {{{{ service_name }}}}/deploy.yaml
  troubleshooting:
    - problem: py_compile fails
      fix: Check the Python version.
      step: test
  cleanup:
    - id: remove
      title: Remove the files
      run: rm -rf {{{{ service_name }}}}
  nextSteps:
    - guide: {next}
"""

APP = '''\
"""{{ service_name }}."""


def handler(request):
    return "hello from {{ service_name }}"
'''

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ service_name }}
spec:
  replicas: {{ replicas }}
  selector:
    matchLabels: {app: {{ service_name }}}
  template:
    metadata:
      labels: {app: {{ service_name }}}
    spec:
      containers:
        - name: app
          image: registry.example/{{ service_name }}:1.0
          ports: [{containerPort: 8080}]
"""


def write_guides(root: Path, count: int) -> None:
    stages = ["discover", "build", "test", "integrate", "verify"]
    for n in range(count):
        folder = root / f"service-{n}"
        (folder / "templates").mkdir(parents=True)
        (folder / "guide.yaml").write_text(
            GUIDE.format(
                id=f"service-{n}",
                n=n,
                team=n % 7,
                stage=stages[n % 5],
                type="getting-started" if n % 4 == 0 else "how-to",
                next=f"service-{(n + 1) % count}",
            ),
            encoding="utf-8",
        )
        (folder / "templates" / "app.py.j2").write_text(APP, encoding="utf-8")
        (folder / "templates" / "deploy.yaml.j2").write_text(DEPLOYMENT, encoding="utf-8")


def make_projects(base: Path, count: int) -> tuple[Path, Path]:
    """A project built with the plugin, and a plain one holding exactly what the plugin generates
    (pages with status banners, indexes, reference, status page) pre-rendered into docs/."""
    specs = base / "golden_paths"
    write_guides(specs, count)
    home = "# Bench\n\nGuides are in the sections.\n"
    tags = "# Tags\n\n<!-- material/tags -->\n"

    with_plugin = base / "with-plugin"
    (with_plugin / "docs").mkdir(parents=True)
    (with_plugin / "mkdocs.yml").write_text(
        SITE.format(plugin=f"  - goldenpath:\n      golden_paths: {specs}\n"), encoding="utf-8"
    )
    (with_plugin / "docs" / "index.md").write_text(home, encoding="utf-8")
    (with_plugin / "docs" / "tags.md").write_text(tags, encoding="utf-8")

    config = load_config(str(with_plugin / "mkdocs.yml"))
    plugin = config.plugins["goldenpath"]
    config = plugin.on_config(config) or config  # adds the status styles and descriptions
    plain = base / "plain"
    docs = plain / "docs"
    docs.mkdir(parents=True)
    extra = yaml.safe_dump(
        {"extra": {"status": dict(config.extra["status"])}, "extra_css": list(config.extra_css)}
    )
    (plain / "mkdocs.yml").write_text(SITE.format(plugin="") + extra, encoding="utf-8")
    (docs / "index.md").write_text(home, encoding="utf-8")
    (docs / "tags.md").write_text(tags, encoding="utf-8")
    states = {}
    for uri, content in plugin.generated_files().items():
        generated = plugin.pages.get(uri)
        if generated is not None:  # the page metadata the plugin sets, as front matter
            states = states or {r.id: r.state for r in plugin.reports}
            content = front_matter(generated, status=states.get(generated.guide_id)) + content
        (docs / uri).parent.mkdir(parents=True, exist_ok=True)
        (docs / uri).write_text(content, encoding="utf-8")
    return with_plugin, plain


def build_seconds(project: Path) -> float:
    """CPU seconds (user + system) of one ``mkdocs build``: steadier than wall time on a shared,
    noisy machine, and the build is single-threaded, so the two agree on a quiet one."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"mkdocs build failed in {project}:\n{result.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", type=int, default=[50, 200])
    parser.add_argument(
        "--runs",
        type=int,
        default=4,
        help="builds per variant; the first plugin build is cold, the best of the rest counts",
    )
    args = parser.parse_args()
    print("CPU seconds of each mkdocs build (best of the runs)")
    print(f"{'guides':>6}  {'cold s':>7}  {'plugin s':>9}  {'plain s':>8}  {'cold ratio':>10}  {'ratio':>6}")
    worst = 0.0
    for count in args.counts:
        with tempfile.TemporaryDirectory(prefix="goldenpath-bench-") as tmp:
            with_plugin, plain = make_projects(Path(tmp), count)
            # The first build compiles every template; later ones reuse the compiled templates
            # kept in .goldenpath/cache, as repeated builds and `mkdocs serve` reloads do.
            shutil.rmtree(with_plugin / ".goldenpath" / "cache", ignore_errors=True)
            plugin_times, plain_times = [], []
            for _ in range(args.runs):  # interleaved, so drift in machine load hits both
                plugin_times.append(build_seconds(with_plugin))
                plain_times.append(build_seconds(plain))
            cold, warm, base = plugin_times[0], min(plugin_times[1:] or plugin_times), min(plain_times)
            ratio = warm / base
            worst = max(worst, ratio) if count >= 200 else worst
            print(
                f"{count:>6}  {cold:>7.2f}  {warm:>9.2f}  {base:>8.2f}  {cold / base:>10.3f}  {ratio:>6.3f}"
            )
    print(f"target: ratio <= {TARGET_RATIO} at 200 guides")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
