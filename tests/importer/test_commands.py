"""How imported shell commands are read: sessions, background processes, what they need."""

from __future__ import annotations

import pytest

from goldenpath.importer import commands
from goldenpath.lint.rules import find_secrets


def test_a_session_splits_into_commands_and_their_output() -> None:
    session = "$ kubectl get pods \\\n    -l app=web\nNAME   READY\nweb-1  1/1\n$ echo done\ndone\n"
    assert commands.split_session(session) == [
        ("kubectl get pods \\\n    -l app=web", "NAME   READY\nweb-1  1/1\n"),
        ("echo done", "done\n"),
    ]
    assert commands.split_session("ls -l\n") == [("ls -l", "")]


@pytest.mark.parametrize(
    ("command", "ready"),
    [
        ("kubectl port-forward svc/web 8080:80", {"port": 8080, "timeout": 30}),
        ("python3 -m http.server 9000", {"port": 9000, "timeout": 30}),
        ("python -m http.server", {"port": 8000, "timeout": 30}),
        ("kubectl proxy", {"port": 8001, "timeout": 30}),
        ("kubectl get pods --watch", None),
        ("kubectl logs -f deploy/web", None),
    ],
)
def test_long_running_commands_are_background_with_a_proposed_readiness(
    command: str, ready: dict[str, int] | None
) -> None:
    assert commands.background(command) == (True, ready)


def test_commands_that_end_are_not_background() -> None:
    assert commands.background("kubectl get pods -o wide") == (False, None)
    assert commands.needs("kubectl apply -f x.yaml") == ["cluster"]
    assert commands.needs("docker build -t app . && docker push app") == ["images"]
    assert commands.needs("echo kubectl") == []


def test_secrets_and_placeholders_become_parameters() -> None:
    found = commands.Parameters()
    run, told = commands.prepare("login --token=abcd1234efgh --user <user-name> {{ not jinja }}", found)
    assert run == "login --token={{ token }} --user {{ user_name }} {{ '{{' }} not jinja }}"
    assert found.found["token"]["secret"] is True and found.found["user_name"]["default"] == "user-name"
    assert any("secret parameter 'token'" in line for line in told)
    again, _ = commands.prepare("echo abcd1234efgh", found)  # the same value elsewhere, too
    assert again == "echo {{ token }}"


def test_a_file_path_is_no_hard_coded_secret() -> None:
    assert list(find_secrets("kubectl create secret generic x --from-file=password=./password.txt")) == []
    assert list(find_secrets("tool --password=hunter2hunter2")) != []
