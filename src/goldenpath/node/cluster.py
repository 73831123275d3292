"""What a kwok cluster needs so that a real node can join it: kwokctl ``componentsPatches``, the
fake nodes' taint, and RBAC for the API server's kubelet-client identity.

kwokctl applies ``componentsPatches[].extraArgs`` to the component of that ``name``: with
``override: true`` it replaces the existing ``--key=`` flag, else it appends ``--key=value``. The
binary runtime's components: ``etcd``, ``kube-apiserver``, ``kube-controller-manager``,
``kube-scheduler``, ``kwok-controller``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from goldenpath.node.certs import KUBELET_CLIENT_USER, NodeCA

FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node=fake"
"""What kwokctl's node template puts on every fake node, and so what kwok manages."""
FAKE_NODE_TAINT = "kwok.x-k8s.io/node=fake:NoSchedule"
FAKE_NODE_LABEL = "type=kwok"
"""The label kwokctl's node template puts on every fake node."""
RBAC_NAME = "goldenpath:kube-apiserver-kubelet-client"


def flexvolume_patch(cluster_dir: Path) -> dict[str, Any]:
    """For every kwok cluster: kube-controller-manager's flex-volume prober otherwise creates
    /usr/libexec/kubernetes/kubelet-plugins/volume/exec on the host ("does not exist.
    Recreating."), with or without a real node. ``cluster_dir`` is known before it exists."""
    return {
        "name": "kube-controller-manager",
        "extraArgs": [{"key": "flex-volume-plugin-dir", "value": str(cluster_dir / "flexvolume")}],
    }


def real_node_patches(node_ca: NodeCA) -> list[dict[str, Any]]:
    """For a cluster a real node joins: the API server can call its kubelet, kwok leaves it alone."""
    client = node_ca.apiserver_kubelet_client
    return [
        {
            "name": "kube-apiserver",
            "extraArgs": [
                # who the API server is when it calls a kubelet (logs, exec, port-forward)
                {"key": "kubelet-client-certificate", "value": str(client.cert)},
                {"key": "kubelet-client-key", "value": str(client.key)},
                # the default order, spelled out: fake nodes are reached at their Hostname
                # "localhost" (their InternalIPs are fake), the real node at its name
                {
                    "key": "kubelet-preferred-address-types",
                    "value": "Hostname,InternalIP,InternalDNS,ExternalDNS,ExternalIP",
                },
            ],
        },
        {
            "name": "kwok-controller",
            "extraArgs": [
                # kwokctl passes --manage-all-nodes=true: kwok would take over the real node
                {"key": "manage-all-nodes", "value": "false", "override": True},
                {"key": "manage-nodes-with-annotation-selector", "value": FAKE_NODE_ANNOTATION},
            ],
        },
    ]


def taint_fake_nodes_args() -> list[str]:
    """kubectl arguments that keep ordinary pods (a guide's Deployment) off the fake nodes;
    a pod that tolerates the taint still runs, simulated, on one."""
    return ["taint", "nodes", "-l", FAKE_NODE_LABEL, FAKE_NODE_TAINT, "--overwrite"]


def kubelet_client_rbac() -> str:
    """Lets the API server's kubelet-client user through the kubelet's Webhook authorization."""
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": RBAC_NAME, "labels": {"app.kubernetes.io/managed-by": "goldenpath"}},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "system:kubelet-api-admin",
        },
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": KUBELET_CLIENT_USER}],
    }
    return json.dumps(binding)
