"""Sandboxes: where guides run, and the factory that builds one by name.

``local`` (the embedded default, :mod:`.local`), ``kubernetes`` (any cluster by kubeconfig,
:mod:`.kubernetes`), ``kwok`` (a local cluster with simulated nodes, :mod:`.kwok`) and
``real-node`` (that cluster with a real node and a registry stand-in, :mod:`.realnode`), all on
the interface of :mod:`.base`.

Each sandbox's module loads when that sandbox is chosen: a check on the local sandbox imports
the cluster sandboxes (and the real node's modules beneath them) only where one of them made a
cluster, to collect what a dead run left of it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from goldenpath.config import SANDBOX_NAMES, Settings
from goldenpath.errors import Problem, UserError

if TYPE_CHECKING:
    from goldenpath.sandbox.base import Sandbox


def _local(settings: Settings) -> Sandbox:
    # Each factory imports its sandbox: only the chosen one loads.
    from goldenpath.sandbox.local import LocalSandbox

    return LocalSandbox()


def _kubernetes(settings: Settings) -> Sandbox:
    # See _local.
    from goldenpath.sandbox.kubernetes import KubernetesSandbox

    return KubernetesSandbox(settings.kubeconfig, settings.context)


def _kwok(settings: Settings) -> Sandbox:
    # See _local.
    from goldenpath.sandbox import kwok

    return kwok.kwok_factory(settings)


def _real_node(settings: Settings) -> Sandbox:
    # See _local.
    from goldenpath.sandbox import realnode

    return realnode.real_node_factory(settings)


SANDBOXES: dict[str, Callable[[Settings], Sandbox]] = {
    "local": _local,
    "kubernetes": _kubernetes,
    "kwok": _kwok,
    "real-node": _real_node,
}
"""Sandbox name -> factory, for every name of :data:`goldenpath.config.SANDBOX_NAMES`."""


def provisioned(
    name: str, settings: Settings, keep: bool = False
) -> contextlib.AbstractContextManager[object]:
    """What a sandbox needs for a whole check run: the kwok sandbox's local cluster, or the
    real-node sandbox's cluster and node.

    Entered once per run (by the CLI, or by the main pytest process before xdist workers start,
    which inherit the cluster through the environment); torn down at the end unless ``keep``.
    """
    if name == "kwok":
        from goldenpath.sandbox import kwok  # see _local

        return kwok.running_cluster(settings, keep=keep)
    if name == "real-node":
        from goldenpath.sandbox import realnode  # see _local

        return realnode.running_node(settings, keep=keep)
    return contextlib.nullcontext()


def collect_leftovers(settings: Settings) -> list[str]:
    """Remove what runs and ephemeral clusters of processes that died left behind (see
    :mod:`.records`); one line per thing removed. A run on any sandbox collects them."""
    from goldenpath.sandbox import records  # see _local

    lines = records.collect_dead_runs()
    if clusters_dir(settings).is_dir():
        # Only where a cluster was ever made: the kwok and real-node modules load for it.
        from goldenpath.sandbox import kwok

        lines += kwok.collect_dead_clusters(settings)
    return lines


def clusters_dir(settings: Settings) -> Path:
    """Where the kwok and real-node sandboxes make their clusters: ``kwok/`` of
    :func:`.kwok.sandbox_dir` (a test keeps the two equal), known here so that a check needs
    neither module when there is none."""
    return Path(os.environ.get("GOLDENPATH_SANDBOX_DIR") or settings.root / ".sandbox") / "kwok"


def get_sandbox(name: str, settings: Settings) -> Sandbox:
    """The sandbox called ``name``, checked to be usable (else :class:`SandboxError`, exit 3)."""
    factory = SANDBOXES.get(name)
    if factory is None:
        raise UserError(
            [
                Problem(
                    "--sandbox",
                    None,
                    "",
                    f"unknown sandbox '{name}'",
                    f"choose one of: {', '.join(SANDBOX_NAMES)}",
                )
            ]
        )
    sandbox = factory(settings)
    sandbox.check()
    return sandbox
