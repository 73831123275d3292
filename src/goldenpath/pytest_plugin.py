"""The pytest plugin: every golden path is one test that runs the guide end to end.

Collection: a ``*.suite.yaml`` file (``checks/golden_paths.suite.yaml``) collects every guide of a
golden-paths folder, and ``pytest golden_paths/`` (or a spec file) collects specs directly. Each
guide is one item whose node id names its spec file and guide id
(``golden_paths/hello-world/guide.yaml::hello-world``), so under ``pytest-xdist`` a guide stays
whole on one worker. ``--shard K/N`` deselects the guides of the other shards, split as
``goldenpath check --shard`` splits them (:mod:`goldenpath.status.shards`). The plugin only
collects and reports; each guide runs on the one check path, :mod:`goldenpath.check`.

Every pytest process here loads the plugin (each xdist worker too), so its import is light: the
spec model loads with the first YAML file collected, the check path with the first guide run.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from goldenpath import config as config_mod
from goldenpath.errors import Problem, SandboxError, UserError
from goldenpath.sandbox import collect_leftovers

if TYPE_CHECKING:
    from goldenpath.check import CheckRun
    from goldenpath.render.renderer import RenderedGuide
    from goldenpath.run.results import GuideResult
    from goldenpath.spec.model import Guide

SUITE_SUFFIX = ".suite.yaml"
SKIPS_SECTION = "goldenpath: skipped steps"
ANNOTATIONS_SECTION = "goldenpath: annotations"
_RESERVED_MARKERS = frozenset({"skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings"})

settings_key = pytest.StashKey[config_mod.Settings]()
check_run_key: pytest.StashKey[CheckRun] = pytest.StashKey()
seconds_key = pytest.StashKey[dict[str, float]]()
shard_line_key = pytest.StashKey[str]()
_SECONDS_INPUT = "goldenpath_shard_seconds"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("goldenpath", "golden-path checks")
    group.addoption(
        "--sandbox",
        default=None,
        choices=config_mod.SANDBOX_NAMES,
        help="where golden paths run (default: local, or [tool.goldenpath] sandbox)",
    )
    group.addoption(
        "--golden-paths",
        default=None,
        metavar="DIR",
        help="folder of golden paths (overrides *.suite.yaml and [tool.goldenpath])",
    )
    group.addoption(
        "--no-history", action="store_true", default=False, help="do not record guide runs in the run history"
    )
    group.addoption(
        "--accept",
        action="store_true",
        default=False,
        help='write the "you should see" blocks of steps whose output differs from the real run into '
        "the specs, then check those guides again",
    )
    group.addoption(
        "--shard",
        default=None,
        metavar="K/N",
        type=_shard_option,
        help="run only shard K of N of the guides (the others are deselected), balanced by the "
        "durations in the run history, as goldenpath check --shard",
    )


def _shard_option(text: str) -> tuple[int, int]:
    from goldenpath.status.shards import parse_shard  # with the run history: for --shard only

    try:
        return parse_shard(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "golden_path: a golden-path guide run end to end")
    if hasattr(config, "workerinput") or config.getoption("sandbox") is None:
        return  # xdist workers use the cluster of the main process
    for line in collect_leftovers(_settings(config)):  # of runs that were killed: said, then gone
        print(f"goldenpath: {line}", file=sys.stderr, flush=True)
    # Provision before xdist starts its workers, which inherit the cluster via the environment.
    # Only a sandbox with a local cluster has anything to provision (goldenpath.sandbox.provisioned):
    # for the others this process loads no check path, and a worker loads it for its first guide.
    if _settings(config).sandbox in config_mod.MANAGED_SANDBOXES:
        _check_run(config).provision()


def pytest_unconfigure(config: pytest.Config) -> None:
    check_run = config.stash.get(check_run_key, None)
    if check_run is not None:
        check_run.close()


def _settings(config: pytest.Config) -> config_mod.Settings:
    if settings_key not in config.stash:
        option = config.getoption("golden_paths")
        golden_paths = None
        if option:
            golden_paths = (config.invocation_params.dir / option).resolve()
        config.stash[settings_key] = config_mod.load_settings(
            config.rootpath, golden_paths=golden_paths, sandbox=config.getoption("sandbox")
        )
    return config.stash[settings_key]


def _check_run(config: pytest.Config) -> CheckRun:
    """One check run per test process: its sandbox, provisioned once; each worker records its own
    guides (the history is safe for concurrent writers)."""
    if check_run_key not in config.stash:
        from goldenpath.check import CheckRun  # the check path: with the first guide run

        history = not config.getoption("no_history")
        config.stash[check_run_key] = CheckRun(_settings(config), history=history)
    return config.stash[check_run_key]


def _recorded_seconds(config: pytest.Config) -> dict[str, float]:
    """The durations the split is balanced by, read once: xdist workers get the main process's
    (a worker reading the history after another recorded a guide would split differently)."""
    given = getattr(config, "workerinput", {}).get(_SECONDS_INPUT)
    if given is not None:
        return dict(given)
    if seconds_key not in config.stash:
        from goldenpath.status.history import History  # the run history: for --shard only
        from goldenpath.status.shards import recorded_seconds

        config.stash[seconds_key] = recorded_seconds(History(_settings(config).history_path))
    return config.stash[seconds_key]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, before a worker starts: hand it the durations of the split."""
    if node.config.getoption("shard") is not None:
        node.workerinput[_SECONDS_INPUT] = _recorded_seconds(node.config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--shard K/N``: deselect the guides of the other shards (other tests stay)."""
    shard = config.getoption("shard")
    if shard is None:
        return
    from goldenpath.status.shards import describe, shard_of  # see _recorded_seconds

    guides = [item.guide.id for item in items if isinstance(item, GuideItem)]
    chosen = set(shard_of(guides, _recorded_seconds(config), shard))
    kept = [i for i in items if not isinstance(i, GuideItem) or i.guide.id in chosen]
    deselected = [i for i in items if isinstance(i, GuideItem) and i.guide.id not in chosen]
    config.stash[shard_line_key] = describe(shard, sorted(chosen), len(set(guides)))
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    """``shard 1/2: 3 of 6 guides: a, b, c`` under the collection line."""
    return config.stash.get(shard_line_key, None)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(SUITE_SUFFIX):
        return SuiteFile.from_parent(parent, path=file_path)
    if file_path.suffix not in (".yaml", ".yml"):  # a spec is YAML: other files need no spec model
        return None
    from goldenpath.spec.model import SPEC_FILE  # the spec model: with the first YAML file

    if file_path.name == SPEC_FILE and _asked_for(parent.config, file_path):
        return GuideFile.from_parent(parent, path=file_path)
    return None


def _asked_for(config: pytest.Config, file_path: Path) -> bool:
    """A bare spec is collected when it, its guide folder or its golden-paths folder was named.

    ``pytest .`` does not run guides by accident; suites do that on purpose.
    """
    wanted = {file_path, file_path.parent, file_path.parent.parent}
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path in wanted:
            return True
    return False


def _file_nodeid(config: pytest.Config, path: Path) -> str:
    """A spec's node id names the spec file: relative to the rootdir, even outside it."""
    return Path(os.path.relpath(path, config.rootpath)).as_posix()


class CollectProblem(Exception):
    """A spec or suite that cannot be collected; shown as its problems, without a traceback."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class SuiteFile(pytest.File):
    """``checks/*.suite.yaml``: ``golden_paths: DIR`` (relative to the file); collects its guides."""

    def collect(self) -> Iterator[pytest.Collector]:
        from goldenpath.spec import loader  # the spec model: with the first suite or spec collected

        folder = self._folder()
        try:
            specs = loader.find_specs(folder)
        except UserError as exc:
            raise CollectProblem(exc.problems) from exc
        for path in specs:
            yield GuideFile.from_parent(self, path=path, nodeid=_file_nodeid(self.config, path))

    def _folder(self) -> Path:
        if self.config.getoption("golden_paths"):
            return _settings(self.config).golden_paths_dir
        import yaml  # for a suite file only

        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            fix = "write `golden_paths: ../golden_paths`"
            raise CollectProblem(
                [Problem(self.path, None, "", f"cannot read the suite: {exc}", fix)]
            ) from exc
        folder = data.get("golden_paths") if isinstance(data, dict) else None
        if folder is None:
            return _settings(self.config).golden_paths_dir
        if not isinstance(folder, str):
            raise CollectProblem(
                [Problem(self.path, None, "golden_paths", "expected a folder path", "e.g. ../golden_paths")]
            )
        return (self.path.parent / folder).resolve()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CollectProblem):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class GuideFile(pytest.File):
    """A golden-path spec file; its one item is the guide."""

    def collect(self) -> Iterator[pytest.Item]:
        from goldenpath.spec import loader  # see SuiteFile.collect

        guide, problems = loader.parse_guide(self.path)
        if guide is None or problems:
            raise CollectProblem(problems)
        yield GuideItem.from_parent(self, name=guide.id, guide=guide)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CollectProblem):
            return "invalid golden path spec:\n" + str(excinfo.value)
        return str(super().repr_failure(excinfo))


class GuideFailed(Exception):
    """A guide did not pass; carries the result to :meth:`GuideItem.repr_failure`."""

    def __init__(self, result: GuideResult) -> None:
        super().__init__(f"{result.guide_id}: {result.outcome}")
        self.result = result


class GuideItem(pytest.Item):
    """One golden path, run end to end in the sandbox."""

    def __init__(self, *, guide: Guide, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.guide = guide
        self.add_marker("golden_path")
        for name in (*guide.metadata.tags, guide.metadata.stage):
            if name in _RESERVED_MARKERS or not name or name.startswith("_"):
                continue
            self.config.addinivalue_line("markers", f"{name}: golden-path tag or stage")
            self.add_marker(name)

    def runtest(self) -> None:
        from goldenpath.run import runner  # the check path: with the first guide run
        from goldenpath.run.junit import github_annotations, junit_properties, spec_location

        settings = _settings(self.config)
        rendered = runner.prepare(self.guide, settings.kubernetes_version)
        check_run = _check_run(self.config)
        if self.config.getoption("accept"):
            rendered = self._accept(check_run, rendered)
        known_errors = len(check_run.errors)
        result = check_run.run(rendered)
        if check_run.unavailable is not None:
            raise check_run.unavailable  # recorded, so the page says the last attempt hit it
        self.user_properties.extend(junit_properties(result))
        reasons: dict[str, list[str]] = {}
        for step in result.skipped:
            if not step.message.startswith("not run"):
                reasons.setdefault(step.message, []).append(step.label)
        if reasons:
            self.add_report_section(
                "call",
                SKIPS_SECTION,
                "\n".join(f"skipped {', '.join(labels)} ({reason})" for reason, labels in reasons.items()),
            )
        record_errors = check_run.errors[known_errors:]
        if record_errors:
            self.add_report_section("call", "goldenpath: run history", "\n".join(record_errors))
        if result.outcome != "passed":
            self.location_line = spec_location(result, self.guide, settings.root)[1]
            for line in github_annotations([result], {self.guide.id: self.guide}, settings.root):
                self.add_report_section("call", ANNOTATIONS_SECTION, line)
            raise GuideFailed(result)
        if record_errors:
            raise SandboxError(record_errors[0])

    def _accept(self, check_run: CheckRun, rendered: RenderedGuide) -> RenderedGuide:
        """Accept mode: write the blocks the run printed differently; the guide to check again."""
        from goldenpath.accept import accept_guide  # the spec rewriting: for --accept only
        from goldenpath.run import runner
        from goldenpath.spec import loader

        acceptance = accept_guide(check_run, rendered)
        if check_run.unavailable is not None:
            raise check_run.unavailable
        if acceptance.refused:
            raise SandboxError(f"nothing accepted: {acceptance.refused}")
        notes = [acceptance.diff()] if acceptance.changed else []
        notes += acceptance.notes
        if notes:
            self.add_report_section("call", "goldenpath: accepted", "\n".join(notes))
        if not acceptance.changed:
            return rendered
        acceptance.write()
        self.guide = loader.load_guides(self.guide.folder.parent, only=[self.guide.id])[0]
        return runner.prepare(self.guide, _settings(self.config).kubernetes_version)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        error = excinfo.value
        if isinstance(error, GuideFailed):
            from goldenpath.run.results import describe_failure  # loaded by the run that failed

            settings = _settings(self.config)
            return describe_failure(error.result, self.guide, settings.site_url, settings.root)
        if isinstance(error, UserError):
            lines = [str(p) for p in error.problems]
            return "bad input (fix the spec or the environment before running):\n" + "\n".join(
                f"  {line}" for line in lines
            )
        if isinstance(error, SandboxError):
            return f"ERROR (sandbox): {error}\n  the sandbox is broken, not the guide"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.guide.line_of("metadata.id") - 1, f"golden path {self.guide.id}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Point a failed guide's report at the failing step's spec line (JUnit ``file``/``line``
    with ``junit_family = xunit1``), as ``goldenpath check --junit`` does."""
    report = yield
    line = getattr(item, "location_line", None)
    if isinstance(item, GuideItem) and line is not None and report.when == "call":
        report.location = (report.location[0], line, report.location[2])
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the steps that were skipped in guides that passed (a cluster step on local), and on
    GitHub Actions print an annotation at the spec line of each guide that did not pass."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for report in terminalreporter.stats.get("failed", []):
            for title, content in getattr(report, "sections", []):
                if ANNOTATIONS_SECTION in title:
                    terminalreporter.write_line(content)
    lines = []
    for report in terminalreporter.stats.get("passed", []):
        for title, content in getattr(report, "sections", []):
            if SKIPS_SECTION in title:
                lines += [f"{report.nodeid}: {line}" for line in content.splitlines()]
    if lines:
        terminalreporter.write_sep("-", "golden paths passed with skipped steps")
        for line in lines:
            terminalreporter.write_line(line)
