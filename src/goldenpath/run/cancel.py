"""The cancel token of a guide run: Ctrl-C in a parallel check reaches every running guide."""

from __future__ import annotations

import threading
import time


class Watch:
    """Turns a cancel event set by another thread into a ``KeyboardInterrupt`` in this run, once.

    The event is shared by all guides of a parallel check, so it is never cleared; after the
    interrupt the watch disarms, and cleanup runs in full.
    """

    def __init__(self, event: threading.Event | None) -> None:
        self.event = event
        self.armed = event is not None

    def check(self) -> None:
        if self.armed and self.event is not None and self.event.is_set():
            self.armed = False
            raise KeyboardInterrupt

    def pause(self, seconds: float) -> None:
        """Sleep, waking up as an interrupt when the run is cancelled."""
        if self.armed and self.event is not None:
            self.event.wait(seconds)
            self.check()
        else:
            time.sleep(seconds)
