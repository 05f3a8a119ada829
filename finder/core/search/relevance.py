"""Scores people can read: a per-query, per-model calibration of raw cosine similarity.

Raw cosine means nothing to a user and differs between models (SigLIP's and CLIP's
ranges barely overlap). Each result is placed against the distribution of scores of its
own candidate pool for that query and that model:
  - relevance: the share of a normal distribution fitted to the pool (mean, spread)
    below the score, 0..1 ("better than 97% of the candidates");
  - match: "strong" above the largest gap among the top scores (where the clearly
    related results end) or 2 spreads above the mean, "weak" down to one spread below
    the mean, "tail" beneath: clearly irrelevant, hidden unless asked for.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from finder.core.types import SearchResult

MIN_SPREAD = 0.02  # floor for the pool's standard deviation (tiny pools, ties)
GAP_WINDOW = 10  # the strong/weak cut is looked for among this many top scores
STRONG_Z = 2.0
TAIL_Z = -1.0
MIN_POOL_FOR_TAIL = 10  # fewer candidates say nothing about what is irrelevant


def calibrate(results: Sequence[SearchResult], pool: np.ndarray) -> list[SearchResult]:
    """`results` (best first) with relevance and match set from their pool's scores."""
    if not results:
        return []
    scores = np.asarray(pool if len(pool) else [r.score for r in results], dtype=np.float64)
    mean = float(scores.mean())
    spread = max(float(scores.std()) if len(scores) > 1 else 0.0, MIN_SPREAD)
    top = sorted((r.score for r in results), reverse=True)[:GAP_WINDOW]
    cut = math.inf
    if len(top) > 1:
        gaps = [top[i] - top[i + 1] for i in range(len(top) - 1)]
        widest = int(np.argmax(gaps))
        if gaps[widest] >= 0.5 * spread:  # a real break, not noise
            cut = top[widest]
    out = []
    for r in results:
        z = (r.score - mean) / spread
        match = (
            "strong"
            if (r.score >= cut and z >= 1.0) or z >= STRONG_Z
            else ("weak" if z >= TAIL_Z or len(scores) < MIN_POOL_FOR_TAIL else "tail")
        )
        relevance = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
        out.append(dataclasses.replace(r, relevance=round(relevance, 3), match=match))
    return out


def relevant(results: Sequence[SearchResult], show_all: bool = False) -> list[SearchResult]:
    """Drop the clearly irrelevant tail (unless `show_all`)."""
    return list(results) if show_all else [r for r in results if r.match != "tail"]
