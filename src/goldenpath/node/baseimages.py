"""The platform's base images, built on this machine from Debian packages and cached.

A recipe (the ``base_images`` setting, ``checks/base-images.yaml``) names an image and says how
to make it: debootstrap a Debian suite with a few packages, delete what an image does not need,
pack the root filesystem as one layer with an image config on top. The archive is cached under a
name holding a hash of the recipe, so a changed recipe rebuilds and an unchanged one costs
nothing; the node pushes it to its fresh registry at every start.

Not bit-reproducible (file times differ between builds); the cache key is the recipe.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from goldenpath.errors import Problem
from goldenpath.node import oci, system, tools
from goldenpath.node.errors import NodeError
from goldenpath.spec.convert import convert_document

BUILDER_VERSION = "1"
"""Part of every cache key: bump it when the way images are built changes."""


@dataclass(frozen=True)
class Recipe:
    """One base image: a Debian root filesystem and the image config on top."""

    name: str
    """The full image name, ``registry.example.com/platform/python:3.11``."""
    suite: str = "bookworm"
    """The Debian suite to debootstrap."""
    variant: str = "minbase"
    """debootstrap's ``--variant``."""
    packages: tuple[str, ...] = ()
    """Debian packages to add (debootstrap's ``--include``)."""
    remove: tuple[str, ...] = ()
    """Absolute paths (globs) deleted from the root filesystem before it is packed."""
    env: Mapping[str, str] = field(default_factory=dict)
    """The image's environment (a Dockerfile's ENV)."""
    cmd: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    workdir: str = ""
    mirror: str = ""
    """A Debian mirror URI; empty: the one this machine's apt uses."""

    def key(self) -> str:
        """The cache key: a hash of everything that makes the image what it is."""
        recipe = json.dumps(asdict(self), sort_keys=True, default=dict)
        return hashlib.sha256(f"{recipe}\0{BUILDER_VERSION}".encode()).hexdigest()[:16]

    def archive_name(self) -> str:
        """The cache file's name: the image's path and the recipe's key."""
        slug = "".join(c if c.isalnum() else "-" for c in self.name.split("/", 1)[-1])
        return f"{slug}-{self.key()}.oci.tar"

    def config(self) -> oci.ImageConfig:
        """The OCI image config the recipe asks for."""
        env = tuple(f"{k}={v}" for k, v in self.env.items())
        return oci.ImageConfig(env=env, cmd=self.cmd, entrypoint=self.entrypoint, workdir=self.workdir)


@dataclass(frozen=True)
class RecipeFile:
    """The recipes file: ``images:``, a list of :class:`Recipe`."""

    images: tuple[Recipe, ...]
    """Required, so that a problem in one recipe never hides the others' (an optional field
    with a problem keeps its default)."""


def load_recipes(path: Path) -> tuple[Recipe, ...]:
    """The recipes in ``path``; every problem in it at once, each with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NodeError(f"cannot read the base image recipes {path}: {exc.strerror}") from exc
    document, lines, problems = convert_document(path, text, RecipeFile)
    recipes = tuple(r for r in (document.images if document is not None else ()) if r is not None)
    for index, recipe in enumerate(recipes):
        if "/" not in recipe.name:
            where = f"images[{index}].name"
            hint = "write the full name, e.g. registry.example.com/platform/python:3.11"
            problems.append(
                Problem(path, lines.get(where), where, f"'{recipe.name}' has no registry host", hint)
            )
        for pattern in recipe.remove:
            if not pattern.startswith("/") or ".." in Path(pattern).parts:
                where = f"images[{index}].remove"
                hint = "write an absolute path inside the image, without '..'"
                problems.append(
                    Problem(path, lines.get(where), where, f"'{pattern}' is not inside the image", hint)
                )
    if problems:
        raise NodeError("; ".join(str(p) for p in problems))
    return recipes


def archive(recipe: Recipe, cache_dir: Path, *, say: Callable[[str], None]) -> Path:
    """The recipe's OCI archive from the cache, or built now (about a minute, said first)."""
    path = cache_dir / recipe.archive_name()
    if path.is_file():
        return path
    say(f"building base image {recipe.name} from Debian {recipe.suite} (first time, about a minute)")
    started = time.monotonic()
    build(recipe, path)
    say(f"built {recipe.name} in {time.monotonic() - started:.0f}s ({path.stat().st_size / 1e6:.0f} MB)")
    return path


