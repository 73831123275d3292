"""What a namespace's pods say when a step that waits for them fails: pull errors, probes, crashes.

A rollout that times out says only "timed out waiting for the condition"; the reason is in the
pods' container states and the namespace's warning events. This turns them into one line that a
failure report can carry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

Kubectl = Callable[..., str]

MAX_REASONS = 4
"""Reasons shown at most; the first ones are the most telling."""


def explain_pods(kubectl: Kubectl, namespace: str) -> str:
    """Why pods in ``namespace`` are not ready, as ``pod x: ErrImagePull: ...; ...``, or ""."""
    reasons = list(_container_reasons(_items(kubectl("get", "pods", "-n", namespace, "-o", "json"))))
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "type=Warning", "-o", "json")
    reasons += list(_event_reasons(_items(events)))
    unique = list(dict.fromkeys(reasons))
    return "; ".join(unique[:MAX_REASONS])


def _items(text: str) -> list[dict[str, Any]]:
    try:
        items = json.loads(text).get("items", [])
    except (ValueError, AttributeError):
        return []
    return [item for item in items if isinstance(item, dict)]


def _container_reasons(pods: Iterable[dict[str, Any]]) -> Iterable[str]:
    for pod in pods:
        name = pod.get("metadata", {}).get("name", "?")
        for status in pod.get("status", {}).get("containerStatuses", []) or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            if reason and reason != "ContainerCreating":
                message = " ".join(str(waiting.get("message", "")).split())
                yield f"pod {name}: {reason}" + (f": {message}" if message else "")


def _event_reasons(events: Iterable[dict[str, Any]]) -> Iterable[str]:
    # Newest first: the last probe failure says more than the first.
    ordered = sorted(
        events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""), reverse=True
    )
    for event in ordered:
        if event.get("reason") not in ("Unhealthy", "Failed", "BackOff", "FailedScheduling", "FailedMount"):
            continue
        obj = event.get("involvedObject", {}).get("name", "?")
        message = " ".join(str(event.get("message", "")).split())
        yield f"{event.get('reason')} {obj}: {message}"
