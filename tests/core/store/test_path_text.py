"""Paths kept in the catalog as valid text, losslessly (store/path_text.py)."""

from __future__ import annotations

import os

import pytest

from finder.core.store.path_text import real_path, stored_path
from finder.core.store.writes import prefix_range

PATHS = [
    "/photos/red.jpg",
    "/fotos/\u00e9t\u00e9/plage.jpg",  # valid UTF-8, kept as it is
    os.fsdecode(b"/old/caf\xe9.jpg"),
    os.fsdecode(b"/\xff\xfe/\xc3\xa9\xe9"),
    "/a/\ufffd.jpg",  # a real U+FFFD (a name someone decoded badly before)
    "/a/\ufffd\U0010ffe9.jpg",  # ...even before the characters that name a byte
    "/a/\ufffd\U0010ff00",
    "\ufffd",
]


@pytest.mark.parametrize("path", PATHS)
def test_round_trip_as_valid_utf8(path: str) -> None:
    stored = stored_path(path)
    stored.encode("utf-8")  # SQLite can store it
    assert real_path(stored) == path


def test_paths_without_undecodable_bytes_are_stored_unchanged() -> None:
    for path in ("/photos/red.jpg", "/fotos/\u00e9t\u00e9.jpg", "/a/\ufffd.jpg", "/a/\ufffdb"):
        assert stored_path(path) == path
        assert real_path(path) == path


def test_the_readable_part_of_a_name_stays_a_word_apart() -> None:
    # U+FFFD separates words for the keyword index: "caf" is found.
    assert stored_path(os.fsdecode(b"/old/caf\xe9.jpg")).startswith("/old/caf\ufffd")


def test_a_folder_prefix_is_kept() -> None:
    folder = os.fsdecode(b"/old/dossier-\xe9")
    child = os.fsdecode(b"/old/dossier-\xe9/caf\xe9.jpg")
    low, high = prefix_range(stored_path(folder))
    assert low <= stored_path(child) < high
