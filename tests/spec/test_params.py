"""Parameter values: checks per type, `--set` parsing, page values and run values."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import UserError
from goldenpath.spec.model import Guide, GuideSpec, Metadata, Parameter, Step
from goldenpath.spec.params import (
    check_default,
    check_value,
    free_port,
    page_values,
    parse_assignments,
    run_values,
)


def param(name: str = "value", **kwargs: Any) -> Parameter:
    kwargs.setdefault("description", f"The {name}.")
    return Parameter(name=name, **kwargs)


PARAMS = (
    param("service_name", default="shop", pattern=r"^[a-z][a-z0-9-]{1,30}$"),
    param("port", type="port", default=8080),
    param("replicas", type="integer", default=2, choices=(1, 2, 3)),
    param("ratio", type="number", default=0.5),
    param("debug", type="boolean", default=False),
    param("token", secret=True),
    param("password", secret=True, env="DB_PASSWORD", default="dev-only"),
)


def make_guide(*parameters: Parameter) -> Guide:
    return Guide(
        api_version="goldenpath.dev/v1",
        kind="GoldenPath",
        metadata=Metadata(id="demo", title="Demo", summary="Demo.", owner="@acme", stage="build"),
        spec=GuideSpec(
            type="how-to",
            parameters=parameters or PARAMS,
            steps=(Step(id="say", title="Say", run="echo {{ service_name }}"),),
        ),
        source=Path("/golden_paths/demo/guide.yaml"),
        lines={"spec.parameters[0]": 14, "spec.parameters[5]": 30},
    )


# check_value / check_default


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        (param(), "anything"),
        (param(pattern="^[a-z]+$"), "abc"),
        (param(choices=("red", "blue")), "blue"),
        (param(type="integer"), -3),
        (param(type="integer", choices=(1, 2)), 2),
        (param(type="number"), 1.5),
        (param(type="number"), 2),
        (param(type="boolean"), True),
        (param(type="boolean"), False),
        (param(type="port"), 1),
        (param(type="port"), 65535),
    ],
)
def test_good_values(parameter: Parameter, value: Any) -> None:
    assert check_value(parameter, value) == []


@pytest.mark.parametrize(
    ("parameter", "value", "message", "hint"),
    [
        (param(), 42, "'value' must be text, got 42", "put the value in quotes"),
        (param(type="integer"), "3", "'value' must be an integer, got '3'", "whole number"),
        (param(type="integer"), 1.5, "must be an integer, got 1.5", "whole number"),
        (param(type="integer"), True, "must be an integer, got True", "whole number"),
        (param(type="number"), "fast", "'value' must be a number, got 'fast'", "write a number"),
        (param(type="number"), False, "must be a number, got False", "write a number"),
        (param(type="boolean"), "yes", "must be true or false, got 'yes'", "true or false"),
        (param(type="boolean"), 1, "must be true or false, got 1", "true or false"),
        (param(type="port"), 0, "port 0 is out of range", "use 1-65535"),
        (param(type="port"), 65536, "port 65536 is out of range", "use 1-65535"),
        (param(type="port"), "http", "must be an integer, got 'http'", "whole number"),
        (
            param(pattern="^[a-z]+$"),
            "abc1",
            "'abc1' does not match the pattern ^[a-z]+$ of 'value'",
            "The value.",
        ),
        (param(choices=("red", "blue")), "green", "'green' is not one of red, blue", "red, blue"),
        (param(type="integer", choices=(1, 2)), 3, "'3' is not one of 1, 2", "choose one of"),
    ],
)
def test_bad_values(parameter: Parameter, value: Any, message: str, hint: str) -> None:
    problems = check_value(parameter, value)
    assert len(problems) == 1, problems
    assert problems[0][0].endswith(message)
    assert hint in problems[0][1]


def test_pattern_matches_the_whole_value() -> None:
    assert check_value(param(pattern="[a-z]+"), "abc-def") != []


def test_pattern_problem_without_description_suggests_the_pattern() -> None:
    ((_, hint),) = check_value(param(pattern="^x$", description=""), "y")
    assert hint == "choose a value matching ^x$"


def test_check_default() -> None:
    assert check_default(param(default="ok")) == []
    assert check_default(param(secret=True)) == []
    assert check_default(param()) == [
        ("parameter 'value' has no default", "add a default so the page and the checks have a value")
    ]
    assert check_default(param(type="port", default=99999)) == [("port 99999 is out of range", "use 1-65535")]
    ((message, hint),) = check_default(param(default="x", pattern="(["))
    assert message.startswith("invalid pattern for 'value': ")
    assert hint == "fix the regular expression"


# parse_assignments


def test_parse_assignments_coerces_to_the_parameter_type() -> None:
    values = parse_assignments(
        [
            "service_name=cart",
            "port=9090",
            "replicas=3",
            "ratio=0.25",
            "debug=yes",
            "token=a=b",
        ],
        make_guide(),
    )
    assert values == {
        "service_name": "cart",
        "port": 9090,
        "replicas": 3,
        "ratio": 0.25,
        "debug": True,
        "token": "a=b",
    }
    assert type(values["port"]) is int
    assert type(values["ratio"]) is float


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("ON", True), ("1", True), ("no", False), ("False", False), ("0", False)],
)
def test_boolean_spellings(text: str, expected: bool) -> None:
    assert parse_assignments([f"debug={text}"], make_guide()) == {"debug": expected}


def test_no_assignments() -> None:
    assert parse_assignments([], make_guide()) == {}


@pytest.mark.parametrize(
    ("pair", "path", "message", "hint"),
    [
        ("service_name=Cart!", "service_name", "'Cart!' does not match the pattern", "The "),
        ("port=http", "port", "'port' must be an integer, got 'http'", "whole number"),
        ("port=70000", "port", "port 70000 is out of range", "use 1-65535"),
        ("replicas=5", "replicas", "'5' is not one of 1, 2, 3", "choose one of: 1, 2, 3"),
        ("ratio=half", "ratio", "'ratio' must be a number, got 'half'", "write a number"),
        ("debug=maybe", "debug", "must be true or false, got 'maybe'", "write true or false"),
        (
            "servce_name=cart",
            "servce_name",
            "'demo' has no parameter 'servce_name'",
            "did you mean 'service_name'?",
        ),
        ("zzz=1", "zzz", "'demo' has no parameter 'zzz'", "known: service_name, port, replicas"),
        ("service_name", "service_name", "expected key=value", "e.g. --set port=8080"),
    ],
)
def test_bad_assignments(pair: str, path: str, message: str, hint: str) -> None:
    with pytest.raises(UserError) as info:
        parse_assignments([pair], make_guide())
    (problem,) = info.value.problems
    assert problem.file == "--set"
    assert problem.path == path
    assert message in problem.message
    assert hint in problem.hint
    assert info.value.exit_code == 2


def test_every_bad_assignment_is_reported() -> None:
    with pytest.raises(UserError) as info:
        parse_assignments(["port=x", "service_name=cart", "nope=1", "debug=maybe"], make_guide())
    assert [p.path for p in info.value.problems] == ["port", "nope", "debug"]


# page_values / run_values


def test_page_values_show_defaults_and_secret_placeholders() -> None:
    assert page_values(make_guide()) == {
        "service_name": "shop",
        "port": 8080,
        "replicas": 2,
        "ratio": 0.5,
        "debug": False,
        "token": "<token>",
        "password": "<password>",
    }
    assert page_values(make_guide(), {"port": 9000})["port"] == 9000


def test_run_values_allocate_a_free_port_and_read_secrets() -> None:
    environ = {"GOLDENPATH_SECRET_TOKEN": "s3cret", "DB_PASSWORD": "hunter2"}
    values, secrets = run_values(make_guide(), environ=environ)
    assert isinstance(values["port"], int)
    assert values["port"] != 8080
    assert 1024 <= values["port"] <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", values["port"]))  # really free
    assert values["service_name"] == "shop"
    assert values["token"] == "s3cret"
    assert values["password"] == "hunter2"
    assert secrets == {"token": "s3cret", "password": "hunter2"}


def test_run_values_use_a_secret_default_when_the_environment_lacks_it() -> None:
    values, secrets = run_values(make_guide(), environ={"GOLDENPATH_SECRET_TOKEN": "t"})
    assert values["password"] == "dev-only"
    assert secrets["password"] == "dev-only"


def test_run_values_name_the_missing_environment_variable() -> None:
    with pytest.raises(UserError) as info:
        run_values(make_guide(), environ={"DB_PASSWORD": "x"})
    (problem,) = info.value.problems
    assert problem.message == "secret 'token' is not set"
    assert "GOLDENPATH_SECRET_TOKEN" in problem.hint
    assert (problem.file, problem.line, problem.path) == (
        Path("/golden_paths/demo/guide.yaml"),
        30,
        "spec.parameters[5]",
    )


def test_run_values_keep_overrides_and_mask_overridden_secrets() -> None:
    values, secrets = run_values(
        make_guide(), {"port": 9999, "token": "from-cli"}, environ={"DB_PASSWORD": "pw"}
    )
    assert values["port"] == 9999
    assert values["token"] == "from-cli"
    assert secrets == {"token": "from-cli", "password": "pw"}


def test_run_values_read_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDENPATH_SECRET_TOKEN", "from-env")
    values, _ = run_values(make_guide(param("token", secret=True)))
    assert values == {"token": "from-env"}


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
