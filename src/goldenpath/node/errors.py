"""The error the real node raises, and the fixes its messages point at."""

from __future__ import annotations

from goldenpath.errors import SandboxError

PACKAGES_FIX = "run scripts/install-node-packages"
"""How to get a missing Debian package of the real node."""
BINARIES_FIX = "run scripts/build-sandbox-cluster"
"""How to get a missing kubelet, pause or kwok binary."""


class NodeError(SandboxError):
    """The real node cannot start, run or stop: a sandbox failure (exit 3), never the guide's.

    The message is one line, what failed and how to fix it: whitespace and line breaks of a
    tool's output are folded into single spaces.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
