"""Rendering guides with parameter values: files, commands, manifests and every error on the way."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment

from goldenpath.errors import Problem, UserError
from goldenpath.render.jinja import jinja_env
from goldenpath.render.renderer import render_all, render_guide
from goldenpath.render.scaffold import scaffold
from goldenpath.spec.loader import load_guides
from goldenpath.spec.model import Guide
from helpers import GOLDEN, build_file_tree

GOLDEN = GOLDEN

GUIDE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  id: {id}
  title: Deploy a service
  summary: Write the manifests of a service.
  owner: "@acme/platform"
  stage: integrate
spec:
  type: how-to
  parameters:
    - name: service_name
      description: Name of the service.
      default: hello
      pattern: "^[a-z][a-z0-9-]*$"
    - name: replicas
      type: integer
      description: How many pods.
      default: 1
    - name: port
      type: port
      description: Container port.
      default: 8080
  steps:
    - id: create-app
      title: Create the app
      explain: The service {{{{ service_name }}}} answers on port {{{{ port }}}}.
      file: {{path: "{{{{ service_name }}}}/app.py", template: app.py.j2}}
    - id: write-manifests
      title: Write the manifests
      file: {{path: "{{{{ service_name }}}}/deploy.yaml", template: deploy.yaml.j2}}
    - id: check-files
      title: Check the files
      hidden: true
      run: test -f {{{{ service_name }}}}/deploy.yaml && echo '<ok>'
    - id: apply
      title: Apply them
      run: kubectl apply -f {{{{ service_name }}}}/deploy.yaml
      expect:
        contains: ["deployment.apps/{{{{ service_name }}}}"]
  cleanup:
    - id: delete
      title: Delete them
      run: kubectl delete -f {{{{ service_name }}}}/deploy.yaml
"""

APP = '''\
"""{{ service_name }}: a tiny HTTP service."""

PORT = {{ port }}
'''

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ service_name }}
  labels:
{%- for key, value in {"app": service_name, "tier": "web"}.items() %}
    {{ key }}: {{ value }}
{%- endfor %}
spec:
  replicas: {{ replicas }}
  selector:
    matchLabels: {app: {{ service_name }}}
  template:
    metadata:
      labels: {app: {{ service_name }}}
    spec:
      containers:
        - name: app
          image: registry.example/{{ service_name }}:1.0
          ports:
            - containerPort: {{ port }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ service_name }}
spec:
  selector: {app: {{ service_name }}}
  ports:
    - port: 80
      targetPort: {{ port }}
