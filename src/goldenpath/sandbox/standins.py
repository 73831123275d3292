"""Stand-ins on the kwok sandbox: local processes that serve a container's port where no container
runs, reached through ``kubectl port-forward`` and ``kubectl logs`` as a pod would be. Every step
they answer is reported as simulated.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from goldenpath.errors import SandboxError
from goldenpath.host import free_port, stop_group
from goldenpath.sandbox.base import Session
from goldenpath.sandbox.kubernetes import Kubectl

if TYPE_CHECKING:  # annotations (see sandbox.kubernetes)
    from goldenpath.render.renderer import RenderedGuide, RenderedStep

ROUTE_SETTLE = 3.0
"""Seconds kwok may take to see a new ClusterPortForward; a tunnel opened sooner finds no route."""
_CRI_LINES = (
    # kwok serves `kubectl logs` from a file in the container runtime's log format: stamp each
    # line the stand-in writes as a container's would be.
    '{ eval "$1"; } 2>&1 | while IFS= read -r line; do '
    'printf "%s stdout F %s\\n" "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$line"; done'
)


def before_step(kubectl: Kubectl, session: Session, guide: RenderedGuide, step: RenderedStep) -> None:
    """Route the guide's stand-ins at its first step and start them before its first cluster step;
    before a step opens a tunnel, give kwok time to see the routes."""
    if "stand_in_ports" not in session.resources:
        _route(kubectl, session, guide)
    if "cluster" in step.step.requires and session.resources.get("stand_ins") is None:
        _start(session, guide)
    routed = session.resources.get("routed_at")
    if isinstance(routed, float) and any("port-forward" in command for command in step.commands):
        time.sleep(max(0.0, routed + ROUTE_SETTLE - time.monotonic()))


def teardown(kubectl: Kubectl, session: Session) -> list[str]:
    """Remove the routes and stop the stand-ins; describe what could not be removed."""
    leaks: list[str] = []
    routed = session.resources.get("port_forward")
    if isinstance(routed, str):
        for kind in ("clusterportforward", "clusterlogs"):
            try:
                kubectl("delete", kind, routed, "--ignore-not-found")
            except SandboxError as exc:
                leaks.append(f"{kind} {routed} could not be deleted: {exc}")
    for proc in session.resources.get("stand_ins") or []:
        stop_group(proc)
    return leaks


def _route(kubectl: Kubectl, session: Session, guide: RenderedGuide) -> None:
    """Free ports for the stand-ins, and the kwok resources that send the namespace's port
    forwards and logs to them."""
    ports = {stand_in.deployment: free_port() for stand_in in guide.stand_ins}
    session.resources["stand_in_ports"] = ports
    if not guide.stand_ins:
        return
    namespace = str(session.resources["namespace"])
    forwards = [
        {"ports": [s.port], "target": {"address": "127.0.0.1", "port": ports[s.deployment]}}
        for s in guide.stand_ins
    ]
    # A ClusterLogs selects pods by namespace only: the first stand-in's output is every pod's log.
    logs = [{"logsFile": str(_log(session, guide.stand_ins[0].deployment)), "follow": True}]
    for kind, spec in (("ClusterPortForward", {"forwards": forwards}), ("ClusterLogs", {"logs": logs})):
        manifest = {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": kind,
            "metadata": {"name": namespace},
            "spec": {"selector": {"matchNamespaces": [namespace]}, **spec},
        }
        kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    session.resources["port_forward"] = namespace
    session.resources["routed_at"] = time.monotonic()


def _start(session: Session, guide: RenderedGuide) -> None:
    processes: list[subprocess.Popen[bytes]] = []
    session.resources["stand_ins"] = processes
    ports = session.resources["stand_in_ports"]
    for stand_in in guide.stand_ins:
        port = ports[stand_in.deployment]
        log = open(_log(session, stand_in.deployment), "ab")  # noqa: SIM115
        # Stand-ins belong to the sandbox, which stops them in teardown; without the run id
        # the runner's sweep of the run's processes does not report them as left behind.
        env = {k: v for k, v in session.env.items() if k != "GOLDENPATH_RUN_ID"}
        env.update(PORT=str(port), GOLDENPATH_STAND_IN=session.env["GOLDENPATH_RUN_ID"])
        proc = subprocess.Popen(
            session.contained(["bash", "-c", _CRI_LINES, "stand-in", stand_in.run]),
            cwd=session.workspace,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        processes.append(proc)
        _wait_port(proc, port, stand_in.deployment, stand_in.run)


def _log(session: Session, deployment: str) -> Path:
    return session.scratch / f"stand-in-{deployment}.log"


def _wait_port(proc: subprocess.Popen[bytes], port: int, name: str, command: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            code = proc.returncode
            raise SandboxError(
                f"the stand-in for {name} exited with code {code} before serving port {port}: {command}"
            )
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SandboxError(f"the stand-in for {name} did not serve port {port} within 20s: {command}")
