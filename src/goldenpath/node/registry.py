"""The stand-in for the platform's image registry: the CNCF distribution registry on 127.0.0.1.

Debian's ``docker-registry`` runs with a config file and a storage folder of the node's own
(never /etc/docker/registry, /var/lib/docker-registry or its systemd unit). The storage is fresh
at every node start, and a guide run's images are deleted when the run ends
(:func:`delete_image`), so no run ever passes on an image another run pushed.

:func:`push_archive` uploads an OCI archive through the registry's HTTP API with the standard
library: ``skopeo copy`` would do it too, but as root it writes a blob-info cache to
/var/lib/containers/cache whatever its flags say.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import tarfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import yaml

from goldenpath.node import tools
from goldenpath.node.errors import NodeError
from goldenpath.node.tools import Daemon

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
"""What podman and our OCI writer push; asked for when a manifest's digest is looked up."""


@dataclass(frozen=True)
class Layout:
    """Where one registry stand-in keeps its config, storage and log, and its port."""

    base: Path
    port: int

    @property
    def config(self) -> Path:
        return self.base / "config.yml"

    @property
    def storage(self) -> Path:
        return self.base / "storage"

    @property
    def log(self) -> Path:
        return self.base / "registry.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.address}"


def render_config(layout: Layout) -> str:
    """The registry's config file: storage under ``layout``, deletes allowed, 127.0.0.1 only."""
    document = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {
            "filesystem": {"rootdirectory": str(layout.storage)},
            # a run's images are deleted when it ends
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {"addr": layout.address, "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "health": {"storagedriver": {"enabled": False}},
    }
    return "# written by goldenpath: the local stand-in for the platform registry\n" + yaml.safe_dump(
        document
    )


def start(layout: Layout, *, cgroup: Path | None = None) -> tuple[Daemon, subprocess.Popen[bytes]]:
    """Start the registry on an empty storage folder and wait until it answers."""
    binary = tools.require("docker-registry")
    shutil.rmtree(layout.storage, ignore_errors=True)
    layout.storage.mkdir(parents=True)
    layout.config.write_text(render_config(layout))
    # without a secret it warns and makes one up; nothing here depends on it
    env = {"PATH": "/usr/bin:/bin", "REGISTRY_HTTP_SECRET": "goldenpath-local"}
    daemon, popen = tools.start(
        "registry", [binary, "serve", str(layout.config)], layout.log, env=env, cgroup=cgroup
    )
    try:
        tools.wait_for(
            lambda: answers(layout.address),
            timeout=15,
            what=f"the registry on {layout.address}",
            daemon=daemon,
            hint="is the port taken? see ss -ltnp",
        )
    except NodeError:
        daemon.stop()
        raise
    return daemon, popen


def answers(address: str) -> bool:
    """Whether the registry at ``address`` serves its API (``GET /v2/``)."""
    try:
        status, _, _ = _request(address, "GET", "/v2/")
    except OSError:
        return False
    return status == 200


def _request(
    address: str, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=300)
    try:
        conn.request(method, path, body=body, headers=headers or {})  # type: ignore[arg-type]
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def split_name(image: str) -> tuple[str, str, str]:
    """``registry.example.com/acme/hello:1.0.0`` -> (host, repository, tag); the tag defaults to
    ``latest``; a ``@sha256:...`` reference keeps its digest as the "tag"."""
    host, _, rest = image.partition("/")
    if not rest or ("." not in host and ":" not in host and host != "localhost"):
        raise NodeError(
            f"the image name {image!r} has no registry host: write <registry>/<team>/<name>:<tag>"
        )
    if "@" in rest:
        repository, _, reference = rest.partition("@")
        return host, repository, reference
    repository, _, tag = rest.rpartition(":")
    if not repository or "/" in tag:
        repository, tag = rest, "latest"
    return host, repository, tag


def push_archive(address: str, archive: Path, image: str) -> str:
    """Upload the one image of an OCI archive as ``image`` (its host is ignored); its digest."""
    _, repository, tag = split_name(image)
    with tarfile.open(archive) as tar:
        index = json.load(_member(tar, "index.json"))
        manifest_desc = index["manifests"][0]
        manifest_bytes = _member(tar, _blob_path(manifest_desc["digest"])).read()
        manifest = json.loads(manifest_bytes)
        for desc in [manifest["config"], *manifest["layers"]]:
            _push_blob(address, tar, repository, desc["digest"], int(desc["size"]))
    status, _, body = _request(
        address,
        "PUT",
        f"/v2/{repository}/manifests/{tag}",
        body=manifest_bytes,
        headers={"Content-Type": manifest_desc["mediaType"]},
    )
    if status not in (200, 201):
        raise NodeError(f"the registry refused the manifest of {image} (HTTP {status}: {body[:200]!r})")
    return str(manifest_desc["digest"])


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    member = tar.extractfile(name)
    if member is None:
        raise NodeError(
            f"{name} is missing from the OCI archive {tar.name!s}: delete the archive to rebuild it"
        )
    return member


def _blob_path(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _push_blob(address: str, tar: tarfile.TarFile, repository: str, digest: str, size: int) -> None:
    status, _, _ = _request(address, "HEAD", f"/v2/{repository}/blobs/{digest}")
    if status == 200:
        return
    status, headers, _ = _request(address, "POST", f"/v2/{repository}/blobs/uploads/")
    if status != 202 or "location" not in headers:
        raise NodeError(f"the registry did not start an upload (HTTP {status})")
    location = urllib.parse.urlsplit(headers["location"])
    query = (location.query + "&" if location.query else "") + urllib.parse.urlencode({"digest": digest})
    status, _, body = _request(
        address,
        "PUT",
        f"{location.path}?{query}",
        body=_member(tar, _blob_path(digest)),
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
    )
    if status != 201:
        raise NodeError(f"the registry refused blob {digest[:19]} (HTTP {status}: {body[:200]!r})")


def tags(address: str, repository: str) -> list[str]:
    """The tags of a repository ([] when it has none, or does not exist)."""
    status, _, body = _request(address, "GET", f"/v2/{repository}/tags/list")
    if status != 200:
        return []
    return list(json.loads(body).get("tags") or [])


def delete_image(address: str, image: str) -> bool:
    """Delete ``image``'s manifest, which untags every tag of its repository pointing to it;
    False when there was no such image."""
    _, repository, reference = split_name(image)
    if not reference.startswith("sha256:"):
        status, headers, _ = _request(
            address,
            "HEAD",
            f"/v2/{repository}/manifests/{reference}",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        if status == 404:
            return False
        if status != 200 or "docker-content-digest" not in headers:
            raise NodeError(f"the registry cannot find the digest of {image} (HTTP {status})")
        reference = headers["docker-content-digest"]
    status, _, body = _request(address, "DELETE", f"/v2/{repository}/manifests/{reference}")
    if status == 404:
        return False
    if status != 202:
        raise NodeError(f"the registry did not delete {image} (HTTP {status}: {body[:200]!r})")
    return True
