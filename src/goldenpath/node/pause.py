"""The pod sandbox (pause) image: the static program ``scripts/build-sandbox-cluster`` builds
into ``<sandbox>/bin/pause`` (it sleeps until SIGTERM or SIGINT and reaps children), packed as a
one-file OCI image. containerd imports it as its ``sandbox_image``, so no pod ever makes the
node pull anything from outside the machine.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from goldenpath.node import oci
from goldenpath.node.errors import BINARIES_FIX, NodeError

PACKER_VERSION = "1"
"""Part of the cache key: bump it when the way the archive is packed changes."""
TAG = "platform/pause:3.10-goldenpath"
"""The pause image's name under the platform registry (imported, never pulled)."""


def image_name(platform_registry: str) -> str:
    """The pause image's name under ``platform_registry``."""
    return f"{platform_registry}/{TAG}"


def archive(binary: Path, cache_dir: Path, name: str) -> Path:
    """The OCI archive of the pause image ``name`` holding ``binary``, packed on first use.

    Same binary, same bytes (:mod:`goldenpath.node.oci` is deterministic), so the cache key is a
    hash of the binary and the name.
    """
    try:
        program = binary.read_bytes()
    except OSError as exc:
        raise NodeError(f"the pause program {binary} is missing ({exc.strerror}): {BINARIES_FIX}") from exc
    key = hashlib.sha256(program + f"\0{name}\0{PACKER_VERSION}".encode()).hexdigest()[:16]
    path = cache_dir / f"pause-{key}.oci.tar"
    if path.is_file():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pause-", dir=cache_dir) as tmp:
        layer = Path(tmp) / "layer.tar"
        oci.single_file_layer(layer, "/pause", binary)
        config = oci.ImageConfig(env=(), entrypoint=("/pause",))
        oci.write_archive(path, name, [layer], config, history="goldenpath pause")
    return path
