"""Kill finder at the worst moments, run two finders on one data dir: nothing is lost.

Each test runs real `python -m finder` child processes (or a short child script that
pauses at the moment of interest) with the tiny random model, and waits for conditions,
never for fixed times.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finder import cli
from finder.core.indexing.watch_state import WATCH_STATE_FILE
from finder.core.library import Library
from finder.core.store.catalog import Catalog
from finder.core.store.schema import MIGRATIONS, SCHEMA_VERSION
from finder.core.types import FileStatus, Modality, SearchKind
from tests.conftest import CountingEmbedder
from tests.helpers import TINY_CONFIG, draw_photo, write_pdf, write_text

REPO = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], object], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "FINDER_MODEL": str(TINY_CONFIG),
        "FINDER_PRETRAINED": "none",
        "PYTHONPATH": str(REPO),
    }


def _finder(*args: str, data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "finder", *args, "--data-dir", str(data_dir)],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _script(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _count(catalog: Path, sql: str) -> int:
    """Read the catalog the way an outsider would, without taking any lock."""
    if not catalog.exists():
        return 0
    db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=5)
    try:
        return int(db.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not created yet
    finally:
        db.close()


def _kill(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for child in started:
        _kill(child)


def _check_consistent(library: Library, photos: int) -> None:
    """Every file once, every photo with exactly one vector, the index matching the catalog."""
    counts = library._catalog.counts()
    assert counts["photos"] == photos and counts["errors"] == 0
    assert library._catalog._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    dupes = library._catalog._db.execute(
        "SELECT COUNT(*) FROM (SELECT file_id FROM items WHERE modality = 'image' "
        "GROUP BY file_id HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    assert dupes == 0
    store = library._models.store
    model_id = library._models.model_id
    assert store.count(Modality.IMAGE) == len(library._catalog.vector_ids(model_id, Modality.IMAGE))
    assert store.count(Modality.IMAGE) == photos
    # The photos are three pictures copied 100 times each: they come back as copies of
    # the shown ones (issue #17 item 5), each file still found.
    found = library._search.text("a red circle", SearchKind.PHOTOS, k=5)
    assert sum(1 + len(r.copies) for r in found) >= 5


def test_sigkill_while_indexing_loses_at_most_the_batch_in_flight(
    tmp_path: Path, children: list[subprocess.Popen[str]], counting_embedder: CountingEmbedder
) -> None:
    root, data = tmp_path / "Pictures", tmp_path / "data"
    total = 300
    for i in range(total):
        draw_photo(root / f"{i:04d}.png", ["red", "green", "blue"][i % 3], size=(48, 48))
    child = _finder("index", str(root), "-q", data_dir=data)
    children.append(child)
    catalog = data / "catalog.sqlite3"
    wait_for(
        lambda: _count(catalog, "SELECT COUNT(*) FROM files") >= 32 or child.poll() is not None,
        what="the first committed batch",
    )
    _kill(child)
    committed = _count(catalog, "SELECT COUNT(*) FROM embedded")
    assert 0 < committed < total, "the child finished before it could be killed"

    library = Library(data, counting_embedder, writable=True)
    try:
        report = library._indexer.run()
        # Only what was not committed is done again: the batch in flight, and what followed.
        assert report.added == total - committed and report.unchanged == committed
        assert counting_embedder.images == total - committed
        _check_consistent(library, total)
    finally:
        library.close()


def test_sigkill_while_saving_the_index(
    tmp_path: Path, children: list[subprocess.Popen[str]], counting_embedder: CountingEmbedder
) -> None:
    root, data = tmp_path / "Pictures", tmp_path / "data"
    for i in range(20):
        draw_photo(root / f"a{i:02d}.png", "red", size=(40, 40))
    code, _, err = _run_cli("index", str(root), data_dir=data)
    assert code == 0, err
    for i in range(20):
        draw_photo(root / f"b{i:02d}.png", "blue", size=(40, 40))
    marker = tmp_path / "saving"
    child = _script(f"""
        import threading
        from pathlib import Path
        from finder.core.store import vectors as vector_index
        from finder.core.models.spec import resolve_model_spec
        from finder.core.models.torch_runtime import ClipEmbedder
        from finder.core.library import Library

        def hang(path):  # the first part of the new generation is written: stop here
            Path({str(marker)!r}).write_text(str(path))
            threading.Event().wait()

        vector_index._fsync_file = hang
        spec = resolve_model_spec({str(TINY_CONFIG)!r}, "none")
        library = Library(Path({str(data)!r}), ClipEmbedder(spec), writable=True)
        library._indexer.run()
    """)
    children.append(child)
    wait_for(lambda: marker.exists() or child.poll() is not None, what="the index save")
    assert child.poll() is None, child.communicate()[1]
    _kill(child)
    leftovers = [p.name for p in (data / "index").rglob("gen-*.tmp")]
    assert leftovers  # the half-written generation is there, and ignored

    library = Library(data, counting_embedder, writable=True)
    try:
        library._models.open()
        assert library._models.open_state in ("synced", "loaded")  # the previous generation
        _check_consistent(library, 40)
        assert counting_embedder.images == 0  # the vectors came from the catalog
        library._indexer.run()
        library._models.save()
        assert not list((data / "index").rglob("gen-*.tmp"))
    finally:
        library.close()


def test_sigkill_during_a_catalog_migration(
    tmp_path: Path, children: list[subprocess.Popen[str]]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "catalog.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    db.execute("INSERT INTO roots(id, path, added_at) VALUES (1, '/photos', 0)")
    db.executemany(
        "INSERT INTO files(root_id, path, size, mtime_ns, content_hash, kind, status, "
        "indexed_at) VALUES (1, ?, 1, 1, 'h', 'photo', 'ok', 0)",
        [(f"/photos/{i}.jpg",) for i in range(100)],
    )
    db.close()
    marker = tmp_path / "migrating"
    child = _script(f"""
        import threading
        from pathlib import Path
        from finder.core.store import catalog, writes

        run_script = writes.Tx.executescript_in_tx

        def hang(self, script):  # the migration ran, its transaction is not committed yet
            run_script(self, script)
            Path({str(marker)!r}).write_text("in the migration")
            threading.Event().wait()

        writes.Tx.executescript_in_tx = hang
        catalog.Catalog(Path({str(path)!r}))
    """)
    children.append(child)
    wait_for(lambda: marker.exists() or child.poll() is not None, what="the migration")
    assert child.poll() is None, child.communicate()[1]
    assert _count(path, "PRAGMA user_version") == 1
    _kill(child)

    catalog = Catalog(path)
    try:
        assert catalog.schema_version == SCHEMA_VERSION
        assert [r.path for r in catalog.roots()] == ["/photos"]
        assert len(catalog.files_under(1)) == 100
    finally:
        catalog.close()


def _run_cli(*args: str, data_dir: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        [
            args[0],
            "--data-dir",
            str(data_dir),
            "--model",
            str(TINY_CONFIG),
            "--pretrained",
            "none",
            *args[1:],
        ],
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


class _Lines:
    """A child's output, read as it comes."""

    def __init__(self, stream: io.TextIOBase) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: io.TextIOBase) -> None:
        for line in stream:
            self.lines.append(line)

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def join(self) -> None:
        self._thread.join(10)


