"""Fixtures of the indexing tests."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.indexing.watching import Recorder, mount_tmpfs, unmount


@pytest.fixture
def no_thread_left_behind() -> Iterator[None]:
    """Fails a test that leaves a thread running (a watcher not stopped, an observer)."""
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left running: {left}"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[Path]:
    """An empty folder on which tmpfs file systems can be mounted; skips where mounting
    is not allowed (not root, no CAP_SYS_ADMIN, a container without it)."""
    point = tmp_path / "media" / "card"
    point.mkdir(parents=True)
    try:
        mount_tmpfs(point)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        pytest.skip(f"mounting a tmpfs is not permitted here ({str(detail).strip()})")
    unmount(point)
    yield point
    for _ in range(4):  # whatever the test left mounted, stacked or not
        if not os.path.ismount(point):
            break
        subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=30)
