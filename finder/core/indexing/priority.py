"""Run background work (indexing) at a lower CPU priority, so a window stays responsive.

Best effort: on Linux each thread has its own nice value, so only the calling thread
is lowered (threads it starts later, torch's OpenMP workers included, inherit it).
Elsewhere the call does nothing. A lowered thread cannot be raised again without
privileges, so call this only on threads that exist for background work.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

BACKGROUND_NICE = 10


def lower_thread_priority(nice: int = BACKGROUND_NICE) -> bool:
    """Set the calling thread's nice value to at least `nice`; True if it is now that low."""
    if nice <= 0 or not sys.platform.startswith("linux") or not hasattr(os, "setpriority"):
        return False
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    except OSError as exc:  # a sandbox may forbid it; the work runs anyway
        log.debug("cannot lower the priority of thread %s: %s", tid, exc)
        return False
    return True
