"""Never losing anything: schema migration, offline folders, partial scans, full or
read-only disks, and hostile files (each a per-file error or a skip, never a crash)."""

from __future__ import annotations

import errno
import io
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from finder import cli
from finder.core.indexing import indexer as indexer_module
from finder.core.ingest import extract as extract_module
from finder.core.ingest import scanner as scanner_module
from finder.core.library import Library
from finder.core.store.catalog import Catalog
from finder.core.store.errors import StorageError
from finder.core.store.schema import MIGRATIONS, SCHEMA_VERSION
from finder.core.types import FileStatus, Modality, SearchKind
from tests.conftest import CountingEmbedder
from tests.helpers import (
    TINY_CONFIG,
    draw_photo,
    write_encrypted_pdf,
    write_pdf,
    write_text,
)

# -- the schema -------------------------------------------------------------------------


def test_a_v1_catalog_migrates_forward_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    db.execute("INSERT INTO roots(id, path, added_at) VALUES (1, '/photos', 0)")
    db.execute(
        "INSERT INTO files(id, root_id, path, size, mtime_ns, content_hash, kind, "
        "status, error, indexed_at) VALUES (1, 1, '/photos/a.jpg', 3, 4, 'h', 'photo', "
        "'ok', NULL, 0)"
    )
    db.execute("INSERT INTO items(id, file_id, modality) VALUES (7, 1, 'image')")
    db.execute("INSERT INTO models(id, key, dim) VALUES (1, 'm', 4)")
    db.execute("INSERT INTO vectors VALUES (7, 1, ?)", (np.ones(4, np.float32).tobytes(),))
    db.execute("INSERT INTO embedded VALUES (1, 1)")
    db.close()

    catalog = Catalog(path)
    try:
        assert catalog.schema_version == SCHEMA_VERSION >= 2
        (root,) = catalog.roots()
        assert (root.path, root.offline) == ("/photos", False)
        record = catalog.file_by_path("/photos/a.jpg")
        assert record is not None and record.content_hash == "h"
        assert list(catalog.items([7])) == [7]
        assert catalog.vector_ids(1, Modality.IMAGE).tolist() == [7]
    finally:
        catalog.close()


# -- offline folders ------------------------------------------------------------------------


def _photos(root: Path, colors: tuple[str, ...] = ("red", "green", "blue")) -> Path:
    for color in colors:
        draw_photo(root / f"{color}.jpg", color, size=(64, 48))
    return root


def _found(library: Library, folder: Path) -> list[str]:
    return [
        r.path
        for r in library._search.text("a photo", SearchKind.PHOTOS, k=20)
        if r.path.startswith(str(folder) + os.sep)
    ]


def test_a_missing_folder_goes_offline_and_returns_without_reembedding(
    library: Library, tmp_path: Path, data_dir: Path, counting_embedder: CountingEmbedder
) -> None:
    drive, home = _photos(tmp_path / "drive"), _photos(tmp_path / "home", ("yellow",))
    library.add_folder(drive)
    library.add_folder(home)
    library._indexer.run()
    assert len(_found(library, drive)) == 3
    counting_embedder.reset()

    drive.rename(tmp_path / "elsewhere")  # unmounted
    report = library._indexer.run()
    assert report.offline == [str(drive)] and report.removed == 0 and not report.errors
    assert _found(library, drive) == [] and len(_found(library, home)) == 1
    assert library._catalog.counts()["photos"] == 4  # kept
    assert library._models.store.count(Modality.IMAGE) == 1
    # Another process (a fresh reader) hides them too.
    reader = Library(data_dir, counting_embedder, writable=False)
    try:
        assert _found(reader, drive) == [] and len(_found(reader, home)) == 1
        assert [f.offline for f in reader.status().folders] == [True, False]
    finally:
        reader.close()

    (tmp_path / "elsewhere").rename(drive)  # plugged in again
    report = library._indexer.run()
    assert report.back_online == [str(drive)] and report.unchanged == 4
    assert len(_found(library, drive)) == 3
    assert counting_embedder.images == 0


def test_an_empty_mount_point_is_offline_not_emptied(library: Library, tmp_path: Path) -> None:
    mount = _photos(tmp_path / "mnt" / "usb")
    library.add_folder(mount)
    library._indexer.run()
    for child in list(mount.iterdir()):  # the drive is gone, its mount point stays
        child.rename(tmp_path / child.name)
    report = library._indexer.run()
    assert report.offline == [str(mount)] and report.removed == 0
    assert library._catalog.counts()["photos"] == 3


