"""When two photos are the same shot: the rule, its thresholds, and grouping. Pure logic.

The evidence for a pair is the distance of their perceptual fingerprints (dHash bits and
colour layout, finder/core/ingest/perceptual.py) and, when the model's weights mean
something, the cosine of their embeddings. The thresholds come from bench/duplicates.py
(generated scenes with resized, recompressed, re-encoded, cropped, brightened and burst
copies, against unrelated pictures and same-shape-other-colour pictures); the README
gives the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

CHUNK_BITS = 16  # candidate pairs share one 16-bit quarter of their dHash
WINDOW = 8  # photos sharing a quarter: each paired with the next WINDOW (by whole hash)
TIME_WINDOW = 4  # photos paired with the next ones taken (bursts, edits keeping the date)


@dataclass(frozen=True)
class Evidence:
    bits: int  # dHash bits that differ (0..64)
    colour: float  # mean colour-layout difference, levels (0..255)
    cosine: float | None  # embedding cosine; None when unknown or meaningless (random weights)


@dataclass(frozen=True)
class NearRule:
    """Copies (resized, recompressed, re-encoded: the structure survives) are close by the
    fingerprint alone; edited copies and burst neighbours need the model to agree."""

    # Measured (bench/duplicates.py, README "Duplicates"): resized, recompressed and
    # re-encoded copies are at most 4 bits and 2 levels apart; a circle and a square of
    # one colour 2 bits and 10 levels, other pictures further.
    copy_bits: int = 6
    copy_colour: float = 5.0
    copy_cosine: float = 0.85  # a guard against fingerprint look-alikes, when known
    # Cropped (4%), brightened (+12%) and burst copies: up to 11 bits, 26 levels; the
    # model must agree.
    edit_bits: int = 12
    edit_colour: float = 24.0
    edit_cosine: float = 0.93

    def may_be_near(self, bits: int) -> bool:
        """False when the dHashes alone rule a pair out (checked before the rest)."""
        return bits <= max(self.copy_bits, self.edit_bits)

    def near(self, e: Evidence) -> bool:
        if e.bits <= self.copy_bits and e.colour <= self.copy_colour:
            return e.cosine is None or e.cosine >= self.copy_cosine
        return (
            e.cosine is not None
            and e.cosine >= self.edit_cosine
            and e.bits <= self.edit_bits
            and e.colour <= self.edit_colour
        )

    def describe(self) -> dict[str, object]:
        return {
            "copy": {
                "max_hash_bits": self.copy_bits,
                "max_colour_levels": self.copy_colour,
                "min_cosine_when_known": self.copy_cosine,
            },
            "edit_or_burst": {
                "max_hash_bits": self.edit_bits,
                "max_colour_levels": self.edit_colour,
                "min_cosine": self.edit_cosine,
            },
        }


def candidate_pairs(hashes: Sequence[int | None]) -> set[tuple[int, int]]:
    """`candidates(hashes)` as a set of index pairs (i < j)."""
    return {(int(i), int(j)) for i, j in candidates(hashes).tolist()}


def candidates(
    hashes: Sequence[int | None], times: Sequence[str | None] | None = None
) -> np.ndarray:
    """Index pairs (i < j), one per row, worth comparing; linear in the number of photos.

    Photos are sorted by each 16-bit quarter of their dHash (then the whole hash), and
    each is paired with the next WINDOW photos sharing that quarter: every pair up to 3
    bits apart shares a quarter (pigeonhole) and is found, unless more than WINDOW
    look-alikes share it (flat pictures), when the nearest by whole hash are. With
    `times` (ISO dates taken, or anything that sorts the same way), each photo is also
    paired with the next TIME_WINDOW taken: burst shots follow each other, and edited
    copies keep their date taken."""
    known = np.asarray([h is not None for h in hashes], dtype=bool)
    values = np.asarray([h or 0 for h in hashes], dtype=np.uint64)
    mask = np.uint64((1 << CHUNK_BITS) - 1)
    found: list[np.ndarray] = []
    for shift in range(0, 64, CHUNK_BITS):
        quarter = (values >> np.uint64(shift)) & mask
        order = np.lexsort((values, quarter))
        order = order[known[order]]
        for step in range(1, WINDOW + 1):
            same = quarter[order[:-step]] == quarter[order[step:]]
            found.append(np.stack([order[:-step][same], order[step:][same]], axis=1))
    if times is not None:
        dated = np.asarray([i for i, t in enumerate(times) if t], dtype=np.int64)
        order = dated[
            np.argsort(np.asarray([times[i] for i in dated], dtype=object), kind="stable")
        ]
        for step in range(1, TIME_WINDOW + 1):
            found.append(np.stack([order[:-step], order[step:]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(found).astype(np.int64), axis=1)
    return np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)


def within_bits(
    hashes: Sequence[int | None], pairs: Iterable[tuple[int, int]] | np.ndarray, max_bits: int
) -> list[tuple[int, int]]:
    """The pairs whose dHashes differ by at most `max_bits`, all compared at once."""
    listed = np.asarray(pairs if isinstance(pairs, np.ndarray) else list(pairs), dtype=np.int64)
    listed = listed.reshape(-1, 2)
    if not len(listed):
        return []
    known = np.asarray([h is not None for h in hashes], dtype=bool)
    values = np.asarray([h or 0 for h in hashes], dtype=np.uint64)
    bits = np.bitwise_count(values[listed[:, 0]] ^ values[listed[:, 1]])
    keep = (bits <= max_bits) & known[listed[:, 0]] & known[listed[:, 1]]
    return [(int(i), int(j)) for i, j in listed[keep].tolist()]


def neighbours_in_time(
    times: Sequence[str | None], window: int = TIME_WINDOW
) -> set[tuple[int, int]]:
    """Index pairs (i < j) of photos at most `window` apart when sorted by when they were
    taken: burst shots follow each other, and edited copies keep their date taken."""
    ordered = sorted((t, i) for i, t in enumerate(times) if t)
    pairs: set[tuple[int, int]] = set()
    for n, (_, i) in enumerate(ordered):
        pairs.update((min(i, j), max(i, j)) for _, j in ordered[n + 1 : n + 1 + window])
    return pairs


def groups_of_pairs(
    count: int,
    pairs: Iterable[tuple[int, int]],
    may_join: Callable[[list[int], list[int]], bool] | None = None,
) -> list[list[int]]:
    """Connected groups (two or more members, each sorted) of `count` things joined by
    `pairs`, in their order, by union-find. `may_join(members, others)` can refuse to
    join two groups (a copy without a date must not chain two shots taken days apart)."""
    parent = list(range(count))
    members: dict[int, list[int]] = {i: [i] for i in range(count)}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        a, b = root(i), root(j)
        if a == b or (may_join is not None and not may_join(members[a], members[b])):
            continue
        keep, gone = min(a, b), max(a, b)
        parent[gone] = keep
        members[keep] += members.pop(gone)
    return [sorted(group) for group in members.values() if len(group) > 1]
