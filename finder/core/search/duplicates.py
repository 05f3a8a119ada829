"""The same shot only once: duplicate groups for a library, copies of search results,
and which copy to keep. Read-only: finder never moves or deletes a user's file.

A group joins files with the same bytes (content hash) and photos that are copies of
each other by `near.NearRule` (perceptual fingerprint, and the embeddings when the
model's weights mean something). Candidate pairs come from the fingerprint's 16-bit
quarters, from the order in time (bursts, edits keeping their date taken) and, in
libraries up to VECTOR_NEIGHBOURS_UP_TO files, from each photo's nearest neighbours in
the vector index; so the work grows with the number of photos, not its square. A
search result's copies are looked for among its own nearest neighbours.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from finder.core.ingest.perceptual import Fingerprint, colour_distance, hash_distance
from finder.core.search.near import (
    Evidence,
    NearRule,
    candidates,
    groups_of_pairs,
    within_bits,
)
from finder.core.store.catalog import Catalog
from finder.core.store.model_store import ModelStore
from finder.core.store.phashes import (
    CopyCandidate,
    candidates_by_ids,
    copy_candidates,
    file_ids_of_items,
    same_content,
)
from finder.core.types import DuplicateFile, DuplicateGroup, FileKind, Modality, SearchResult

log = logging.getLogger(__name__)

NEIGHBOURS = 8  # nearest photos by embedding looked at per photo
# Each photo's nearest by embedding costs a vector-index query (0.3-2 ms): over a whole
# library only up to this many files; past it, the fingerprint quarters and the time
# order bring the candidates (bench/duplicates.py times them).
VECTOR_NEIGHBOURS_UP_TO = 5_000
# Look-alikes the camera says were taken further apart than this are two shots, not
# copies: a burst lasts seconds, and an edited copy keeps its date and place.
MAX_SHOT_SECONDS = 600.0
MAX_SHOT_KM = 1.0
# Originals before re-encodes: camera RAW, then lossless or phone formats, then the rest,
# JPEG last (what copies are usually saved as).
_RAW = {"cr2", "cr3", "nef", "arw", "dng", "raf", "orf", "rw2"}
_ORIGINAL = {"heic", "heif", "avif", "png", "tif", "tiff", "bmp"}


class CopyFinder:
    """Which files are copies of which, over one catalog and the model's vectors."""

    def __init__(
        self,
        catalog: Catalog,
        models: ModelStore | None,
        *,
        random_weights: bool,
        rule: NearRule | None = None,
        hidden: Callable[[str], bool] | None = None,
    ) -> None:
        self.catalog = catalog
        # Paths the person left out (exclusions): never in a group, never a copy.
        self.hidden = hidden or (lambda path: False)
        # No vectors (no model yet) or meaningless ones: the fingerprint decides alone.
        self.models = models if _has_vectors(catalog, models) else None
        self.use_cosine = self.models is not None and not random_weights
        self.rule = rule or NearRule()

    # -- the whole library ------------------------------------------------------------

    def groups(self) -> list[DuplicateGroup]:
        """Every group of two or more files, the most space to win first."""
        files = [f for f in copy_candidates(self.catalog) if not self.hidden(f.path)]
        index = {f.file_id: n for n, f in enumerate(files)}
        prints = [Fingerprint.parse(f.phash) for f in files]
        vectors = self._vectors(files)
        pairs = _same_bytes_pairs(files)
        hashes = [p.dhash if p is not None else None for p in prints]
        found = [candidates(hashes, [f.taken or f"{f.mtime_ns:020d}" for f in files])]
        if len(files) <= VECTOR_NEIGHBOURS_UP_TO:
            found.append(np.asarray(sorted(self._neighbour_pairs(files, index)), np.int64))
        pairs_to_check = np.concatenate([p.reshape(-1, 2) for p in found])
        most = max(self.rule.copy_bits, self.rule.edit_bits)
        near: list[tuple[int, int, int]] = []
        for i, j in within_bits(hashes, pairs_to_check, most):
            cosine = _cosine(vectors, files[i], files[j])
            if same_moment(files[i], files[j]) and self._near(prints[i], prints[j], cosine):
                near.append((hash_distance(prints[i], prints[j]), i, j))  # type: ignore[arg-type]
        pairs += [(i, j) for _, i, j in sorted(near)]  # the closest join first

        def may_join(left: list[int], right: list[int]) -> bool:
            return all(same_moment(files[a], files[b]) for a in left for b in right)

        grouped = [
            _group([files[n] for n in members])
            for members in groups_of_pairs(len(files), pairs, may_join)
        ]
        return sorted(grouped, key=lambda g: (-g.reclaimable, g.keeper.path))

    # -- search results ---------------------------------------------------------------

    def copies(self, results: Sequence[SearchResult]) -> dict[int, list[CopyCandidate]]:
        """file id -> the copies of each result (not itself), as found around it."""
        shown = candidates_by_ids(self.catalog, [r.file_id for r in results if r.file_id])
        by_hash: dict[str, list[CopyCandidate]] = defaultdict(list)
        digests = [f.content_hash for f in shown if f.content_hash]
        for other in same_content(self.catalog, digests):
            by_hash[other.content_hash or ""].append(other)
        out: dict[int, list[CopyCandidate]] = {}
        for f in shown:
            found = {o.file_id: o for o in by_hash.get(f.content_hash or "", [])}
            if f.kind is FileKind.PHOTO:
                found.update((o.file_id, o) for o in self._near_photos(f))
            found.pop(f.file_id, None)
            shown_copies = [o for o in found.values() if not self.hidden(o.path)]
            if shown_copies:
                out[f.file_id] = sorted(shown_copies, key=lambda o: o.path)
        return out

    def _near_photos(self, photo: CopyCandidate) -> list[CopyCandidate]:
        mine = Fingerprint.parse(photo.phash)
        if self.models is None or photo.image_item is None or mine is None:
            return []
        store = self.models.store
        _, own = self.catalog.vectors_for(self.models.model_id, [photo.image_item])
        if not len(own):
            return []
        ids, scores = store.query(Modality.IMAGE, own[0], NEIGHBOURS + 1)
        cosine = {int(i): float(s) for i, s in zip(ids.tolist(), scores.tolist(), strict=True)}
        near = []
        for other in _photos_of_items(self.catalog, list(cosine)):
            if other.file_id == photo.file_id or other.image_item is None:
                continue
            theirs = Fingerprint.parse(other.phash)
            if same_moment(photo, other) and self._near(mine, theirs, cosine[other.image_item]):
                near.append(other)
        return near

    # -- evidence ---------------------------------------------------------------------

    def _near(self, a: Fingerprint | None, b: Fingerprint | None, cosine: float | None) -> bool:
        if a is None or b is None:
            return False  # not fingerprinted yet (the next index run does it)
        bits = hash_distance(a, b)
        if not self.rule.may_be_near(bits):
            return False  # most pairs: no colours compared
        evidence = Evidence(bits, colour_distance(a, b), cosine if self.use_cosine else None)
        return self.rule.near(evidence)

    def _vectors(self, files: Sequence[CopyCandidate]) -> dict[int, np.ndarray]:
        """item id -> the model's unit vector, for the photos among `files`."""
        if self.models is None:
            return {}
        wanted = [f.image_item for f in files if f.image_item is not None]
        ids, vectors = self.catalog.vectors_for(self.models.model_id, wanted)
        return {int(i): v for i, v in zip(ids.tolist(), vectors, strict=True)}

    def _neighbour_pairs(
        self, files: Sequence[CopyCandidate], index: dict[int, int]
    ) -> set[tuple[int, int]]:
        """Pairs of photos among each other's nearest by embedding (edited copies and
        bursts, whose fingerprints differ more than the hash quarters can pair). With
        random weights a copy is still its original's nearest: the fingerprint decides."""
        if self.models is None:
            return set()
        least = self.rule.copy_cosine if self.use_cosine else -1.0
        store = self.models.store
        photos = [f for f in files if f.image_item is not None]
        vectors = self._vectors(photos)
        item_file = {f.image_item: f.file_id for f in photos}
        pairs: set[tuple[int, int]] = set()
        for f in photos:
            vector = vectors.get(f.image_item or -1)
            if vector is None:
                continue
            ids, scores = store.query(Modality.IMAGE, vector, NEIGHBOURS + 1)
            for item_id, score in zip(ids.tolist(), scores.tolist(), strict=True):
                other = item_file.get(int(item_id))
                if other is None or other == f.file_id or score < least:
                    continue
                i, j = index[f.file_id], index[other]
                pairs.add((min(i, j), max(i, j)))
        return pairs


