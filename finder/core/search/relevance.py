"""Scores people can read: a per-query, per-model calibration of raw cosine similarity.

Raw cosine means nothing to a user and differs between models (SigLIP's and CLIP's
ranges barely overlap). Each result is placed against the distribution of scores of its
own candidate pool for that query and that model:
  - relevance: the share of a normal distribution fitted to the pool (mean, spread)
    below the score, 0..1 ("better than 97% of the candidates");
  - match: "strong" above the largest gap among the top scores (where the clearly
    related results end) or 2 spreads above the mean, "weak" down to one spread below
    the mean, "tail" beneath: clearly irrelevant, hidden unless asked for.

The match is always read off the relevance (`label`): "strong" at STRONG_LINE and
above, "tail" under TAIL_LINE. So a result above a clear break but under 2 spreads is
lifted to the strong line (with the strong results above it, keeping their order), and a
small pool's weak results are kept at the tail line. Every front end and every signal
then shares one scale, on which fusion (finder.core.search.ranking) works.

Pictures compared with a picture are also read on an absolute scale: 1 is the same
picture, and a copy resized, re-encoded or cropped a little stays above
DUPLICATE_COSINE with any CLIP, whatever the other candidates are.
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
DUPLICATE_COSINE = 0.95  # picture vs picture at or above this: the same picture


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


STRONG_LINE = _normal_cdf(STRONG_Z)  # ~0.977
TAIL_LINE = _normal_cdf(TAIL_Z)  # ~0.159
STRONG, WEAK, TAIL = "strong", "weak", "tail"


def label(relevance: float) -> str:
    """The match a relevance stands for: the one rule every result is labelled by."""
    if relevance >= STRONG_LINE:
        return STRONG
    return WEAK if relevance >= TAIL_LINE else TAIL


def calibrate(
    results: Sequence[SearchResult], pool: np.ndarray, *, pictures: bool = False
) -> list[SearchResult]:
    """`results` (best first) with relevance and match set from their pool's scores.

    `pictures`: the scores compare a picture with pictures, so a near copy
    (DUPLICATE_COSINE) is as relevant as its similarity whatever the pool says.
    """
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
    zs = [(r.score - mean) / spread for r in results]
    strong = [
        (r.score >= cut and z >= 1.0) or z >= STRONG_Z for r, z in zip(results, zs, strict=True)
    ]
    # The strong results are the top ones: lift them together until the lowest of them
    # stands on the strong line.
    lift = max(
        0.0, STRONG_Z - min((z for z, s in zip(zs, strong, strict=True) if s), default=STRONG_Z)
    )
    has_tail = len(scores) >= MIN_POOL_FOR_TAIL
    out = []
    for r, z, is_strong in zip(results, zs, strong, strict=True):
        if is_strong:
            relevance = _normal_cdf(z + lift)
        elif z >= TAIL_Z or not has_tail:
            relevance = max(_normal_cdf(z), TAIL_LINE)  # under 2 spreads: under the line
        else:
            relevance = _normal_cdf(z)
        if pictures and r.score >= DUPLICATE_COSINE:
            relevance = max(relevance, min(float(r.score), 1.0))
        out.append(dataclasses.replace(r, relevance=relevance, match=label(relevance)))
    return out


def relevant(results: Sequence[SearchResult], show_all: bool = False) -> list[SearchResult]:
    """Drop the clearly irrelevant tail (unless `show_all`)."""
    return list(results) if show_all else partition(results)[0]


def partition(results: Sequence[SearchResult]) -> tuple[list[SearchResult], list[SearchResult]]:
    """(the results worth showing, the clearly irrelevant tail), each in order: what a
    front end lists, and what it keeps behind a "show N weaker matches" row."""
    shown = [r for r in results if r.match != TAIL]
    return shown, [r for r in results if r.match == TAIL]
