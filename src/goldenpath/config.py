"""Project settings from ``[tool.goldenpath]`` in ``pyproject.toml``; every key has a default."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath.errors import Problem, UserError

KUBERNETES_VERSION = "1.32"
"""Kubernetes version that rendered manifests are validated against, unless configured."""
SANDBOX_NAMES = ("local", "kubernetes", "kwok", "real-node")
"""The sandboxes a guide can run in (``--sandbox``); :mod:`goldenpath.sandbox` builds them."""
MANAGED_SANDBOXES = ("kwok", "real-node")
"""The sandboxes with a local cluster that ``goldenpath sandbox up|down|status`` manages."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    root: Path = Path()
    """Project root: the folder holding ``pyproject.toml`` (or the working directory)."""
    golden_paths: Path = Path("golden_paths")
    """Folder of golden paths, relative to the root."""
    repo_url: str = ""
    """Repository URL for "report a problem" links, e.g. https://github.com/acme/platform-docs."""
    site_url: str = ""
    """Published site URL, used in failure messages to link the failing step."""
    max_age_days: int = 90
    """A passing run older than this makes a guide stale."""
    review_age_days: int = 365
    """A review older than this makes a guide stale."""
    history: Path = Path(".goldenpath/history.sqlite")
    """SQLite run history, relative to the root."""
    history_keep_runs: int = 0
    """Runs of each guide the history keeps, the newest (0: all); the runs a guide's status is
    decided from are always kept (:mod:`goldenpath.status.retention`)."""
    history_keep_days: int = 0
    """Days a guide's runs stay in the history (0: forever); the same runs are always kept."""
    kubernetes_version: str = KUBERNETES_VERSION
    """Kubernetes version that rendered manifests are validated against."""
    sandbox: str = "local"
    """Default sandbox: one of :data:`SANDBOX_NAMES`."""
    kubeconfig: str = ""
    """Kubeconfig for the kubernetes sandbox (default: $KUBECONFIG or ~/.kube/config)."""
    context: str = ""
    """Kubeconfig context for the kubernetes sandbox (default: the current context)."""
    base_images: Path = Path("checks/base-images.yaml")
    """Recipes of the platform base images the real-node sandbox builds from Debian packages and
    serves from its registry stand-in, relative to the root (no file: no base images)."""
    platform_registry: str = "registry.example.com"
    """Host name of the platform's image registry in the guides; the real-node sandbox maps it to
    its local registry stand-in, for the node's pulls and the guides' ``docker push``."""
    schedule_daily_at: str = "02:00"
    """``goldenpath schedule``: time of day (HH:MM, local time) of the daily run of due guides."""
    schedule_full_every_days: int = 7
    """``goldenpath schedule``: days between full runs of every guide."""
    page_templates: str = ""
    """Folder with page.md.j2 / index.md.j2 overrides, relative to the root (default: the MkDocs
    plugin's page_template_dir); a change to it affects every guide."""
    lint: dict[str, Any] = field(default_factory=dict, hash=False)
    """Lint rules: ``{disable = ["GP108"], severity = {GP109 = "error"}}`` (see reference/lint-rules)."""

    def path(self, relative: Path) -> Path:
        return relative if relative.is_absolute() else self.root / relative

    @property
    def golden_paths_dir(self) -> Path:
        return self.path(self.golden_paths)

    @property
    def history_path(self) -> Path:
        return self.path(self.history)


_COUNTS = ("history_keep_runs", "history_keep_days")
"""Settings that count something: never negative."""


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding a ``pyproject.toml``, else ``start``."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return start


def load_settings(root: Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``pyproject.toml``; ``overrides`` (not None) win over the file."""
    if sys.version_info >= (3, 11):  # loaded with the first settings read: the CLI's parser needs none
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

    root = find_root(root)
    table: dict[str, Any] = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise UserError(
                [Problem(pyproject, None, "", f"invalid TOML: {exc}", "fix the syntax of pyproject.toml")]
            ) from exc
        table = dict(data.get("tool", {}).get("goldenpath", {}))
    fields = {f.name: f for f in dataclasses.fields(Settings) if f.name != "root"}
    problems = []
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in fields:
            import difflib  # for this mistake only

            close = difflib.get_close_matches(name, list(fields), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(fields)
            problems.append(Problem(pyproject, None, f"tool.goldenpath.{key}", "unknown setting", hint))
            continue
        default = getattr(Settings(), name)
        if isinstance(default, Path):
            value = Path(value)
        elif not isinstance(value, type(default)):
            problems.append(
                Problem(
                    pyproject,
                    None,
                    f"tool.goldenpath.{key}",
                    f"expected {type(default).__name__}, got {value!r}",
                    "",
                )
            )
            continue
        if name in _COUNTS and value < 0:
            problems.append(
                Problem(
                    pyproject,
                    None,
                    f"tool.goldenpath.{key}",
                    f"must be 0 or more, got {value}",
                    "0 keeps all",
                )
            )
            continue
        values[name] = value
    if problems:
        raise UserError(problems)
    for name, value in overrides.items():
        if value is not None:
            # A path given on the command line is relative to where the command runs.
            is_path = isinstance(getattr(Settings(), name), Path)
            values[name] = Path(value).resolve() if is_path else value
    return Settings(root=root, **values)
