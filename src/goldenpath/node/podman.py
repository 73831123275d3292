"""``docker build`` and ``docker push`` for a guide's reader: podman, configured per session.

Everything podman would keep machine-wide is moved into the session's folder by environment
variables (:func:`prepare`); nothing in /etc changes:

- ``CONTAINERS_STORAGE_CONF``: the image store (graphroot, runroot) under the session;
- ``CONTAINERS_REGISTRIES_CONF``: the platform registry's prefix mapped to the local registry,
  over plain HTTP. Pulls (a Dockerfile's ``FROM``) honour that ``location``; **pushes do not**
  (podman 4.3 pushes to http://<platform registry>/v2/), see :func:`wrapper`;
- ``CONTAINERS_CONF``: cgroupfs, a file events log, file locks (no /dev/shm/libpod_lock),
  libpod's tmp and static dirs under the session, host network (no ``cni-podman0`` bridge, no
  iptables rules), container ulimits that root without CAP_SYS_RESOURCE may set;
- ``BUILDAH_ISOLATION=chroot``: ``RUN`` steps without a network namespace, bridge or iptables;
- ``XDG_*`` and ``REGISTRY_AUTH_FILE`` under the session;
- ``PATH``: the session's ``docker`` and ``podman`` wrappers first. These machines may also have
  Docker's own CLI in /usr/local/bin (no daemon), which would win over podman-docker otherwise.

One thing stays machine-wide: as root, podman keeps a blob-info cache in /var/lib/containers/cache
whatever its config says; the node's state file records that folder and the node removes it.

The wrappers also write down every image name of the platform registry a command names
(``docker build -t``, ``docker push``), so the sandbox deletes those images when the run ends.
"""

from __future__ import annotations

import contextlib
import json
import re
import resource
import shutil
from pathlib import Path

from goldenpath import host
from goldenpath.node import system, tools
from goldenpath.node.errors import PACKAGES_FIX, NodeError

PODMAN_DOCKER = Path("/usr/bin/docker")
"""podman-docker's ``docker`` (a shell script that runs podman)."""
LIBPOD_PARENT = "libpod_parent"
"""podman's cgroup parent with cgroupfs (``/libpod_parent/libpod-<id>`` per container)."""
IMAGES_FILE = "images.txt"


def check() -> None:
    """Raise :class:`NodeError` when podman or podman-docker is missing."""
    tools.require("podman")
    if not PODMAN_DOCKER.is_file():
        raise NodeError(f"podman-docker is not installed ({PODMAN_DOCKER} is missing): {PACKAGES_FIX}")


def wrapper(podman: str, root: Path, platform_registry: str, registry_address: str) -> str:
    """The session's ``docker`` (and ``podman``): podman, the names it is given, a proxy for pushes.

    ``podman push`` ignores registries.conf's ``location`` and goes to the platform registry's
    host itself. The local registry serves proxy-style requests (absolute URIs) as its own, so an
    HTTP proxy pointing at it takes the push there. Only for commands with a ``push`` argument:
    in a build podman passes HTTP_PROXY on to ``RUN`` steps (containers.conf's ``http_proxy =
    false`` does not stop it), where it would break apt-get and other plain-HTTP fetches.
    """
    proxy = f"http://{registry_address}"
    return "\n".join(
        [
            "#!/bin/sh",
            "# docker in a goldenpath real-node session: podman with the session's configuration",
            'for arg in "$@"; do',
            '  case "$arg" in',
            f"    *{platform_registry}/*) printf '%s\\n' \"$arg\" >> '{root / IMAGES_FILE}' ;;",
            "  esac",
            "done",
            'for arg in "$@"; do',
            '  if [ "$arg" = push ]; then',
            f"    export HTTP_PROXY={proxy} http_proxy={proxy}",
            "    break",
            "  fi",
            "done",
            f'exec {podman} "$@"',
            "",
        ]
    )


def config_files(root: Path, platform_registry: str, registry_address: str) -> dict[str, str]:
    """File name (under ``root``) -> content: storage.conf, registries.conf, containers.conf."""
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 1048576)

    def q(value: object) -> str:
        return json.dumps(str(value))  # a JSON string is a TOML basic string

    storage = (
        f'[storage]\ndriver = "overlay"\ngraphroot = {q(root / "storage")}\nrunroot = {q(root / "run")}\n'
    )
    registries = "\n".join(
        [
            "# the platform registry is the sandbox's local registry, over plain HTTP",
            "unqualified-search-registries = []",
            'short-name-mode = "disabled"',
            "",
            "[[registry]]",
            f"prefix = {q(platform_registry)}",
            f"location = {q(registry_address)}",
            "insecure = true",
            "",
        ]
    )
    containers = "\n".join(
        [
            "[containers]",
            'netns = "host"',
            'cgroupns = "host"',
            'log_driver = "k8s-file"',
            "# podman raises nofile and nproc to the maximum for root's containers, which runc cannot",
            "# without CAP_SYS_RESOURCE ('error setting rlimit type 7'); these limits it can set",
            f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc=4096:4096"]',
            "",
            "[engine]",
            'cgroup_manager = "cgroupfs"',
            'events_logger = "file"',
            f"events_logfile_path = {q(root / 'events.log')}",
            'lock_type = "file"',
            f"tmp_dir = {q(root / 'libpod-tmp')}",
            f"static_dir = {q(root / 'storage' / 'libpod')}",
            f"volume_path = {q(root / 'storage' / 'volumes')}",
            'runtime = "runc"',
            "",
            "[network]",
            'network_backend = "cni"',
            f"network_config_dir = {q(root / 'cni')}",
            'cni_plugin_dirs = ["/usr/lib/cni"]',
            "",
        ]
    )
    return {"storage.conf": storage, "registries.conf": registries, "containers.conf": containers}


