"""Fingerprints for photos indexed before finder kept them (an older data dir), after an
index run: each such photo is decoded once more and fingerprinted, never embedded again.
New and changed photos get theirs in the pipeline, from the decode the model uses."""

from __future__ import annotations

import logging
import threading

from finder.core.ingest.extract import ExtractError, load_image
from finder.core.ingest.perceptual import fingerprint
from finder.core.store.catalog import Catalog
from finder.core.store.phashes import photos_without_phash, save_phash

log = logging.getLogger(__name__)

BATCH = 64  # photos per transaction
# Decoded this small (JPEG's DCT scaling: a 12-megapixel photo at 1/8 in a few ms): the
# fingerprint is a 9x8 and a 4x4 summary, the same within a bit or a level as from the
# pipeline's larger decode.
FINGERPRINT_DECODE = 96


def fill_missing_phashes(catalog: Catalog, cancel: threading.Event | None = None) -> int:
    """Fingerprint every photo that has none; how many were. A photo that cannot be read
    now is left for the index run that sees it change."""
    done = 0
    unreadable: set[int] = set()
    while not (cancel is not None and cancel.is_set()):
        batch = [row for row in photos_without_phash(catalog, BATCH + len(unreadable))]
        batch = [row for row in batch if row[0] not in unreadable][:BATCH]
        if not batch:
            break
        found: list[tuple[int, str]] = []
        for file_id, path, _ in batch:
            try:
                found.append((file_id, fingerprint(load_image(path, FINGERPRINT_DECODE)).text()))
            except (ExtractError, OSError) as exc:
                log.info("%s: no fingerprint (%s)", path, exc)
                unreadable.add(file_id)
        with catalog.transaction() as tx:
            for file_id, phash in found:
                save_phash(tx, file_id, phash)
        done += len(found)
    return done
