"""OCI image archives written with the standard library: deterministic, no image store needed.

An archive is a tar of an OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/*``)
holding one image: ``ctr images import`` reads it, :func:`goldenpath.node.registry.push_archive`
pushes it. The index entry carries the full image name twice: ``io.containerd.image.name`` (what
containerd names the imported image) and ``org.opencontainers.image.ref.name``.

Same inputs, same bytes: file times, owners and gzip headers are fixed, so the digest of an image
built twice from the same layers does not change.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath.node.errors import NodeError

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
ANNOTATION_REF = "org.opencontainers.image.ref.name"
ANNOTATION_CONTAINERD_NAME = "io.containerd.image.name"
EPOCH = "1970-01-01T00:00:00Z"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImageConfig:
    """The runtime part of an image config (what a Dockerfile's ENV/CMD/WORKDIR set)."""

    env: Sequence[str] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
    cmd: Sequence[str] = ()
    entrypoint: Sequence[str] = ()
    workdir: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    user: str = ""

    def to_json(self) -> dict[str, Any]:
        """The ``config`` object of an OCI image config."""
        config: dict[str, Any] = {"Env": list(self.env)}
        if self.cmd:
            config["Cmd"] = list(self.cmd)
        if self.entrypoint:
            config["Entrypoint"] = list(self.entrypoint)
        if self.workdir:
            config["WorkingDir"] = self.workdir
        if self.labels:
            config["Labels"] = dict(self.labels)
        if self.user:
            config["User"] = self.user
        return config


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor: what a blob is, its digest and size."""

    media_type: str
    digest: str
    size: int

    def to_json(self) -> dict[str, Any]:
        """The descriptor as OCI JSON."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


def write_archive(
    archive: Path,
    name: str,
    layers: Sequence[Path],
    config: ImageConfig,
    *,
    compress: bool = True,
    compresslevel: int = 1,
    history: str = "goldenpath",
) -> str:
    """Write a one-image OCI archive from uncompressed layer tars; return the manifest digest.

    The archive is written next to its final path and renamed into place, so a reader never sees
    half an archive (the image cache relies on that).
    """
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".oci-", dir=archive.parent) as tmp:
        blobs = Path(tmp) / "blobs" / "sha256"
        blobs.mkdir(parents=True)
        layer_descs, diff_ids = [], []
        for layer in layers:
            desc, diff_id = _add_layer(blobs, layer, compress, compresslevel)
            layer_descs.append(desc)
            diff_ids.append(diff_id)
        image_config = {
            "created": EPOCH,
            "architecture": _arch(),
            "os": "linux",
            "config": config.to_json(),
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": EPOCH, "created_by": history} for _ in layers],
        }
        config_desc = _add_json(blobs, image_config, MEDIA_CONFIG)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": config_desc.to_json(),
            "layers": [d.to_json() for d in layer_descs],
        }
        manifest_desc = _add_json(blobs, manifest, MEDIA_MANIFEST)
        entry = manifest_desc.to_json()
        entry["annotations"] = {ANNOTATION_CONTAINERD_NAME: name, ANNOTATION_REF: name}
        entry["platform"] = {"architecture": _arch(), "os": "linux"}
        index = {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [entry]}
        partial = archive.with_name(f".{archive.name}.partial")
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
            _add_bytes(tar, "index.json", _canonical(index))
            _add_bytes(tar, "blobs/", b"", directory=True)
            _add_bytes(tar, "blobs/sha256/", b"", directory=True)
            for blob in sorted(blobs.iterdir()):
                info = tarfile.TarInfo(f"blobs/sha256/{blob.name}")
                info.size, info.mode, info.mtime = blob.stat().st_size, 0o644, 0
                with open(blob, "rb") as data:
                    tar.addfile(info, data)
        os.replace(partial, archive)
    return manifest_desc.digest


def read_index(archive: Path) -> dict[str, Any]:
    """The ``index.json`` of an OCI archive (to read the image name and manifest digest)."""
    try:
        with tarfile.open(archive) as tar:
            member = tar.extractfile("index.json")
            if member is None:
                raise KeyError("index.json")
            return dict(json.load(member))
    except (OSError, KeyError, tarfile.TarError, json.JSONDecodeError) as exc:
        raise NodeError(f"{archive} is not an OCI archive ({exc}); delete it to rebuild it") from exc


def single_file_layer(layer: Path, path_in_image: str, source: Path, mode: int = 0o755) -> None:
    """An uncompressed layer tar holding one file (for the pause image)."""
    with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(path_in_image.lstrip("/"))
        info.size, info.mode, info.mtime = source.stat().st_size, mode, 0
        with open(source, "rb") as data:
            tar.addfile(info, data)


def _add_layer(blobs: Path, layer: Path, compress: bool, level: int) -> tuple[Descriptor, str]:
    diff = hashlib.sha256()
    blob_hash = hashlib.sha256()
    tmp = blobs / ".layer"
    with open(layer, "rb") as src, open(tmp, "wb") as raw:
        sink: Any = _HashingWriter(raw, blob_hash)
        out = (
            gzip.GzipFile(fileobj=sink, mode="wb", mtime=0, compresslevel=level, filename="")
            if compress
            else sink
        )
        while chunk := src.read(_CHUNK):
            diff.update(chunk)
            out.write(chunk)
        if compress:
            out.close()
    digest = blob_hash.hexdigest()
    tmp.rename(blobs / digest)
    media = MEDIA_LAYER_GZIP if compress else MEDIA_LAYER
    return Descriptor(
        media, f"sha256:{digest}", (blobs / digest).stat().st_size
    ), f"sha256:{diff.hexdigest()}"


class _HashingWriter(io.RawIOBase):
    def __init__(self, raw: io.BufferedWriter, digest: Any) -> None:
        super().__init__()
        self._raw, self._digest = raw, digest

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._digest.update(view)
        self._raw.write(view)
        return len(view)


def _add_json(blobs: Path, document: Mapping[str, Any], media: str) -> Descriptor:
    data = _canonical(document)
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return Descriptor(media, f"sha256:{digest}", len(data))


def _canonical(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, directory: bool = False) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = 0
    if directory:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    else:
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))


def _arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
