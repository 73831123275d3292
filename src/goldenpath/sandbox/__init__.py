"""Sandboxes: where guides run, and the factory that builds one by name.

``local`` (the embedded default, :mod:`.local`), ``kubernetes`` (any cluster by kubeconfig,
:mod:`.kubernetes`), ``kwok`` (a local cluster with simulated nodes, :mod:`.kwok`) and
``real-node`` (that cluster with a real node and a registry stand-in, :mod:`.realnode`), all on
the interface of :mod:`.base`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from goldenpath.config import SANDBOX_NAMES, Settings
from goldenpath.errors import Problem, UserError
from goldenpath.sandbox import kwok, realnode, records
from goldenpath.sandbox.base import Sandbox
from goldenpath.sandbox.kubernetes import KubernetesSandbox
from goldenpath.sandbox.local import LocalSandbox

SANDBOXES: dict[str, Callable[[Settings], Sandbox]] = {
    "local": lambda settings: LocalSandbox(),
    "kubernetes": lambda settings: KubernetesSandbox(settings.kubeconfig, settings.context),
    "kwok": kwok.kwok_factory,
    "real-node": realnode.real_node_factory,
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
        return kwok.running_cluster(settings, keep=keep)
    if name == "real-node":
        return realnode.running_node(settings, keep=keep)
    return contextlib.nullcontext()


def collect_leftovers(settings: Settings) -> list[str]:
    """Remove what runs and ephemeral clusters of processes that died left behind (see
    :mod:`.records`); one line per thing removed."""
    return records.collect_dead_runs() + kwok.collect_dead_clusters(settings)


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
