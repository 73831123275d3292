"""Site build time with the goldenpath plugin against a plain MkDocs Material build of the same pages.

For sites of 50, 200 and 1,000 generated guides (each with a few steps, a file template and a
Deployment manifest) it makes two projects: one whose pages the plugin generates from the specs,
and a plain one holding the same pages (status banners, indexes, reference, status page and the
page metadata as front matter) written out as Markdown by the plugin of this tree beforehand,
with the same navigation (the plugin's nav, grouped for large sections, as an explicit ``nav:``)
and the theme features of the project's ``mkdocs.yml`` (``navigation.prune`` among them).
Then, as whole processes (``mkdocs build --strict``) in interleaved rounds:

- plain: the plain MkDocs Material build;
- plugin cold: a fresh process without the plugin's cache (``.goldenpath/cache`` removed);
- plugin warm: the next build, with the cache the cold one left (as repeated builds and
  ``mkdocs serve`` reloads run).

Prints min and median seconds, the plugin/plain ratios and the growth of each build from the
second-largest size to the largest (200 -> 1,000 guides). Goals at every size (min/min):
plugin cold / plain <= 1.10, plugin warm / plain <= 1.05. ``--quick`` also leaves out the
untimed warm-up round.

    .venv/bin/python bench/bench_site_build.py [--sizes 50,200,1000] [--rounds 5] [--quick]
                                               [--check] [--json FILE] [--src DIR]
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import harness
import yaml
from mkdocs.commands.build import get_files
from mkdocs.config import load_config
from mkdocs.structure.nav import Section, get_navigation
from mkdocs.structure.pages import Page as MkDocsPage

from goldenpath.site.mkdocs_plugin import GoldenPathPlugin
from goldenpath.site.page import Page

COLD_GOAL = 1.10
WARM_GOAL = 1.05


REPO = Path(__file__).resolve().parents[1]
FEATURES = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))["theme"]["features"]
"""The theme features of the project's own site (navigation.prune among them), for both builds."""


def site(plugin: str) -> str:
    return SITE.format(plugin=plugin, features="[" + ", ".join(FEATURES) + "]")


def plugin_nav(project: Path) -> list[Any]:
    """The nav the plugin gives the site (its grouped sections), as a ``nav:`` list, so the plain
    build renders the same navigation into every page."""
    config = load_config(str(project / "mkdocs.yml"))
    config.plugins.on_startup(command="build", dirty=False)
    config = config.plugins.on_config(config)
    files = config.plugins.on_files(get_files(config), config=config)
    nav = config.plugins.on_nav(get_navigation(files, config), config=config, files=files)

    def items(entries: list[Any]) -> list[Any]:
        found: list[Any] = []
        for entry in entries:
            if isinstance(entry, MkDocsPage):
                found.append(entry.file.src_uri)
            elif isinstance(entry, Section):
                found.append({entry.title: items(entry.children)})
        return found

    return items(nav.items)


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
  features: {features}
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

    # Its own pyproject.toml: the plugin's cache and (absent) run history are inside the project.
    with_plugin = harness.write_project(base / "with-plugin", golden_paths=str(specs))
    (with_plugin / "docs").mkdir(parents=True)
    (with_plugin / "mkdocs.yml").write_text(
        site(f"  - goldenpath:\n      golden_paths: {specs}\n"), encoding="utf-8"
    )
    (with_plugin / "docs" / "index.md").write_text(home, encoding="utf-8")
    (with_plugin / "docs" / "tags.md").write_text(tags, encoding="utf-8")

    config = load_config(str(with_plugin / "mkdocs.yml"))
    plugin = config.plugins["goldenpath"]
    assert isinstance(plugin, GoldenPathPlugin)
    config = plugin.on_config(config) or config  # adds the status styles and descriptions
    plain = base / "plain"
    docs = plain / "docs"
    docs.mkdir(parents=True)
    extra = yaml.safe_dump(
        {"extra": {"status": dict(config.extra["status"])}, "extra_css": list(config.extra_css)}
    )
    nav = yaml.safe_dump({"nav": plugin_nav(with_plugin)}, sort_keys=False, allow_unicode=True)
    (plain / "mkdocs.yml").write_text(site("") + extra + nav, encoding="utf-8")
    (docs / "index.md").write_text(home, encoding="utf-8")
    (docs / "tags.md").write_text(tags, encoding="utf-8")
    states: dict[str, str] = {}
    for uri, content in plugin.generated_files().items():
        generated = plugin.pages.get(uri)
        if generated is not None:  # the page metadata the plugin sets, as front matter
            states = states or {r.id: r.state for r in plugin.reports}
            status = states.get(generated.guide_id) if generated.guide_id else None
            content = front_matter(generated, status=status) + content
        (docs / uri).parent.mkdir(parents=True, exist_ok=True)
        (docs / uri).write_text(content, encoding="utf-8")
    return with_plugin, plain


def build_variants(with_plugin: Path, plain: Path, count: int, env: dict[str, str]) -> list[harness.Variant]:
    build = [harness.PYTHON, "-m", "mkdocs", "build", "--strict", "--quiet"]

    def no_cache() -> None:
        shutil.rmtree(with_plugin / ".goldenpath" / "cache", ignore_errors=True)

    return [
        harness.Variant(f"plain {count}", build, plain),
        harness.Variant(f"plugin cold {count}", build, with_plugin, env, before=no_cache),
        harness.Variant(f"plugin warm {count}", build, with_plugin, env),
    ]


def main() -> int:
    argparser = harness.parser(__doc__)
    argparser.add_argument("--sizes", help="comma-separated guide counts (default 50,200,1000)")
    args = harness.parse(argparser)
    sizes = [int(s) for s in (args.sizes or ("10,20" if args.quick else "50,200,1000")).split(",")]
    report = harness.Report("site_build", args)
    env = harness.goldenpath_env(args)
    print(
        f"sites of {', '.join(map(str, sizes))} guides, {args.rounds} rounds, {harness.describe_source(args)}"
    )
    tables = {}
    for count in sizes:
        with tempfile.TemporaryDirectory(prefix="goldenpath-bench-") as tmp:
            with_plugin, plain = make_projects(Path(tmp), count)
            variants = build_variants(with_plugin, plain, count, env)
            samples = harness.interleave(variants, args.rounds, warmup=not args.quick)
        table = report.summary(f"{count} guides", samples, baseline=f"plain {count}")
        tables[count] = table
        report.goal(
            f"plugin cold / plain at {count} (min)", table[f"plugin cold {count}"]["ratio_min"], COLD_GOAL
        )
        report.goal(
            f"plugin warm / plain at {count} (min)", table[f"plugin warm {count}"]["ratio_min"], WARM_GOAL
        )
    if len(sizes) > 1:  # by default 200 -> 1000
        small, large = sizes[-2], sizes[-1]
        title = f"growth {small} -> {large} guides"
        print(f"\n{title} (min/min; {large / small:g} is linear in the guides)")
        rows = []
        for build in ("plain", "plugin cold", "plugin warm"):
            growth = tables[large][f"{build} {large}"]["min"] / tables[small][f"{build} {small}"]["min"]
            rows.append((build, growth))
            report.figures.setdefault(title, {})[build] = growth
        harness.print_table(["build", f"{large} / {small}"], rows)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