def system_mirror() -> str:
    """The Debian archive URI this machine's apt uses (or ``GOLDENPATH_DEBIAN_MIRROR``)."""
    if os.environ.get("GOLDENPATH_DEBIAN_MIRROR"):
        return os.environ["GOLDENPATH_DEBIAN_MIRROR"]
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        if not source.is_file() or source.suffix not in ("", ".list", ".sources"):
            continue
        for line in source.read_text().splitlines():
            words = line.split()
            if source.suffix == ".sources" and words[:1] == ["URIs:"]:
                uris = [u for u in words[1:] if "security" not in u]
            elif words[:1] == ["deb"]:
                uris = [w for w in words[1:] if w.startswith("http") and "security" not in w]
            else:
                continue
            if uris:
                return uris[0]
    raise NodeError(
        "no Debian mirror in /etc/apt/sources.list{,.d}: set GOLDENPATH_DEBIAN_MIRROR to a Debian archive URI"
    )


def build(recipe: Recipe, archive_path: Path) -> None:
    """debootstrap, trim, tar and pack one base image into ``archive_path`` (written atomically)."""
    debootstrap = tools.require("debootstrap")
    tar = tools.require("tar")
    mirror = recipe.mirror or system_mirror()
    cache_dir = archive_path.parent
    debs = cache_dir / "debootstrap-debs"
    debs.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".build-{recipe.key()}-", dir=cache_dir))
    rootfs = folder / "rootfs"
    try:
        command = [debootstrap, f"--variant={recipe.variant}", f"--cache-dir={debs}"]
        if recipe.packages:
            command.append("--include=" + ",".join(recipe.packages))
        tools.run(
            [*command, recipe.suite, str(rootfs), mirror],
            what=f"debootstrap {recipe.suite} (for {recipe.name})",
            timeout=1800,
            hint=f"is the Debian mirror {mirror} reachable?",
        )
        _trim(rootfs, recipe)
        layer = folder / "layer.tar"
        tools.run(
            [
                tar,
                "--create",
                "--file",
                str(layer),
                "--directory",
                str(rootfs),
                "--numeric-owner",
                "--xattrs",
                "--xattrs-include=*",
                "--sort=name",
                "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
                ".",
            ],
            what=f"tar (the layer of {recipe.name})",
            timeout=600,
        )
        history = f"debootstrap {recipe.suite} {' '.join(recipe.packages)}"
        oci.write_archive(archive_path, recipe.name, [layer], recipe.config(), history=history)
    finally:
        # debootstrap mounts proc and sys in the target: never delete through a mount
        system.unmount_all([str(folder)])
        shutil.rmtree(folder, ignore_errors=True)


def _trim(rootfs: Path, recipe: Recipe) -> None:
    for pattern in recipe.remove:
        for match in glob.glob(str(rootfs) + pattern):
            _delete(Path(match))
    # what the runtime provides, or the build host leaked into the image: emptied
    for folder in ("dev", "proc", "sys", "run", "tmp"):
        for child in (rootfs / folder).glob("*"):
            _delete(child)
    for leaked in ("etc/resolv.conf", "etc/hostname", "etc/hosts"):
        target = rootfs / leaked
        if target.exists() or target.is_symlink():
            target.unlink()
            target.write_text("")
    shutil.rmtree(rootfs / "debootstrap", ignore_errors=True)
    if recipe.workdir:
        (rootfs / recipe.workdir.lstrip("/")).mkdir(parents=True, exist_ok=True)


def _delete(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