def collapse(
    results: list[SearchResult], copies: dict[int, list[CopyCandidate]]
) -> list[SearchResult]:
    """One result per group: the best ranked shows the paths of its copies; copies ranked
    lower are left out."""
    out: list[SearchResult] = []
    absorbed: set[int] = set()
    for result in results:
        if result.file_id in absorbed:
            continue
        others = copies.get(result.file_id, [])
        absorbed.update(o.file_id for o in others)
        out.append(
            dataclasses.replace(result, copies=tuple(o.path for o in others)) if others else result
        )
    return out


def same_moment(a: CopyCandidate, b: CopyCandidate) -> bool:
    """False when the cameras say two look-alikes were taken at other times or places
    (two shots of one scene, not copies); true where either does not say."""
    if (
        a.taken_utc is not None
        and b.taken_utc is not None
        and abs(a.taken_utc - b.taken_utc) > MAX_SHOT_SECONDS
    ):
        return False
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return True
    return _km_apart(a.lat, a.lon, b.lat, b.lon) <= MAX_SHOT_KM


def _km_apart(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def choose_keeper(files: Sequence[CopyCandidate]) -> list[DuplicateFile]:
    """The group's files, the one to keep first: the most pixels, then an original format
    over a re-encode (RAW, HEIC, PNG over JPEG), then the earliest taken (or modified),
    then the shortest path."""
    described = [_describe(f) for f in files]
    ranked = sorted(
        described,
        key=lambda d: (
            -((d.width or 0) * (d.height or 0)),
            _format_rank(d.file_format),
            d.taken or "",
            len(d.path),
            d.path,
        ),
    )
    return [dataclasses.replace(ranked[0], keep=True), *ranked[1:]]


def _group(files: Sequence[CopyCandidate]) -> DuplicateGroup:
    digests = {f.content_hash for f in files}
    exact = len(digests) == 1 and None not in digests
    return DuplicateGroup(files=tuple(choose_keeper(files)), exact=exact)


def _describe(f: CopyCandidate) -> DuplicateFile:
    width, height = f.width, f.height
    if (width is None or height is None) and f.kind is FileKind.PHOTO:
        width, height = _pixel_size(f.path)
    taken = f.taken or datetime.fromtimestamp(f.mtime_ns / 1e9).isoformat(timespec="seconds")
    suffix = Path(f.path).suffix.lstrip(".").upper()
    return DuplicateFile(
        path=f.path,
        size=f.size,
        width=width,
        height=height,
        taken=taken,
        file_format="JPEG" if suffix == "JPG" else suffix,
    )


def _pixel_size(path: str) -> tuple[int | None, int | None]:
    """The picture's size from its header (no decode); (None, None) when unreadable."""
    try:
        with Image.open(path) as img:
            return img.width, img.height
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        log.info("%s: size unknown (%s)", path, exc)
        return None, None


def _format_rank(file_format: str) -> int:
    name = file_format.lower()
    if name in _RAW:
        return 0
    if name in _ORIGINAL:
        return 1
    return 3 if name in {"jpeg", "jpg"} else 2


def _same_bytes_pairs(files: Sequence[CopyCandidate]) -> list[tuple[int, int]]:
    first: dict[str, int] = {}
    pairs: list[tuple[int, int]] = []
    for n, f in enumerate(files):
        if f.content_hash:
            if f.content_hash in first:
                pairs.append((first[f.content_hash], n))
            else:
                first[f.content_hash] = n
    return pairs


def _cosine(vectors: dict[int, np.ndarray], a: CopyCandidate, b: CopyCandidate) -> float | None:
    left = vectors.get(a.image_item or -1)
    right = vectors.get(b.image_item or -1)
    if left is None or right is None:
        return None
    return float(np.dot(left, right))


def _photos_of_items(catalog: Catalog, item_ids: list[int]) -> list[CopyCandidate]:
    found = candidates_by_ids(catalog, sorted(set(file_ids_of_items(catalog, item_ids).values())))
    return [f for f in found if f.kind is FileKind.PHOTO]


def _has_vectors(catalog: Catalog, models: ModelStore | None) -> bool:
    return models is not None and catalog.find_model_id(models.embedder.key) is not None
