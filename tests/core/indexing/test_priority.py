"""Background threads run at a lower priority."""

from __future__ import annotations

import os
import sys
import threading

from finder.core.indexing.priority import lower_thread_priority


def test_background_threads_run_at_lower_priority() -> None:
    seen: dict[str, object] = {}

    def work() -> None:
        seen["lowered"] = lower_thread_priority(7)
        if sys.platform.startswith("linux"):
            seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, 0) if hasattr(os, "getpriority") else None
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if sys.platform.startswith("linux"):
        assert seen["lowered"] is True and int(seen["nice"]) >= 7  # type: ignore[call-overload]
        assert os.getpriority(os.PRIO_PROCESS, 0) == before  # this thread is untouched
    assert lower_thread_priority(0) is False