def test_a_search_sees_what_a_watcher_commits_and_a_second_writer_is_refused(
    tmp_path: Path, children: list[subprocess.Popen[str]], counting_embedder: CountingEmbedder
) -> None:
    root, data = tmp_path / "Pictures", tmp_path / "data"
    draw_photo(root / "first.jpg", "red")
    write_pdf(root / "report.pdf", ["quarterly report", "numbers"])
    child = subprocess.Popen(
        [sys.executable, "-m", "finder", "watch", str(root), "--data-dir", str(data)],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    children.append(child)
    out, err = _Lines(child.stdout), _Lines(child.stderr)  # type: ignore[arg-type]
    wait_for(
        lambda: out.has("all folders") or child.poll() is not None, what="the watcher's first scan"
    )
    assert child.poll() is None, "".join(err.lines)
    assert out.has("native") and out.has("2 added")

    reader = Library(data, counting_embedder, writable=False)
    try:

        def photos() -> set[str]:
            return {Path(r.path).name for r in reader._search.text("a photo", SearchKind.PHOTOS)}

        assert "first.jpg" in photos()
        draw_photo(root / "later" / "second.jpg", "blue")
        write_text(root / "later" / "memo.txt", "a memo about the summer party")
        added = time.monotonic()
        wait_for(
            lambda: "second.jpg" in photos(), timeout=30, what="the reader to see the new photo"
        )
        assert time.monotonic() - added < 10
        wait_for(
            lambda: any(
                r.path.endswith("memo.txt")
                for r in reader._search.text("summer party", SearchKind.DOCS)
            ),
            timeout=30,
        )
        wait_for(lambda: out.has("later"), what="the watcher printing what it indexed")

        code, _, message = _run_cli("index", data_dir=data)
        assert code == 1 and f"pid {child.pid}" in message
        code, status, _ = _run_cli("status", data_dir=data)
        assert code == 0 and f"watcher    running (pid {child.pid})" in status
        assert "[watched: native]" in status
    finally:
        reader.close()

    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=30) == 0
    err.join()
    assert any("stopped watching" in line for line in err.lines)
    assert not (data / WATCH_STATE_FILE).exists()
    library = Library(data, counting_embedder, writable=True)  # the lock is free again
    try:
        counts = library._catalog.counts()
        assert (counts["photos"], counts["documents"]) == (2, 2)
        record = library._catalog.file_by_path(str(root / "later" / "memo.txt"))
        assert record is not None and record.status is FileStatus.OK
    finally:
        library.close()
    status = json.loads(_run_cli("status", "--json", data_dir=data)[1])
    assert status["watcher_pid"] is None