"""


def make_guides(root: Path, **guides: dict[str, str]) -> list[Guide]:
    """Write guides ``{id: {relative_path: text}}`` under ``root`` and load them."""
    files: dict[str, str] = {}
    for guide_id, tree in guides.items():
        tree = {"guide.yaml": GUIDE.format(id=guide_id), **tree}
        files.update({f"{guide_id}/{path}": text for path, text in tree.items()})
    build_file_tree(root, files)
    return load_guides(root)


@pytest.fixture
def guide(tmp_path: Path) -> Guide:
    (loaded,) = make_guides(tmp_path, deploy={"templates/app.py.j2": APP, "templates/deploy.yaml.j2": DEPLOY})
    return loaded


def render_problems(guide: Guide, values: dict[str, object] | None = None) -> list[Problem]:
    with pytest.raises(UserError) as info:
        render_guide(guide, values)
    assert info.value.exit_code == 2
    return info.value.problems


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# The environment.


def test_one_sandboxed_strict_environment() -> None:
    env = jinja_env()
    assert isinstance(env, SandboxedEnvironment)
    assert env.undefined is jinja2.StrictUndefined
    assert env.keep_trailing_newline is True
    assert env.autoescape is False
    assert env.from_string("a <b> & 'c'\n\n").render() == "a <b> & 'c'\n\n"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nope }}").render()


def test_sandbox_refuses_unsafe_attributes() -> None:
    with pytest.raises(jinja2.sandbox.SecurityError):
        jinja_env().from_string("{{ ''.__class__.__mro__ }}").render()


# A guide rendered with values.


def test_rendered_manifest_matches_golden_file(guide: Guide) -> None:
    rendered = render_guide(guide, {"service_name": "shop", "replicas": 3, "port": 9000})
    manifest = rendered.files[1]
    assert manifest.path == "shop/deploy.yaml"
    assert manifest.is_manifest
    assert manifest.language == "yaml"
    assert manifest.template == guide.templates_dir / "deploy.yaml.j2"
    golden = GOLDEN / "manifest-deployment.yaml"
    if os.environ.get("GOLDENPATH_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(manifest.content, encoding="utf-8")
    assert manifest.content == golden.read_text(encoding="utf-8"), (
        "rendered manifest differs from the golden file; "
        "rerun with GOLDENPATH_UPDATE_GOLDEN=1 if the change is intended"
    )


def test_every_reader_visible_string_is_rendered(guide: Guide) -> None:
    rendered = render_guide(guide, {"service_name": "shop", "replicas": 2, "port": 9000})
    app = rendered.files[0]
    assert (app.path, app.language, app.is_manifest) == ("shop/app.py", "python", False)
    assert app.content == '"""shop: a tiny HTTP service."""\n\nPORT = 9000\n'
    steps = {s.id: s for s in (*rendered.steps, *rendered.cleanup)}
    assert steps["create-app"].explain == "The service shop answers on port 9000."
    # No HTML escaping: the command a reader copies is the command that runs.
    assert steps["check-files"].run == "test -f shop/deploy.yaml && echo '<ok>'"
    assert steps["apply"].commands == ("kubectl apply -f shop/deploy.yaml",)
    assert steps["apply"].expect.contains == ("deployment.apps/shop",)
    assert steps["delete"].run == "kubectl delete -f shop/deploy.yaml"
    assert [(s.id, s.number) for s in rendered.steps] == [
        ("create-app", 1),
        ("write-manifests", 2),
        ("check-files", None),
        ("apply", 3),
    ]
    assert [s.section for s in rendered.cleanup] == ["cleanup"]


def test_page_values_are_the_default(guide: Guide) -> None:
    rendered = render_guide(guide)
    assert rendered.values == {"service_name": "hello", "replicas": 1, "port": 8080}
    assert rendered.files[0].path == "hello/app.py"


def test_keep_trailing_newline(tmp_path: Path) -> None:
    (guide,) = make_guides(
        tmp_path,
        deploy={
            "templates/app.py.j2": "PORT = {{ port }}\n\n",
            "templates/deploy.yaml.j2": DEPLOY,
        },
    )
    assert render_guide(guide).files[0].content == "PORT = 8080\n\n"


# Template problems.


def test_undefined_variable_in_a_template_names_the_file_and_line(guide: Guide) -> None:
    rewrite(guide.templates_dir / "app.py.j2", "PORT = {{ port }}", "PORT = {{ prot }}")
    (problem,) = render_problems(guide)
    assert problem.file == guide.templates_dir / "app.py.j2"
    assert problem.line == 3
    assert problem.message == "undefined template variable: 'prot' is undefined"
    assert problem.hint == "did you mean 'port'?"


def test_undefined_variable_in_a_command_names_the_spec_line(guide: Guide) -> None:
    rewrite(guide.source, "kubectl apply -f {{ service_name }}", "kubectl apply -f {{ ns }}")
    (guide,) = load_guides(guide.folder.parent)
    (problem,) = render_problems(guide)
    assert (problem.file, problem.line, problem.path) == (guide.source, 38, "spec.steps[3].run")
    assert problem.message == "undefined template variable: 'ns' is undefined"
    assert problem.hint.startswith("declare it under spec.parameters")
    assert "service_name, replicas, port" in problem.hint


@pytest.mark.parametrize("name", ["namespace", "range", "lipsum"])
def test_undeclared_name_of_a_jinja_global_is_an_error(guide: Guide, name: str) -> None:
    # `{{ namespace }}` must not put "<class 'jinja2.utils.Namespace'>" into a command.
    rewrite(guide.source, "kubectl apply -f {{ service_name }}", f"kubectl -n {{{{ {name} }}}}")
    (guide,) = load_guides(guide.folder.parent)
    (problem,) = render_problems(guide)
    assert (problem.line, problem.path) == (38, "spec.steps[3].run")
    assert problem.message.startswith("template error: cannot print ")
    assert "it is a Jinja2 built-in" in problem.message


def test_jinja_globals_still_work_as_functions() -> None:
    env = jinja_env()
    text = "{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}"
    assert env.from_string(text + "{{ ns.n }} {{ dict(a=1) }}").render() == "3 {'a': 1}"


def test_syntax_error_in_a_template_names_the_file_and_line(guide: Guide) -> None:
    rewrite(guide.templates_dir / "app.py.j2", "PORT = {{ port }}", "PORT = {{ port }")
    (problem,) = render_problems(guide)
    assert (problem.file, problem.line) == (guide.templates_dir / "app.py.j2", 3)
    assert problem.message.startswith("template syntax error: ")


def test_syntax_error_in_a_spec_string(tmp_path: Path) -> None:
    build_file_tree(
        tmp_path,
        {
            "deploy/guide.yaml": GUIDE.format(id="deploy").replace("Apply them", "Apply {% if %}"),
            "deploy/templates/app.py.j2": APP,
            "deploy/templates/deploy.yaml.j2": DEPLOY,
        },
    )
    (guide,) = load_guides(tmp_path)
    # The title is shown verbatim; only the command, texts and expectations are templates.
    assert render_guide(guide).steps[3].title == "Apply {% if %}"
    rewrite(guide.source, "echo '<ok>'", "echo {% if %}")
    (guide,) = load_guides(tmp_path)
    (problem,) = render_problems(guide)
    assert (problem.line, problem.path) == (35, "spec.steps[2].run")
    assert problem.message.startswith("template syntax error: ")


@pytest.mark.parametrize(
    "expression",
    ["{{ ''.__class__.__mro__ }}", "{{ service_name.__class__ }}", "{{ cycler.__init__ }}"],
)
def test_unsafe_access_is_a_template_error_not_a_crash(tmp_path: Path, expression: str) -> None:
    (guide,) = make_guides(
        tmp_path,
        deploy={
            "templates/app.py.j2": f"# one\nX = {expression}\n",
            "templates/deploy.yaml.j2": DEPLOY,
        },
    )
    (problem,) = render_problems(guide)
    assert problem.file == guide.templates_dir / "app.py.j2"
    assert problem.line == 2
    assert problem.message.startswith("template error: access to attribute '__")
    assert "is unsafe" in problem.message


def test_unsafe_access_in_a_command(guide: Guide, tmp_path: Path) -> None:
    rewrite(guide.source, "echo '<ok>'", "echo {{ ''.__class__.__mro__ }}")
    (guide,) = load_guides(tmp_path)
    (problem,) = render_problems(guide)
    assert (problem.file, problem.path) == (guide.source, "spec.steps[2].run")
    assert "access to attribute '__class__' of 'str' object is unsafe" in problem.message


def test_manifest_problem_names_template_rendered_line_and_path(guide: Guide) -> None:
    rewrite(
        guide.templates_dir / "deploy.yaml.j2",
        "          ports:\n",
        "          imagePullPolcy: Always\n          ports:\n",
    )
    (problem,) = render_problems(guide)
    assert problem.file == guide.templates_dir / "deploy.yaml.j2"
    # The label loop renders one line less than the template has: the message gives the
    # rendered line, the location the template line that produced it.
    assert problem.line == 20
    assert problem.message == (
        "invalid Kubernetes manifest (rendered hello/deploy.yaml line 19 at "
        "spec.template.spec.containers[0].imagePullPolcy): unknown field imagePullPolcy"
    )
    assert problem.hint == "check the spelling against the Kubernetes API reference"


def test_manifest_problem_caused_by_a_value(guide: Guide) -> None:
    (problem,) = render_problems(guide, {"service_name": "x", "replicas": "two", "port": 80})
    assert problem.line == 10
    assert "line 9 at spec.replicas): 'two' is not of type 'integer'" in problem.message


def test_every_problem_of_a_guide_is_collected(guide: Guide) -> None:
    rewrite(guide.templates_dir / "app.py.j2", "{{ port }}", "{{ prot }}")
    rewrite(guide.templates_dir / "deploy.yaml.j2", "replicas: {{ replicas }}", "replicas: x")
    rewrite(guide.source, "kubectl delete -f {{ service_name }}", "kubectl delete -f {{ svc }}")
    (guide,) = load_guides(guide.folder.parent)
    problems = render_problems(guide)
    assert [(Path(p.file).name, p.line) for p in problems] == [
        ("app.py.j2", 3),
        ("deploy.yaml.j2", 10),
        ("guide.yaml", 44),
    ]


def test_render_all_collects_problems_from_several_guides(tmp_path: Path) -> None:
    good = {"templates/app.py.j2": APP, "templates/deploy.yaml.j2": DEPLOY}
    guides = make_guides(
        tmp_path,
        alpha={**good, "templates/app.py.j2": "{{ nope }}\n"},
        beta=good,
        gamma={**good, "templates/deploy.yaml.j2": DEPLOY.replace("kind: Service", "kind: Srv")},
    )
    with pytest.raises(UserError) as info:
        render_all(guides)
    assert [(Path(p.file).parts[-3], p.line) for p in info.value.problems] == [
        ("alpha", 1),
        ("gamma", 24),
    ]
    assert "unknown kind Srv in v1" in info.value.problems[1].message
    assert [r.id for r in render_all(guides[1:2])] == ["beta"]


# Content hash.


def test_content_hash_follows_the_spec_and_templates_not_the_values(guide: Guide) -> None:
    first = render_guide(guide).content_hash()
    assert len(first) == 16
    assert render_guide(guide).content_hash() == first
    # Run values (free ports) differ per run; the hash must not.
    assert render_guide(guide, {"service_name": "x", "replicas": 1, "port": 1}).content_hash() == first
    (guide.folder / "NOTES.md").write_text("not part of the guide\n")
    assert render_guide(guide).content_hash() == first

    rewrite(guide.templates_dir / "deploy.yaml.j2", "image: registry", "image: mirror")
    assert render_guide(guide).content_hash() != first
    rewrite(guide.templates_dir / "deploy.yaml.j2", "image: mirror", "image: registry")
    assert render_guide(guide).content_hash() == first

    rewrite(guide.source, "title: Apply them", "title: Apply the manifests")
    assert render_guide(guide).content_hash() != first


# Scaffold.


def test_scaffold_writes_the_files_and_never_overwrites(guide: Guide, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    written = scaffold(guide, dest, {"service_name": "shop"})
    assert written == [dest / "shop/app.py", dest / "shop/deploy.yaml"]
    assert "name: shop" in (dest / "shop/deploy.yaml").read_text()
    (dest / "shop/deploy.yaml").write_text("mine\n")
    (dest / "shop/app.py").unlink()
    with pytest.raises(UserError) as info:
        scaffold(guide, dest, {"service_name": "shop"})
    (problem,) = info.value.problems
    assert (problem.file, problem.message) == (dest / "shop/deploy.yaml", "file already exists")
    assert (dest / "shop/deploy.yaml").read_text() == "mine\n"
    assert not (dest / "shop/app.py").exists()
