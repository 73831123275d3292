"""The node's certificates, made with the ``openssl`` command line (EC P-256, ten years).

Two CAs take part:

- **kwok's cluster CA** (``<cluster>/pki/ca.crt`` + ``ca.key``, made by ``kwokctl create``): the
  API server trusts it for client certs. The kubelet's own client cert (``CN=system:node:<node>,
  O=system:nodes``) is signed with it once the cluster exists; the API server's Node authorizer
  then gives the kubelet exactly a node's rights.
- **the node CA** (ours, made *before* the cluster, because the API server's flags name its
  files): it signs the API server's kubelet-client cert (``CN=kube-apiserver-kubelet-client``,
  bound to ``system:kubelet-api-admin``) and the kubelet's serving cert. The kubelet trusts only
  it for client certs and asks the API server to authorize each request (Webhook).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from goldenpath.node import tools
from goldenpath.node.errors import NodeError

KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"
"""Who the API server is when it calls a kubelet (logs, exec, port-forward)."""
DAYS = 3650


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, as two PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class NodeCA:
    """The node CA and the API server's kubelet-client cert: made before any cluster starts."""

    folder: Path

    @property
    def ca(self) -> KeyPair:
        return KeyPair(self.folder / "node-ca.crt", self.folder / "node-ca.key")

    @property
    def apiserver_kubelet_client(self) -> KeyPair:
        return KeyPair(
            self.folder / "apiserver-kubelet-client.crt", self.folder / "apiserver-kubelet-client.key"
        )

    def ensure(self) -> None:
        """Create what is missing; existing files stay, so running clusters keep their flags."""
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        if not (self.ca.cert.is_file() and self.ca.key.is_file()):
            make_ca(self.ca, "goldenpath-realnode-ca")
            self.apiserver_kubelet_client.cert.unlink(missing_ok=True)
        if not self.apiserver_kubelet_client.cert.is_file():
            sign(self.apiserver_kubelet_client, self.ca, common_name=KUBELET_CLIENT_USER, usage="clientAuth")


def make_ca(pair: KeyPair, common_name: str) -> None:
    """A self-signed CA certificate and its new key."""
    _new_key(pair.key)
    tmp = pair.cert.with_name(f".{pair.cert.name}.tmp")
    tools.run(
        [
            tools.require("openssl"),
            "req",
            "-x509",
            "-new",
            "-key",
            str(pair.key),
            "-out",
            str(tmp),
            "-days",
            str(DAYS),
            "-subj",
            f"/CN={common_name}",
            "-sha256",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        ],
        what=f"openssl: the CA {common_name}",
    )
    os.replace(tmp, pair.cert)  # two processes making it at once: either file is whole


def sign(
    pair: KeyPair,
    ca: KeyPair,
    *,
    common_name: str,
    organization: str = "",
    usage: str = "clientAuth",
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
) -> None:
    """A new key and a cert for it signed by ``ca`` (``usage``: clientAuth or serverAuth)."""
    if not (ca.cert.is_file() and ca.key.is_file()):
        raise NodeError(f"the CA {ca.cert} or its key is missing: recreate the cluster")
    openssl = tools.require("openssl")
    _new_key(pair.key)
    subject = (f"/O={organization}" if organization else "") + f"/CN={common_name}"
    csr, ext = pair.cert.with_suffix(".csr"), pair.cert.with_suffix(".ext")
    lines = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        f"extendedKeyUsage={usage}",
    ]
    names = [f"DNS:{name}" for name in dns] + [f"IP:{ipaddress.ip_address(ip)}" for ip in ips]
    if names:
        lines.append("subjectAltName=" + ",".join(names))
    ext.write_text("\n".join(lines) + "\n")
    try:
        tools.run(
            [openssl, "req", "-new", "-key", str(pair.key), "-out", str(csr), "-subj", subject],
            what=f"openssl: a request for {common_name}",
        )
        # a random serial: no ca.srl is written next to kwok's CA
        tools.run(
            [
                openssl,
                "x509",
                "-req",
                "-in",
                str(csr),
                "-CA",
                str(ca.cert),
                "-CAkey",
                str(ca.key),
                "-set_serial",
                f"0x{secrets.token_hex(16)}",
                "-out",
                str(pair.cert),
                "-days",
                str(DAYS),
                "-sha256",
                "-extfile",
                str(ext),
            ],
            what=f"openssl: signing {common_name}",
        )
    finally:
        csr.unlink(missing_ok=True)
        ext.unlink(missing_ok=True)


def _new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tools.run(
        [
            tools.require("openssl"),
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            str(path),
        ],
        what="openssl genpkey",
    )
    os.chmod(path, 0o600)


def kubelet_certs(
    folder: Path, *, node_name: str, node_ips: tuple[str, ...], cluster_ca: KeyPair, node_ca: NodeCA
) -> tuple[KeyPair, KeyPair]:
    """The kubelet's (client, serving) pairs: who it is to the API server, and its TLS port."""
    client = KeyPair(folder / "kubelet-client.crt", folder / "kubelet-client.key")
    serving = KeyPair(folder / "kubelet-serving.crt", folder / "kubelet-serving.key")
    sign(client, cluster_ca, common_name=f"system:node:{node_name}", organization="system:nodes")
    sign(
        serving,
        node_ca.ca,
        common_name=node_name,
        usage="serverAuth",
        dns=tuple(dict.fromkeys((node_name, "localhost"))),
        ips=node_ips,
    )
    return client, serving
