"""Concepts to keep away from ("-dogs", "without people"): meaning arithmetic.

rclip ranks by (the wanted queries' vectors - the unwanted ones') . item: a result's
similarity to what is wanted less its similarity to what is not. Here too, with two
differences. The candidates are still the items nearest the query, WIDEN times as many
as usual so that what drops out of the top can be replaced from below: "beach -people"
gives beaches without people first and beaches with people further down, never every
picture that shows no people. And the difference is taken on each candidate's own
similarities (the wanted one from the vector index, the unwanted ones from its stored
vector), so the pool the scores are calibrated against (relevance.calibrate) is the
pushed-down one.

Several excluded concepts add up, as rclip's do: each costs a result its similarity to
it, times WEIGHT. Keywords have no similarity to subtract: a keyword hit whose file name,
folder or passage holds an excluded concept's words leaves the keyword list
(`without_words`), so red_circle.png is no longer lifted by "circle" in "a circle -red";
its meaning still ranks it, pushed down.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence

import numpy as np

from finder.core.search.keywords import tokens
from finder.core.types import SearchResult

WEIGHT = 1.0  # rclip's: an unwanted concept counts as much as the wanted query
WIDEN = 3  # candidates fetched per result wanted when something is excluded

# item ids -> their vectors (one row each, in that order); an item without one is skipped
ItemVectors = Callable[[Sequence[int]], tuple[np.ndarray, np.ndarray]]


def away_from(
    encode_texts: Callable[[list[str]], np.ndarray], concepts: Sequence[str]
) -> np.ndarray | None:
    """The vector the excluded concepts' vectors add up to; None when there are none."""
    if not concepts:
        return None
    total: np.ndarray = np.asarray(encode_texts(list(concepts)), dtype=np.float32).sum(axis=0)
    return total


def push_down(
    results: Sequence[SearchResult],
    away: np.ndarray,
    item_vectors: ItemVectors,
    k: int,
) -> tuple[list[SearchResult], np.ndarray]:
    """The `k` best of `results` (scored by similarity to the query) once each has lost
    WEIGHT times its similarity to `away`, best first, and their new scores."""
    if not results:
        return [], np.zeros(0, dtype=np.float32)
    ids, vectors = item_vectors([r.item_id for r in results])
    unwanted = dict(zip(ids.tolist(), (vectors @ away).tolist(), strict=True)) if len(ids) else {}
    scores = np.asarray(
        [r.score - WEIGHT * unwanted.get(r.item_id, 0.0) for r in results], dtype=np.float32
    )
    order = np.argsort(-scores, kind="stable")[:k]
    pushed = [dataclasses.replace(results[i], score=float(scores[i])) for i in order]
    return pushed, scores[order]


def without_words(results: Sequence[SearchResult], concepts: Sequence[str]) -> list[SearchResult]:
    """Keyword hits less those whose file name, folder or passage holds every word of an
    excluded concept, in order."""
    avoid = [" " + " ".join(words) + " " for c in concepts if (words := tokens(c))]
    if not avoid:
        return list(results)

    def holds(r: SearchResult) -> bool:
        folder, name = os.path.split(r.path)
        said = " " + " ".join(tokens(f"{os.path.basename(folder)} {name} {r.snippet or ''}"))
        return any(phrase in said + " " for phrase in avoid)

    return [r for r in results if not holds(r)]
