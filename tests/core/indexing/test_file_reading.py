"""One read of a photo serves its hash and its decode."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from finder.core.indexing import file_reading
from finder.core.ingest.extract import load_image
from finder.core.ingest.scanner import ScannedFile, content_hash, hash_of
from finder.core.types import FileKind


def _jpeg(path: Path) -> ScannedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "teal").save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return ScannedFile(str(path), path.stat().st_size, path.stat().st_mtime_ns, FileKind.PHOTO)


def test_a_photo_read_once_hashes_and_decodes_as_from_its_path(tmp_path: Path) -> None:
    scanned = _jpeg(tmp_path / "a.jpg")
    data = file_reading.read_whole(scanned)
    assert data is not None
    assert hash_of(data) == content_hash(scanned.path)
    from_bytes, from_path = load_image(scanned.path, data=data), load_image(scanned.path)
    assert from_bytes.size == from_path.size and from_bytes.tobytes() == from_path.tobytes()


def test_documents_raw_files_and_huge_photos_are_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = tmp_path / "n.txt"
    note.write_text("words")
    assert file_reading.read_whole(ScannedFile(str(note), 5, 0, FileKind.DOCUMENT)) is None
    raw = tmp_path / "b.cr2"
    raw.write_bytes(b"\0" * 64)
    assert file_reading.read_whole(ScannedFile(str(raw), 64, 0, FileKind.PHOTO)) is None
    scanned = _jpeg(tmp_path / "c.jpg")
    monkeypatch.setattr(file_reading, "WHOLE_READ_BYTES", scanned.size - 1)
    assert file_reading.read_whole(scanned) is None


def test_a_photo_that_grew_since_the_scan_is_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned = _jpeg(tmp_path / "d.jpg")
    monkeypatch.setattr(file_reading, "WHOLE_READ_BYTES", scanned.size)
    with open(scanned.path, "ab") as f:
        f.write(b"more")  # written to after the scan: the size it had is out of date
    assert file_reading.read_whole(scanned) is None
