"""The ``local`` sandbox: the embedded default, nothing beyond the base sandbox's workspace."""

from __future__ import annotations

from goldenpath.sandbox.base import Sandbox


class LocalSandbox(Sandbox):
    """A temporary folder on this machine: fresh workspace, ``HOME`` inside it, scrubbed env."""

    name = "local"
