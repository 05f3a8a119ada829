"""Calibrated relevance (finder.core.search.relevance): pure, no model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from finder.core.search.relevance import (
    DUPLICATE_COSINE,
    STRONG_LINE,
    TAIL_LINE,
    calibrate,
    label,
    partition,
    relevant,
)
from finder.core.types import FileKind, SearchResult


def _results(scores: list[float]) -> list[SearchResult]:
    return [SearchResult(f"f{i}", FileKind.PHOTO, s) for i, s in enumerate(scores)]


def _calibrated(scores: list[float], **options: bool) -> list[SearchResult]:
    return calibrate(_results(scores), np.asarray(scores), **options)


def test_the_match_is_read_off_the_relevance_and_follows_the_order() -> None:
    rng = np.random.default_rng(3)
    for size in (1, 3, 9, 10, 50):
        for _ in range(50):
            scores = sorted(rng.normal(0.2, 0.05, size).tolist(), reverse=True)
            out = _calibrated(scores)
            assert [r.score for r in out] == scores  # scores are left as they are
            for r in out:
                assert r.relevance is not None and r.match == label(r.relevance)
            for above, below in itertools.pairwise(out):
                assert above.relevance is not None and below.relevance is not None
                assert above.relevance >= below.relevance


def test_results_above_a_clear_break_are_strong_and_the_irrelevant_tail_is_marked() -> None:
    # Eight related results (under 2 spreads above the mean: so many lift the mean), a
    # clear break, then 42 unrelated ones.
    scores = [0.30 - 0.002 * i for i in range(8)] + [0.24 - 0.003 * i for i in range(42)]
    out = _calibrated(scores)
    assert [r.match for r in out[:9]] == ["strong"] * 8 + ["weak"]
    assert out[7].relevance == pytest.approx(STRONG_LINE)  # lifted onto the line
    assert out[-1].match == "tail" and (out[-1].relevance or 1.0) < TAIL_LINE
    shown, tail = partition(out)
    assert shown + tail == out and all(r.match == "tail" for r in tail) and tail
    assert relevant(out) == shown and relevant(out, show_all=True) == out


def test_a_small_pool_has_no_tail() -> None:
    out = _calibrated([0.3, 0.1, 0.0, -0.5])
    assert "tail" not in {r.match for r in out}
    assert min(r.relevance or 0.0 for r in out) == pytest.approx(TAIL_LINE)


def test_a_copy_of_the_query_picture_is_as_relevant_as_it_is_similar() -> None:
    scores = [1.0, 0.99, 0.97, 0.96]  # a random model: every picture looks alike
    plain = _calibrated(scores)
    pictures = _calibrated(scores, pictures=True)
    assert (plain[0].relevance or 1.0) < 0.99  # 3 others say little
    assert [r.relevance for r in pictures] == pytest.approx([1.0, 0.99, 0.97, 0.96])
    assert pictures[0].match == "strong" and pictures[2].match == "weak"
    below = [DUPLICATE_COSINE - 0.01, 0.94, 0.93, 0.9]  # not copies: read as any other
    assert _calibrated(below, pictures=True) == _calibrated(below)
