"""The real node's pieces that need no root: OCI archives, the pause and base image recipes, the
registry stand-in (a real ``docker-registry``), image names, and a collection with nothing to do."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from goldenpath.host import free_port
from goldenpath.node import NodeError, collect, oci, pause, podman, registry, tools
from goldenpath.node.baseimages import Recipe, load_recipes
from goldenpath.node.state import HostState, StateFile
from goldenpath.sandbox.realnode import full_name
from helpers import REPO


def test_an_oci_archive_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    program = tmp_path / "program"
    program.write_bytes(b"#!/bin/sh\necho hi\n")
    layer = tmp_path / "layer.tar"
    oci.single_file_layer(layer, "/program", program)
    first, second = tmp_path / "a" / "image.tar", tmp_path / "b" / "image.tar"
    config = oci.ImageConfig(cmd=("/program",))
    digests = [
        oci.write_archive(path, "registry.example.com/x/y:1", [layer], config) for path in (first, second)
    ]
    assert digests[0] == digests[1]
    assert first.read_bytes() == second.read_bytes()
    index = oci.read_index(first)
    assert (
        index["manifests"][0]["annotations"][oci.ANNOTATION_CONTAINERD_NAME] == "registry.example.com/x/y:1"
    )


def test_the_pause_archive_is_packed_once_from_the_binary(tmp_path: Path) -> None:
    binary = tmp_path / "pause"
    binary.write_bytes(b"\x7fELF not really")
    name = pause.image_name("registry.example.com")
    archive = pause.archive(binary, tmp_path / "cache", name)
    assert archive == pause.archive(binary, tmp_path / "cache", name)
    with tarfile.open(archive) as tar:
        assert "index.json" in tar.getnames()
    binary.write_bytes(b"\x7fELF another build")
    assert pause.archive(binary, tmp_path / "cache", name) != archive
    with pytest.raises(NodeError, match="run scripts/build-sandbox-cluster"):
        pause.archive(tmp_path / "missing", tmp_path / "cache", name)


def test_the_project_base_image_recipes_load() -> None:
    recipes = load_recipes(REPO / "checks" / "base-images.yaml")
    assert [r.name for r in recipes] == ["registry.example.com/platform/python:3.11"]
    assert recipes[0].packages == ("python3",) and recipes[0].env["PYTHONUNBUFFERED"] == "1"


def test_every_problem_of_a_recipe_file_is_reported_with_its_line(tmp_path: Path) -> None:
    recipes = tmp_path / "base-images.yaml"
    recipes.write_text("images:\n  - name: python\n    packges: [python3]\n    remove: [usr/share/doc]\n")
    with pytest.raises(NodeError) as error:
        load_recipes(recipes)
    message = str(error.value)
    assert "\n" not in message
    assert f"{recipes}:3: images[0].packges: unknown key 'packges' (did you mean 'packages'?)" in message
    assert "images[0].name: 'python' has no registry host" in message
    assert "'usr/share/doc' is not inside the image" in message


def test_a_recipe_change_changes_the_cache_key() -> None:
    one = Recipe(name="registry.example.com/platform/python:3.11", packages=("python3",))
    two = Recipe(name="registry.example.com/platform/python:3.11", packages=("python3", "curl"))
    assert one.key() == Recipe(name=one.name, packages=("python3",)).key() != two.key()
    assert one.archive_name().startswith("platform-python-3-11-")


def test_the_registry_stand_in_takes_a_push_and_deletes_it(tmp_path: Path, node_packages: None) -> None:
    program = tmp_path / "program"
    program.write_bytes(b"data")
    archive = pause.archive(program, tmp_path / "cache", "registry.example.com/acme/tool:1")
    layout = registry.Layout(tmp_path / "registry", free_port())
    daemon, popen = registry.start(layout)
    try:
        digest = registry.push_archive(layout.address, archive, "registry.example.com/acme/tool:1")
        assert digest.startswith("sha256:")
        assert registry.tags(layout.address, "acme/tool") == ["1"]
        assert registry.delete_image(layout.address, "registry.example.com/acme/tool:1")
        assert registry.tags(layout.address, "acme/tool") == []
        assert not registry.delete_image(layout.address, "registry.example.com/acme/tool:1")
    finally:
        daemon.stop()
        popen.wait(timeout=5)
    assert not daemon.alive()


def test_image_names_are_normalised_as_containerd_names_them() -> None:
    assert full_name("registry.example.com/acme/hello") == "registry.example.com/acme/hello:latest"
    assert full_name("registry.example.com/acme/hello:1.0.0") == "registry.example.com/acme/hello:1.0.0"
    assert full_name("nginx") == "docker.io/library/nginx:latest"
    assert full_name("localhost:5000/a/b@sha256:ab") == "localhost:5000/a/b@sha256:ab"


def test_the_wrappers_record_of_image_names_is_read_back(tmp_path: Path) -> None:
    (tmp_path / podman.IMAGES_FILE).write_text(
        "registry.example.com/acme/hello:1.0.0\n--tag=registry.example.com/acme/web\nregistry.example.com/a/b:2\n"
    )
    assert podman.named_images(tmp_path, "registry.example.com") == {
        "registry.example.com/acme/hello:1.0.0",
        "registry.example.com/acme/web:latest",
        "registry.example.com/a/b:2",
    }
    assert podman.named_images(tmp_path / "nothing", "registry.example.com") == set()


def test_collecting_with_nothing_to_undo_only_removes_the_state_dir(tmp_path: Path) -> None:
    state_dir = tmp_path / "realnode"
    state_dir.mkdir()
    state_file = StateFile(state_dir / "hoststate.json")
    state = HostState(cluster="none", state_dir=str(state_dir))
    state_file.save(state)
    assert state_file.load() == state
    assert collect.collect(state, state_file) == [f"removed the node's state dir {state_dir}"]
    assert collect.collect(state, state_file) == []
    assert state_file.load() is None


def test_a_missing_tool_names_the_script_that_installs_it() -> None:
    with pytest.raises(NodeError, match=r"^no-such-tool is not .*: run scripts/install-node-packages$"):
        tools.require("no-such-tool")
