"""Per-guide cost of the real-node sandbox: namespace set-up + teardown, and pod start to Ready.

Each round opens and closes one guide session (namespace, per-run kubeconfig, podman
configuration; then podman cleanup, image cleanup, the namespace's fast teardown and the leak
ledger) and, in another session, starts one pod from a base image and waits for it to be Ready.
The two measurements alternate, so a slow moment of the machine hits both. Prints min and
median of each and the set-up + teardown median against the 2 s target; with ``--check`` the
exit code is 1 when the median is over it. Uses the shared real-node cluster if it runs, else
starts one for the benchmark (its up and down times are printed too).

    GOLDENPATH_SANDBOX_DIR=~/.cache/goldenpath/sandbox .venv/bin/python bench/bench_realnode.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
import uuid

from goldenpath import config
from goldenpath.sandbox.base import GuideRun
from goldenpath.sandbox.kubernetes import Kubectl
from goldenpath.sandbox.realnode import RealNodeSandbox, real_node_factory, running_node

TARGET = 2.0
"""Seconds a guide run may spend on the sandbox's set-up and teardown."""
IMAGE = "registry.example.com/platform/python:3.11"


def pod(name: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "app",
                        "image": IMAGE,
                        "command": ["python3", "-c", "import time; time.sleep(600)"],
                    }
                ],
            },
        }
    )


def session_round(sandbox: RealNodeSandbox) -> float:
    """One guide session opened and closed, nothing run in it."""
    started = time.perf_counter()
    with sandbox.open(GuideRun("bench", f"bench-{uuid.uuid4().hex[:12]}")) as session:
        pass
    elapsed = time.perf_counter() - started
    if session.leaks:
        sys.exit(f"the session left something behind: {session.leaks}")
    return elapsed


def pod_round(sandbox: RealNodeSandbox) -> float:
    """Seconds from ``kubectl create`` of a pod to its Ready condition, in a fresh session."""
    with sandbox.open(GuideRun("bench-pod", f"bench-{uuid.uuid4().hex[:12]}")) as session:
        kubectl = Kubectl(session.env["KUBECONFIG"])
        started = time.perf_counter()
        kubectl("create", "-f", "-", stdin=pod("bench"))
        kubectl("wait", "--for=condition=Ready", "pod/bench", "--timeout=120s", timeout=150)
        return time.perf_counter() - started


def report(label: str, values: list[float]) -> float:
    median = statistics.median(values)
    print(f"{label:<34} min {min(values):6.2f}s  median {median:6.2f}s  ({len(values)} rounds)")
    return median


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (at least 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the median is over the target")
    args = parser.parse_args()
    rounds = max(args.rounds, 5)
    settings = config.load_settings()
    with contextlib.ExitStack() as stack:
        started = time.perf_counter()
        cluster = stack.enter_context(running_node(settings))
        up = time.perf_counter() - started
        sandbox = real_node_factory(settings)
        sandbox.check()
        if cluster.name.startswith("goldenpath-node-"):
            print(f"{'cluster + node up':<34} {up:6.2f}s")
        pod_round(sandbox)  # warm-up: the node pulls the base image once
        sessions, pods = [], []
        for _ in range(rounds):
            sessions.append(session_round(sandbox))
            pods.append(pod_round(sandbox))
        stopped = time.perf_counter()
    if cluster.name.startswith("goldenpath-node-"):
        print(f"{'cluster + node down':<34} {time.perf_counter() - stopped:6.2f}s")
    median = report("namespace set-up + teardown", sessions)
    report("pod start to Ready", pods)
    print(f"set-up + teardown median / target ({TARGET:.0f}s): {median / TARGET:.2f}")
    return 1 if args.check and median > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
