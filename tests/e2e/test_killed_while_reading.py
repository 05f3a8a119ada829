"""A file that stalls or kills the process reading it cannot stop indexing for good: the
next run records it as an error and goes on (attempts.py).

Each test runs the index in a child process whose document reader stalls or kills the
process on one file, then kills it (SIGKILL, as a user or the OOM killer would) or lets
it die, and looks at what the next runs make of it. Waits for conditions, never sleeps.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finder.core.indexing.attempts import JOURNAL_DIR, STUCK_REASON, suspects_in
from finder.core.indexing.pipeline import IndexerConfig
from finder.core.library import Library
from finder.core.store.layout import CATALOG_FILE
from finder.core.types import FileStatus
from tests.conftest import CountingEmbedder
from tests.helpers import TINY_CONFIG, draw_photo, write_text

REPO = Path(__file__).resolve().parents[2]
PHOTOS = 12


def wait_for(condition: Callable[[], object], timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


def _child(data: Path, poison: Path, marker: Path, mode: str) -> subprocess.Popen[str]:
    """`finder index` in a child whose reader stalls ("hang") or kills itself ("kill") on
    `poison`."""
    code = f"""
        import os, signal, threading
        from pathlib import Path
        from finder.core.indexing import file_reading
        from finder.core.indexing.pipeline import IndexerConfig
        from finder.core.library import Library
        from finder.core.models.spec import resolve_model_spec
        from finder.core.models.torch_runtime import ClipEmbedder

        real = file_reading.read_document

        def read_document(path):
            if str(path) == {str(poison)!r}:
                Path({str(marker)!r}).write_text("reading it")
                if {mode!r} == "hang":
                    threading.Event().wait()
                os.kill(os.getpid(), signal.SIGKILL)
            return real(path)

        file_reading.read_document = read_document
        spec = resolve_model_spec({str(TINY_CONFIG)!r}, "none")
        config = IndexerConfig(heartbeat_s=0.1)
        library = Library(
            Path({str(data)!r}), ClipEmbedder(spec), writable=True, ocr=False,
            indexer_config=config,
        )
        library._indexer.run()
    """
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)


@pytest.fixture
def folder(tmp_path: Path, counting_embedder: CountingEmbedder) -> tuple[Path, Path, Path]:
    """(photos and notes, the file that stalls its reader, the data dir with the folder)."""
    root, data = tmp_path / "Stuff", tmp_path / "data"
    for i in range(PHOTOS):
        draw_photo(root / f"{i:02d}.png", ["red", "green", "blue"][i % 3], size=(40, 40))
    write_text(root / "note.txt", "a note about the harbour")
    poison = write_text(root / "m-poison.txt", "a file that stalls the reader")
    library = Library(data, counting_embedder, writable=True, ocr=False)
    try:
        library.add_folder(root)
    finally:
        library.close()
    return root, poison, data


def _stuck_for(data: Path, path: Path) -> float:
    """How long the running child has been reading `path`, from its journal."""
    for journal in (data / JOURNAL_DIR).glob("*"):
        suspect = suspects_in(journal.read_text(errors="replace").splitlines()).get(str(path))
        if suspect is not None:
            return suspect.stuck_s
    return 0.0


def _ok_files(data: Path) -> int:
    db = sqlite3.connect(f"file:{data / CATALOG_FILE}?mode=ro", uri=True, timeout=5)
    try:
        return int(db.execute("SELECT COUNT(*) FROM files WHERE status = 'ok'").fetchone()[0])
    finally:
        db.close()


def test_a_file_that_stalled_a_killed_run_is_skipped_by_the_next(
    folder: tuple[Path, Path, Path],
    tmp_path: Path,
    children: list[subprocess.Popen[str]],
    counting_embedder: CountingEmbedder,
) -> None:
    root, poison, data = folder
    marker = tmp_path / "reading"
    child = _child(data, poison, marker, "hang")
    children.append(child)
    wait_for(lambda: marker.exists() or child.poll() is not None, what="the stalling file")
    assert child.poll() is None, child.communicate()[1]
    wait_for(lambda: _stuck_for(data, poison) >= 0.6, what="the run to stall on it")
    child.send_signal(signal.SIGKILL)  # the user gives up on it
    child.communicate(timeout=30)

    config = IndexerConfig(stalled_after_s=0.5)
    library = Library(data, counting_embedder, writable=True, ocr=False, indexer_config=config)
    try:
        report = library._indexer.run()
        assert [(Path(e.path).name, e.reason) for e in report.errors] == [
            ("m-poison.txt", STUCK_REASON)
        ]
        counts = library._catalog.counts()
        assert (counts["photos"], counts["documents"], counts["errors"]) == (PHOTOS, 1, 1)
        record = library._catalog.file_by_path(str(poison))
        assert record is not None and record.status is FileStatus.ERROR
        assert record.error == STUCK_REASON
        assert list((data / JOURNAL_DIR).iterdir()) == []
        # It stays skipped (until it changes), and nothing else is read again.
        again = library._indexer.run()
        assert again.unchanged == PHOTOS + 2 and not again.errors and not again.added
        assert (str(poison), STUCK_REASON) in library._catalog.errors()
    finally:
        library.close()
    expected = {f"{i:02d}.png" for i in range(PHOTOS)} | {"note.txt", "m-poison.txt"}
    assert {p.name for p in root.iterdir()} == expected  # nothing written into the folder


def test_a_file_that_kills_its_reader_is_read_last_then_skipped(
    folder: tuple[Path, Path, Path],
    tmp_path: Path,
    children: list[subprocess.Popen[str]],
    counting_embedder: CountingEmbedder,
) -> None:
    root, poison, data = folder
    marker = tmp_path / "reading"
    first = _child(data, poison, marker, "kill")
    children.append(first)
    _, err = first.communicate(timeout=300)
    assert first.returncode == -signal.SIGKILL and marker.exists(), err
    marker.unlink()

    # The next run reads everything else first, and writes it, before it tries the file
    # that was being read when the first died (it could have been killed by chance).
    second = _child(data, poison, marker, "kill")
    children.append(second)
    _, err = second.communicate(timeout=300)
    assert second.returncode == -signal.SIGKILL and marker.exists(), err
    # Everything else is written first; only a file that was being read beside the
    # poison when the first run died (two decode workers: at most one) is a suspect too,
    # read one at a time like it, so on a busy machine it may come after the poison and
    # wait for the third run.
    assert _ok_files(data) >= PHOTOS

    # Twice is no chance: the third run skips it, with its reason, and ends.
    library = Library(data, counting_embedder, writable=True, ocr=False)
    try:
        counting_embedder.reset()
        report = library._indexer.run()
        assert [(Path(e.path).name, e.reason) for e in report.errors] == [
            ("m-poison.txt", STUCK_REASON)
        ]
        # At most the one co-suspect (see above) is still to be read; nothing is lost.
        assert report.added <= 1 and report.added + report.unchanged == PHOTOS + 1
        if report.added == 0:
            assert counting_embedder.texts == counting_embedder.images == 0
        assert _ok_files(data) == PHOTOS + 1
        assert list((data / JOURNAL_DIR).iterdir()) == []
    finally:
        library.close()


def test_a_run_killed_by_chance_reads_the_file_again(
    folder: tuple[Path, Path, Path], tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    """What a dead run leaves for a file it had just started: read again, last, no error."""
    root, poison, data = folder
    journal = data / JOURNAL_DIR / "1-1-1"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps(["start", str(root / "note.txt"), 5.0, 0]) + "\n")
    library = Library(data, counting_embedder, writable=True, ocr=False)
    try:
        report = library._indexer.run()
        assert report.added == PHOTOS + 2 and not report.errors
        assert list((data / JOURNAL_DIR).iterdir()) == []
    finally:
        library.close()
