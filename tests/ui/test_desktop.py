"""Opening and revealing a result by its real name (ui/desktop.py)."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from PySide6.QtCore import QUrl

from finder.ui import desktop


def url_bytes(url: QUrl) -> bytes:
    return urllib.parse.unquote_to_bytes(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))


def test_open_gives_the_opener_the_real_bytes_of_the_name(tmp_path: Path) -> None:
    bad = os.path.join(os.fsencode(tmp_path), b"caf\xe9.jpg")
    with open(bad, "wb") as f:
        f.write(b"not really a photo")
    opened: list[QUrl] = []
    assert desktop.open_file(os.fsdecode(bad), opened.append)
    assert len(opened) == 1 and opened[0].isLocalFile()
    assert url_bytes(opened[0]) == b"file://" + bad


def test_a_folder_with_an_undecodable_name_keeps_its_bytes(tmp_path: Path) -> None:
    folder = os.path.join(os.fsencode(tmp_path), b"dossier-\xe9")
    assert url_bytes(desktop.file_url(os.fsdecode(folder))) == b"file://" + folder


def test_a_valid_name_is_a_plain_local_file_url(tmp_path: Path) -> None:
    path = str(tmp_path / "\u00e9t\u00e9 photo.jpg")
    assert desktop.file_url(path) == QUrl.fromLocalFile(path)
