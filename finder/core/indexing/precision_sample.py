"""The photos the int8 check embeds (models/quantise.py): the first ones of the library's
folders, decoded as indexing decodes them, so the check sees what the index will hold."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from finder.core.ingest.extract import ExtractError, load_image
from finder.core.ingest.scanner import scan
from finder.core.types import FileKind

log = logging.getLogger(__name__)


def first_photos(folders: Iterable[str], count: int) -> list[Image.Image]:
    """Up to `count` photos from `folders`, in scan order; unreadable ones are passed over."""
    pictures: list[Image.Image] = []
    for folder in folders:
        photos = (f for f in scan(Path(folder)) if f.kind is FileKind.PHOTO)
        for scanned in itertools.islice(photos, count * 2):
            if len(pictures) >= count:
                return pictures
            try:
                pictures.append(load_image(scanned.path))
            except ExtractError as exc:
                log.debug("int8 check passes over %s: %s", scanned.path, exc)
    return pictures


def has_photos(folders: Iterable[str], count: int) -> bool:
    """Whether `folders` hold at least `count` photos (stops scanning once they do)."""
    found = 0
    for folder in folders:
        for scanned in scan(Path(folder)):
            found += scanned.kind is FileKind.PHOTO
            if found >= count:
                return True
    return False
