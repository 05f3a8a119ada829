"""What the watcher tests share: fast timings, a recorder of what it reports, waiting for
conditions (never sleeping), mounting file systems. The fixtures are in conftest.py."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from finder.core.indexing.watcher import WatchBatch, WatchConfig, Watcher
from finder.core.library import Library

FAST = WatchConfig(
    quiet_s=0.3, max_delay_s=3.0, recheck_s=0.3, poll_interval_s=0.2, save_every_s=0.5, retry_s=0.2
)


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


class Recorder:
    def __init__(self) -> None:
        self.batches: list[WatchBatch] = []
        self.errors: list[str] = []

    def batch(self, batch: WatchBatch) -> None:
        self.batches.append(batch)

    def error(self, message: str) -> None:
        self.errors.append(message)


def start_watching(library: Library, recorder: Recorder, **kw: object) -> Watcher:
    watcher = library.watch(
        on_batch_indexed=recorder.batch,
        on_error=recorder.error,
        config=kw.pop("config", FAST),  # type: ignore[arg-type]
        **kw,
    )
    watcher.start()
    wait_for(lambda: recorder.batches or recorder.errors, what="the reconciliation scan")
    assert not recorder.errors
    return watcher


def indexed(library: Library, path: Path) -> bool:
    record = library._catalog.file_by_path(str(path))
    return record is not None


def mount_tmpfs(path: Path) -> None:
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )


def unmount(path: Path) -> None:
    subprocess.run(["umount", str(path)], check=True, capture_output=True, timeout=30)
