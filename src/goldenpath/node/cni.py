"""The pod network: one bridge of the node's own, host-local addresses, no iptables.

``ipMasq: false`` keeps the bridge plugin away from iptables (it only uses it to masquerade).
``isGateway: true`` gives the bridge the subnet's first address and the pods a default route
through it, so the host (the kubelet's HTTP probes, ``port-forward``) reaches pod IPs; it also
makes the plugin set ``net.ipv4.ip_forward=1`` at the first pod, which the state file records
and the collector puts back.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from goldenpath.node import tools
from goldenpath.node.errors import PACKAGES_FIX, NodeError

BIN_DIR = Path("/usr/lib/cni")
"""Where Debian's containernetworking-plugins installs bridge, host-local and loopback."""
NETWORK_NAME = "goldenpath-realnode"
PLUGINS = ("bridge", "host-local", "loopback")


def check_plugins(bin_dir: Path = BIN_DIR) -> None:
    """Raise :class:`NodeError` when a CNI plugin the network needs is missing."""
    missing = [p for p in PLUGINS if not (bin_dir / p).is_file()]
    if missing:
        raise NodeError(
            f"the CNI plugins {', '.join(missing)} are missing in {bin_dir} "
            f"(Debian package containernetworking-plugins): {PACKAGES_FIX}"
        )


def gateway(subnet: str) -> str:
    """The subnet's first address: the bridge's, the pods' default route, the node IP."""
    return str(next(ipaddress.ip_network(subnet).hosts()))


def conflist(*, bridge: str, subnet: str, data_dir: Path) -> dict[str, object]:
    """The CNI network list: the bridge plugin with host-local IPAM, then loopback."""
    if len(bridge) > 15:
        raise NodeError(
            f"the bridge name {bridge!r} is longer than 15 characters (IFNAMSIZ): choose a shorter one"
        )
    ipam = {
        "type": "host-local",
        "ranges": [[{"subnet": str(ipaddress.ip_network(subnet)), "gateway": gateway(subnet)}]],
        "dataDir": str(data_dir),
    }
    return {
        "cniVersion": "0.4.0",
        "name": NETWORK_NAME,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": False,
                "promiscMode": False,
                "ipam": ipam,
            },
            {"type": "loopback"},
        ],
    }


def write(conf_dir: Path, *, bridge: str, subnet: str, data_dir: Path) -> Path:
    """Write the network list into ``conf_dir`` (containerd reads the first one there)."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = conf_dir / "10-goldenpath-realnode.conflist"
    path.write_text(json.dumps(conflist(bridge=bridge, subnet=subnet, data_dir=data_dir), indent=2))
    return path


def create_bridge(bridge: str, subnet: str) -> str:
    """Create the bridge with the gateway address before any pod exists; return that address.

    The kubelet refuses a loopback ``--node-ip`` (the Node then gets no address at all) and
    wants the node IP on a local interface, so the node IP is the bridge's gateway address, which
    must exist when the kubelet starts. The bridge plugin adopts the existing bridge.
    """
    ip = tools.require("ip")
    address = f"{gateway(subnet)}/{ipaddress.ip_network(subnet).prefixlen}"
    tools.run([ip, "link", "add", "name", bridge, "type", "bridge"], what=f"ip link add {bridge} type bridge")
    tools.run([ip, "addr", "add", address, "dev", bridge], what=f"ip addr add {address} dev {bridge}")
    tools.run([ip, "link", "set", bridge, "up"], what=f"ip link set {bridge} up")
    return gateway(subnet)


def subnet_in_use(subnet: str) -> str | None:
    """The interface that already routes an address of ``subnet``, if any."""
    network = ipaddress.ip_network(subnet)
    try:
        routes = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in routes:
        fields = line.split()
        destination = ipaddress.ip_address(bytes.fromhex(fields[1])[::-1])
        mask = ipaddress.ip_address(bytes.fromhex(fields[7])[::-1])
        if int(mask) and ipaddress.ip_network(f"{destination}/{mask}", strict=False).overlaps(network):
            return fields[0]
    return None
