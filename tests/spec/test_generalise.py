"""Accept mode's generalisation of real output into a "you should see" block."""

from __future__ import annotations

import pytest

from goldenpath.spec.generalise import AcceptError, accepted_block, generalise
from goldenpath.spec.matching import match_output

VALUES = {"service_name": "hello", "replicas": "3", "port": "43121"}


def render(line: str) -> str:
    for name, value in VALUES.items():
        line = line.replace("{{ " + name + " }}", value)
    return line


@pytest.mark.parametrize(
    ("printed", "written"),
    [
        ("hello-7d9f8b6c5-x2kq4   1/1   Running", "{{ service_name }}-<hash>-<hash>   1/1   Running"),
        ("replicaset.apps/hello-6f9c7d8b4 created", "replicaset.apps/{{ service_name }}-<hash> created"),
        ("Namespace:   gp-scale-a-service-3f9a1c2b", "Namespace:   <namespace>"),
        ("Start Time:  Wed, 02 Dec 2026 07:20:01 +0000", "Start Time:  <timestamp>"),
        ("IP:          10.88.0.5", "IP:          <ip>"),
        ("NodePort:    <unset>  31496/TCP", "NodePort:    <unset>  <number>/TCP"),
        ("Container ID:  containerd://3f9a1c2be0d4aa1b2c3d", "Container ID:  containerd://<hash>"),
        ("Pulled in 1.234s (2m3s including waiting)", "Pulled in <duration> (<duration> including waiting)"),
        ("listening on http://127.0.0.1:43121", "listening on http://127.0.0.1:{{ port }}"),
        ("bound to 0.0.0.0:8080", "bound to 0.0.0.0:8080"),
        ("token ***", "token <any>"),
        ("replicas: 3", "replicas: {{ replicas }}"),
        ("restarts: 0 after 3 tries", "restarts: 0 after 3 tries"),
        ("a go template {{ .Name }} {% raw %}", "a go template {{ '{{' }} .Name }} {{ '{%' }} raw %}"),
    ],
)
def test_run_specific_values_become_placeholders(printed: str, written: str) -> None:
    assert generalise(printed, VALUES) == written
    if "{{ '" not in written and "<any>" not in written:
        assert match_output(render(written), printed).ok


def test_a_short_value_becomes_its_name_where_the_old_line_used_it() -> None:
    assert generalise("3/3 ready", VALUES, hint="{{ replicas }}/{{ replicas }} ready") == (
        "{{ replicas }}/{{ replicas }} ready"
    )
    assert generalise("3/3 ready", VALUES) == "3/3 ready"


def test_lines_that_still_match_keep_their_source_and_tables_get_flexible_padding() -> None:
    source = "NAME ... READY\n{{ service_name }}-<hash>-<hash> ... 0/1\n...\n"
    printed = (
        "NAME                    READY   STATUS    AGE\n"
        "hello-7d9f8b6c5-x2kq4   1/1     Running   12s\n"
        "hello-7d9f8b6c5-qzt5m   1/1     Running   9s\n"
    )
    block = accepted_block(source, render, printed, VALUES)
    # The header and the row changed; the second row is one of the lines the skip stands for.
    assert block == (
        "NAME ... READY ... STATUS ... AGE\n"
        "{{ service_name }}-<hash>-<hash> ... 1/1 ... Running ... <duration>\n"
        "...\n"
    )
    assert match_output(render(block), printed).ok
    longer = printed.replace("x2kq4", "x2kq4zz").replace("12s", "3m10s")
    assert match_output(render(block), longer).ok  # other widths, the same block


def test_matching_lines_are_kept_byte_for_byte() -> None:
    source = "Name: {{ service_name }}\nNamespace:  default\n...\nStatus: <any>\n"
    printed = "Name: hello\nNamespace:  gp-demo-0a1b2c3d\nNode: vm\nStatus: Running\n"
    assert accepted_block(source, render, printed, VALUES) == (
        "Name: {{ service_name }}\nNamespace:  <namespace>\n...\nStatus: <any>\n"
    )


def test_a_block_with_tags_is_left_to_the_author() -> None:
    with pytest.raises(AcceptError, match="edit it by hand"):
        accepted_block("{% for i in range(2) %}x\n{% endfor %}\n", render, "y\n", VALUES)
