"""The real node: a kubelet and a private containerd joined to the local kwok cluster, with a
local registry standing in for the platform's and per-session podman for ``docker build`` and
``docker push``, and everything it changes on the machine written down and put back.

From the bottom up:

- ``errors``, ``tools``      :class:`NodeError` and its fixes; programs found, run, kept running
- ``system``, ``state``      mounts, cgroups, links, sysctls; the state file of what changed
- ``collect``, ``snapshot``  undo what the state file records; compare the host before and after
- ``certs``, ``oci``         the node's certificates; deterministic OCI image archives
- ``pause``, ``baseimages``  the pod sandbox image; the platform base images from Debian recipes
- ``registry``, ``cni``      the platform registry stand-in; the pod network (no iptables)
- ``containerd``, ``kubelet`` the private containerd; the kubelet's config and start
- ``cluster``, ``podman``    the kwok patches, taint and RBAC a real node needs; session podman
- ``config``, ``start``, ``node``  where things live; the start sequence; the machine's one node

The names below load with their modules when first used: a run's record imports ``podman`` and
``system`` (to clean up after a run that died) without the rest of the node.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from goldenpath.node.config import NodeConfig, NodeInfo
    from goldenpath.node.errors import NodeError
    from goldenpath.node.node import RealNode

__all__ = ["NodeConfig", "NodeError", "NodeInfo", "RealNode"]
_MODULES = {
    "NodeConfig": "goldenpath.node.config",
    "NodeError": "goldenpath.node.errors",
    "NodeInfo": "goldenpath.node.config",
    "RealNode": "goldenpath.node.node",
}


def __getattr__(name: str) -> Any:
    """One of :data:`__all__`, imported from its module on first use."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name]), name)
    globals()[name] = value
    return value