def prepare(root: Path, *, platform_registry: str, registry_address: str, path: str) -> dict[str, str]:
    """Write a session's podman configuration into ``root``; the environment variables to set
    (``path``: the session's PATH, which the wrappers go in front of)."""
    if not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]+)?", platform_registry):
        raise NodeError(
            f"the platform registry {platform_registry!r} is not a host name: fix [tool.goldenpath]"
        )
    check()
    for sub in ("storage", "run", "libpod-tmp", "cni", "config", "data", "xdg-run", "bin"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, content in config_files(root, platform_registry, registry_address).items():
        (root / name).write_text(content)
    (root / "xdg-run").chmod(0o700)
    # podman push fails with "stat auth.json: no such file" when REGISTRY_AUTH_FILE is missing
    (root / "auth.json").write_text('{"auths": {}}\n')
    (root / "auth.json").chmod(0o600)
    script = wrapper(tools.require("podman"), root, platform_registry, registry_address)
    for name in ("docker", "podman"):
        (root / "bin" / name).write_text(script)
        (root / "bin" / name).chmod(0o755)
    return {
        "PATH": f"{root / 'bin'}:{path}",
        "CONTAINERS_CONF": str(root / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(root / "storage.conf"),
        "CONTAINERS_REGISTRIES_CONF": str(root / "registries.conf"),
        "BUILDAH_ISOLATION": "chroot",
        "REGISTRY_AUTH_FILE": str(root / "auth.json"),
        "XDG_RUNTIME_DIR": str(root / "xdg-run"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_DATA_HOME": str(root / "data"),
    }


def named_images(root: Path, platform_registry: str) -> set[str]:
    """The platform registry's image names the session's docker commands named, tag included
    (``--tag=registry.example.com/a/b:1`` counts as ``registry.example.com/a/b:1``)."""
    try:
        lines = (root / IMAGES_FILE).read_text().splitlines()
    except OSError:
        return set()
    names = set()
    for line in lines:
        start = line.find(f"{platform_registry}/")
        if start >= 0:
            name = line[start:].strip()
            last = name.rsplit("/", 1)[-1]
            names.add(name if (":" in last or "@" in last) else f"{name}:latest")
    return names


def container_ids(root: Path) -> list[str]:
    """Ids of the containers in the session's store (``docker run``, build containers)."""
    containers = root / "storage" / "overlay-containers"
    return [d.name for d in containers.iterdir() if d.is_dir()] if containers.is_dir() else []


def cleanup(root: Path, env: dict[str, str] | None) -> list[str]:
    """Put the host back after a session: containers, processes, cgroups, mounts, the store.

    With the session's ``env``, ``podman rm --all --force`` first; whatever is left is then
    killed, unmounted and removed. Returns what had to be removed by force, one line each.
    """
    if not root.exists():
        return []
    leftovers: list[str] = []
    ids = container_ids(root)
    if env is not None and ids:
        with contextlib.suppress(NodeError):
            tools.run([tools.require("podman"), "rm", "--all", "--force", "--time", "0"], env=env, timeout=60)
    marker = str(root)
    pids = set(host.mentioning(marker))
    pids |= set(host.carrying("CONTAINERS_STORAGE_CONF", str(root / "storage.conf")))
    for cid in ids:
        pids |= system.cgroup_pids(f"{LIBPOD_PARENT}/libpod-{cid}")
    if pids:
        host.kill_pids(pids)
        leftovers.append(
            f"killed {len(pids)} processes left by docker commands ({', '.join(map(str, sorted(pids)))})"
        )
    for cid in ids:
        relative = f"{LIBPOD_PARENT}/libpod-{cid}"
        if system.cgroup_dirs(relative):
            system.kill_cgroups(relative)
            system.remove_cgroups(relative)
            leftovers.append(f"removed the cgroup {relative} of a container")
    for mount in system.cgroup_mounts():
        # podman makes these on demand in every hierarchy and never removes them; they go when
        # no session uses them any more (rmdir fails while one does)
        for folder in (mount / LIBPOD_PARENT / "conmon", mount / LIBPOD_PARENT):
            with contextlib.suppress(OSError):
                folder.rmdir()
    if system.mounts_under([str(root)]):
        system.unmount_all([str(root)])
    shutil.rmtree(root, ignore_errors=True)
    return leftovers