def test_files_of_an_unreadable_subfolder_are_kept(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "Pictures"
    _photos(root / "locked")
    _photos(root, ("purple",))
    library.add_folder(root)
    library._indexer.run()
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if str(path) == str(root / "locked"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(scanner_module.os, "scandir", scandir)
    report = library._indexer.run()
    assert report.removed == 0
    assert [(e.path, e.reason) for e in report.errors] == [
        (str(root / "locked"), "cannot list folder (Permission denied)")
    ]
    assert library._catalog.counts()["photos"] == 4


def test_subtree_runs_leave_nothing_for_a_full_run(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    root = tmp_path / "Pictures"
    _photos(root / "a")
    _photos(root / "b", ("yellow",))
    write_text(root / "notes.txt", "first")
    library.add_folder(root)
    library._indexer.run()
    counting_embedder.reset()
    draw_photo(root / "a" / "new.png", "black", size=(40, 40))
    (root / "a" / "red.jpg").unlink()
    (root / "b").rename(root / "c")
    write_text(root / "notes.txt", "second, and longer")
    report = library._indexer.run(
        subtrees=[
            root / "a" / "new.png",
            root / "a" / "red.jpg",
            root / "b",
            root / "c",
            root / "notes.txt",
            tmp_path / "outside",
        ],
        moves=[(str(root / "b"), str(root / "c"))],
    )
    assert (report.added, report.removed, report.moved, report.updated) == (1, 1, 1, 1)
    assert report.scanned == 3  # just the paths given
    assert counting_embedder.images == 1 and counting_embedder.texts == 1
    full = library._indexer.run()
    assert (full.added, full.removed, full.moved, full.updated) == (0, 0, 0, 0)
    assert full.unchanged == 5


# -- full and read-only disks ---------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB file system (tmpfs), where we may mount one; skipped elsewhere."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> None:
    # Unbuffered: a buffered file would raise ENOSPC again when it is closed.
    with open(disk / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * (1 << 16))
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_full_then_read_only_disk_is_a_clear_error_and_search_goes_on(
    small_disk: Path, tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    data = small_disk / "finder"
    root = _photos(tmp_path / "Pictures")
    library = Library(data, counting_embedder, writable=True)
    try:
        library.add_folder(root)
        library._indexer.run()
        _fill(small_disk)
        for i in range(60):  # enough new rows to need new pages
            write_text(root / f"note{i}.txt", f"note number {i} " + "words " * 300)
        with pytest.raises(StorageError, match="the disk is full"):
            library._indexer.run()
        assert len(_found(library, root)) == 3  # this process still searches
        reader = Library(data, counting_embedder, writable=False)
        try:
            assert len(_found(reader, root)) == 3  # and so does another one
        finally:
            reader.close()
    finally:
        library.close()
    # The CLI says so in one line.
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        [
            "index",
            "--data-dir",
            str(data),
            "--model",
            str(TINY_CONFIG),
            "--pretrained",
            "none",
            "-q",
        ],
        stdout=out,
        stderr=err,
    )
    assert code == 1
    assert "finder: error: cannot write the index in" in err.getvalue()
    assert "disk is full" in err.getvalue() and "Traceback" not in err.getvalue()

    (small_disk / "filler").unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    code = cli.main(
        [
            "index",
            "--data-dir",
            str(data),
            "--model",
            str(TINY_CONFIG),
            "--pretrained",
            "none",
            "-q",
        ],
        stdout=out,
        stderr=err,
    )
    assert code == 1 and "read-only" in err.getvalue().splitlines()[-1]
    out = io.StringIO()
    code = cli.main(
        [
            "search",
            "a photo",
            "--json",
            "--data-dir",
            str(data),
            "--model",
            str(TINY_CONFIG),
            "--pretrained",
            "none",
        ],
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0 and len(eval_json(out.getvalue())) == 3


def eval_json(text: str) -> list[dict[str, object]]:
    import json

    return list(json.loads(text))


def test_a_catalog_that_cannot_grow_is_a_storage_error(library: Library, tmp_path: Path) -> None:
    """Anywhere (no mount needed): SQLite's own "database or disk is full"."""
    root = _photos(tmp_path / "Pictures")
    library.add_folder(root)
    library._indexer.run()
    pages = library._catalog._db.execute("PRAGMA page_count").fetchone()[0]
    library._catalog._db.execute(f"PRAGMA max_page_count = {pages}")
    for i in range(40):
        write_text(root / f"n{i}.txt", "words " * 400)
    with pytest.raises(StorageError, match="disk is full"):
        library._indexer.run()
    assert len(_found(library, root)) == 3


# -- hostile and odd files --------------------------------------------------------------------


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_hostile_and_odd_files(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "Hostile"
    good_jpg = draw_photo(root / "good.jpg", "red").read_bytes()
    good_png = draw_photo(root / "good.png", "blue").read_bytes()
    (root / "truncated.jpg").write_bytes(good_jpg[: len(good_jpg) // 2])
    (root / "truncated.png").write_bytes(good_png[: len(good_png) // 2])
    (root / "bomb.png").write_bytes(_png_claiming(30_000, 30_000))
    (root / "zero.jpg").write_bytes(b"")
    (root / "zero.pdf").write_bytes(b"")
    (root / "pdf-named.jpg").write_bytes(write_pdf(tmp_path / "x.pdf", ["hello"]).read_bytes())
    (root / "jpeg-named.txt").write_bytes(good_jpg)
    write_text(root / "text-named.png", "just some words")
    write_encrypted_pdf(root / "locked.pdf", "private")
    write_pdf(root / "long.pdf", [f"page {i} of a very long report" for i in range(2000)])
    with open(root / "huge.txt", "w") as f:
        # 48 MB, no two passages alike (equal passages of a file are stored once).
        for block in range(800):
            f.write(
                "".join(
                    f"{block} {i} the quick brown fox jumps over the dog\n" for i in range(1000)
                )
            )
    (root / "broken-link.jpg").symlink_to(root / "nowhere.jpg")
    (root / "loop-a.jpg").symlink_to(root / "loop-b.jpg")
    (root / "loop-b.jpg").symlink_to(root / "loop-a.jpg")
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)  # a folder loop
    (root / "link-to-good.jpg").symlink_to(root / "good.jpg")
    fd = os.open(os.fsencode(root) + b"/bad-\xff-name.jpg", os.O_CREAT | os.O_WRONLY)
    os.write(fd, good_jpg)
    os.close(fd)
    odd = draw_photo(root / "name with spaces\nand a newline.png", "green")
    deep = root.joinpath(*[f"level{i}" for i in range(60)])
    draw_photo(deep / "deep.jpg", "purple")
    doomed = draw_photo(root / "deleted-after-scan.jpg", "black")

    real_scan = indexer_module.scan

    def scan_then_delete(*args, **kwargs):  # type: ignore[no-untyped-def]
        for scanned in real_scan(*args, **kwargs):
            yield scanned
            if scanned.path == str(doomed):
                doomed.unlink()  # deleted between the scan and the read

    monkeypatch.setattr(indexer_module, "scan", scan_then_delete)
    # The caps, lowered to keep the test quick (the tiny model still embeds every passage).
    monkeypatch.setattr(extract_module, "MAX_PDF_PAGES", 40)
    monkeypatch.setattr(extract_module, "MAX_PASSAGES", 300)
    library.add_folder(root)
    started = time.monotonic()
    report = library._indexer.run()
    elapsed = time.monotonic() - started
    reasons = {
        "bad-name" if "bad-" in e.path else Path(e.path).name: e.reason for e in report.errors
    }
    assert "corrupt or truncated" in reasons["truncated.jpg"]
    assert "truncated.png" in reasons
    assert "too large" in reasons["bomb.png"]
    assert reasons["zero.jpg"] == reasons["zero.pdf"] == "empty file"
    assert "not a readable image" in reasons["pdf-named.jpg"]
    assert reasons["jpeg-named.txt"] == "binary data, not text"
    assert "not a readable image" in reasons["text-named.png"]
    assert reasons["locked.pdf"] == "encrypted PDF (a password is needed)"
    assert reasons["deleted-after-scan.jpg"] == "file vanished before it could be read"
    assert len(reasons) == 10, reasons  # a name that is not UTF-8 is indexed (issue #14)
    catalog = library._catalog
    bad_name = os.fsdecode(os.fsencode(root) + b"/bad-\xff-name.jpg")
    record = catalog.file_by_path(bad_name)
    assert record is not None and record.status is FileStatus.OK
    for name in ("good.jpg", "good.png", "link-to-good.jpg", "long.pdf", "huge.txt"):
        record = catalog.file_by_path(str(root / name))
        assert record is not None and record.status is FileStatus.OK, name
    assert catalog.file_by_path(str(odd)) is not None
    assert catalog.file_by_path(str(deep / "deep.jpg")) is not None
    for name in ("broken-link.jpg", "loop-a.jpg", "loop-b.jpg"):
        assert catalog.file_by_path(str(root / name)) is None  # skipped quietly
    assert not any("/up/" in p for p in catalog.files_under(catalog.roots()[0].id))
    # Bounded: pages and passages are capped.
    long_pdf = catalog.file_by_path(str(root / "long.pdf"))
    huge = catalog.file_by_path(str(root / "huge.txt"))
    assert long_pdf is not None and huge is not None

    def passages(file_id: int) -> int:
        rows = catalog.items(catalog.item_ids_of_files([file_id]))
        return sum(row.modality is Modality.TEXT for row in rows.values())

    assert passages(long_pdf.id) == 40  # one passage per page
    assert passages(huge.id) == 300
    assert elapsed < 60
    # And the odd name is searchable like any other.
    results = library._search.image(odd, SearchKind.PHOTOS, k=3)
    assert results[0].path == str(odd)


def test_fuzzed_files_are_all_reported(
    library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Random bytes and mangled real files under image and PDF names: the run finishes and
    every file is either indexed or listed with a reason."""
    rng = random.Random(6)
    root = tmp_path / "Fuzz"
    seeds = {
        ".jpg": draw_photo(tmp_path / "seed.jpg", "red").read_bytes(),
        ".png": draw_photo(tmp_path / "seed.png", "blue").read_bytes(),
        ".gif": draw_photo(tmp_path / "seed.gif", "green").read_bytes(),
        ".webp": draw_photo(tmp_path / "seed.webp", "yellow").read_bytes(),
        ".tif": draw_photo(tmp_path / "seed.tif", "purple").read_bytes(),
        ".pdf": write_pdf(tmp_path / "seed.pdf", ["fuzz page one", "page two"]).read_bytes(),
    }
    faults = 0
    root.mkdir()
    for i in range(72):
        suffix = rng.choice(sorted(seeds))
        data = bytearray(seeds[suffix])
        how = i % 4
        if how == 0:  # pure noise
            data = bytearray(rng.randbytes(rng.randint(1, 4096)))
        elif how == 1:  # cut short
            data = data[: rng.randint(1, len(data) - 1)]
        elif how == 2:  # flipped bytes past the header
            for _ in range(rng.randint(1, 20)):
                pos = rng.randrange(min(16, len(data) - 1), len(data))
                data[pos] = rng.randrange(256)
        else:  # a real header, then noise
            data = data[:64] + bytearray(rng.randbytes(rng.randint(0, 2048)))
        faults += 1
        (root / f"fuzz{i:03d}{suffix}").write_bytes(bytes(data))
    library.add_folder(root)
    report = library._indexer.run()
    on_disk = {str(p) for p in root.iterdir()}
    records = library._catalog.files_under(library._catalog.roots()[0].id)
    lost = on_disk - set(records)
    errors = {e.path for e in report.errors}
    failed = {p for p, r in records.items() if r.status is FileStatus.ERROR}
    assert errors == failed
    assert all(r.error for r in records.values() if r.status is FileStatus.ERROR)
    with capsys.disabled():
        print(
            f"\nfuzz: {faults} faults injected, {len(failed)} reported as errors, "
            f"{len(records) - len(failed)} indexed anyway, {len(lost)} items lost"
        )
    assert not lost
    again = library._indexer.run()
    assert again.unchanged == len(on_disk) and not again.errors  # not retried until changed


def test_a_deleted_folder_between_scan_and_read_is_not_a_crash(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _photos(tmp_path / "Pictures" / "gone")
    _photos(tmp_path / "Pictures", ("black",))
    library.add_folder(root.parent)
    real_scan = indexer_module.scan

    def scan_then_rmtree(*args, **kwargs):  # type: ignore[no-untyped-def]
        yield from real_scan(*args, **kwargs)
        shutil.rmtree(root)

    monkeypatch.setattr(indexer_module, "scan", scan_then_rmtree)
    report = library._indexer.run()
    assert {e.reason for e in report.errors} == {"file vanished before it could be read"}
    monkeypatch.undo()
    assert library._indexer.run().removed == 3
