"""What a running watcher reports in the data dir, read by `finder status` in another process."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from finder.core.indexing.observers import WatchedRoot

log = logging.getLogger(__name__)

WATCH_STATE_FILE = "watching.json"


def write_watch_state(data_dir: Path, roots: Sequence[WatchedRoot] | None) -> None:
    """Record how each folder is watched; None when watching stops. Best effort: a full
    disk must not stop the watcher."""
    path = data_dir / WATCH_STATE_FILE
    try:
        if roots is None:
            path.unlink(missing_ok=True)
            return
        state = {
            "pid": os.getpid(),
            "roots": {r.path: {"mode": r.mode, "reason": r.reason} for r in roots},
        }
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot record the watch state in %s: %s", path, exc)


def read_watch_state(data_dir: Path) -> dict[str, Any] | None:
    """What the running watcher wrote, or None if no watcher is running."""
    try:
        state = json.loads((data_dir / WATCH_STATE_FILE).read_text(encoding="utf-8"))
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None  # left behind by a watcher that was killed
        except OSError:
            pass  # alive, another user's
    return dict(state)
