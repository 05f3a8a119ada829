"""Fusion on evidence (finder.core.search.ranking): pure, no model."""

from __future__ import annotations

import itertools
import random

from finder.core.search.ranking import RRF_K, fuse, keyword_relevance
from finder.core.search.relevance import STRONG_LINE, TAIL_LINE, label
from finder.core.types import FileKind, SearchResult

_LEVEL = {"tail": 0, "weak": 1, "strong": 2}


def _r(
    path: str,
    score: float = 0.5,
    *,
    signal: str = "passage",
    page: int | None = None,
    snippet: str | None = None,
    terms: tuple[str, ...] = (),
    relevance: float | None = None,
) -> SearchResult:
    return SearchResult(
        path=path,
        kind=FileKind.DOCUMENT,
        score=score,
        snippet=snippet,
        page=page,
        matched_terms=terms,
        signals=(signal,),
        relevance=relevance,
    )


def _word_hit(path: str, share: float, weight: float) -> SearchResult:
    return _r(path, share, signal="keyword", relevance=keyword_relevance(share, weight))


def _meaning(path: str, relevance: float) -> SearchResult:
    return _r(path, relevance, signal="image", relevance=relevance)


def _assert_numbers_follow_the_order(results: list[SearchResult]) -> None:
    for above, below in itertools.pairwise(results):
        assert above.score >= below.score
        assert above.relevance is not None and below.relevance is not None
        assert above.relevance >= below.relevance
        assert _LEVEL[above.match] >= _LEVEL[below.match]
    assert all(r.match == label(r.score) for r in results)


def test_fusion_rewards_files_found_by_several_signals() -> None:
    keyword = [_r("b", 1.0, signal="keyword", terms=("4471",)), _r("c", 1.0, signal="keyword")]
    meaning = [
        _r("a", 0.9),
        _r("c", 0.8),
        _r("x", 0.75),
        _r("b", 0.7, snippet="best passage", page=3),
    ]
    fused = fuse({"keyword": keyword, "meaning": meaning}, k=10)
    # c and b hold every word (strong), c is nearer by meaning; a: meaning alone.
    assert [r.path for r in fused] == ["c", "b", "a", "x"]
    b = fused[1]
    assert b.signals == ("keyword", "passage") and b.matched_terms == ("4471",)
    assert b.snippet == "best passage" and b.page == 3  # borrowed from the passage entry
    assert fuse({"keyword": [], "meaning": []}, 5) == []
    assert len(fuse({"meaning": meaning}, 2)) == 2


def test_fusion_weighs_keyword_hits_by_the_share_of_words_found() -> None:
    keyword = [_r("half", 0.5, signal="keyword"), _r("all", 1.0, signal="keyword")]
    fused = fuse({"keyword": keyword}, 5)
    assert [r.path for r in fused] == ["all", "half"]
    # A single list keeps its order, ties keep the order of the lists.
    assert [r.path for r in fuse({"image": [_r("x"), _r("y")]}, 5)] == ["x", "y"]
    tie = fuse({"keyword": [_r("k", 1.0, signal="keyword")], "meaning": [_r("m")]}, 5)
    assert [r.path for r in tie] == ["k", "m"] and RRF_K > 0


def test_a_strong_match_by_meaning_is_never_outranked_by_a_name_sharing_a_word() -> None:
    # "a red circle": IMG_3201.jpg shows one; red_square.jpg and purple_circle.jpg share a
    # word of their names with the query and are middling by meaning.
    meaning = [
        _meaning("red_square", 0.95),
        _meaning("purple_circle", 0.93),
        _meaning("IMG_3201", 0.98),
        _meaning("IMG_0001", 0.6),
    ]
    keyword = [_word_hit("red_square", 0.5, 0.25), _word_hit("purple_circle", 0.5, 0.25)]
    fused = fuse({"keyword": keyword, "meaning": meaning}, 10)
    assert [r.path for r in fused][:1] == ["IMG_3201"]
    assert fused[0].match == "strong" and {r.match for r in fused[1:]} == {"weak"}
    _assert_numbers_follow_the_order(fused)
    # Whatever their meaning (short of strong) and however many words they share short
    # of all, files are weak: never above a strong one.
    for relevance, share in itertools.product((0.2, 0.6, 0.9, 0.97, 0.9772), (0.25, 0.5, 0.9)):
        rival = fuse(
            {
                "keyword": [_word_hit("rival", share, share)],
                "meaning": [_meaning("rival", relevance)],
            },
            1,
        )[0]
        assert rival.score < STRONG_LINE and rival.match == "weak"


def test_an_exact_number_a_phrase_or_every_word_in_a_text_still_wins() -> None:
    # "invoice 4471": another invoice is as near by meaning as can be, and holds "invoice".
    meaning = [_r("invoice_4470", 0.8, relevance=0.999), _r("invoice_4471", 0.7, relevance=0.9)]
    keyword = [
        _word_hit("invoice_4471", 1.0, 1.0),  # both words in its text
        _word_hit("invoice_4470", 0.5, 0.5),
    ]
    fused = fuse({"meaning": meaning, "keyword": keyword}, 5)
    assert [r.path for r in fused] == ["invoice_4471", "invoice_4470"]
    assert fused[0].signals[0] == "keyword" and fused[0].match == "strong"
    # The same words only in a file name stand lower than in a text, yet above the line.
    in_name, in_text = keyword_relevance(1.0, 0.5), keyword_relevance(1.0, 1.0)
    assert STRONG_LINE < in_name < in_text < 1.0
    # Within the weak level, more of the query and words in a text stand higher.
    assert TAIL_LINE < keyword_relevance(0.5, 0.25) < keyword_relevance(0.5, 0.5) < STRONG_LINE


def test_a_single_signal_keeps_its_relevance_and_agreement_adds_up() -> None:
    alone = fuse({"meaning": [_meaning("a", 0.9), _meaning("b", 0.4)]}, 5)
    assert [(r.path, r.score) for r in alone] == [("a", 0.9), ("b", 0.4)]
    # Two signals that agree beat either alone, without leaving their level...
    both = fuse(
        {
            "keyword": [_word_hit("b", 0.5, 0.5)],
            "meaning": [_meaning("a", 0.9), _meaning("b", 0.9)],
        },
        5,
    )
    assert [r.path for r in both] == ["b", "a"] and both[0].score < STRONG_LINE
    # ...and a weaker signal only nudges a stronger file.
    nudged = fuse(
        {
            "keyword": [_word_hit("b", 0.5, 0.5)],
            "meaning": [_meaning("a", 0.99), _meaning("b", 0.99)],
        },
        5,
    )
    assert [r.path for r in nudged] == ["b", "a"] and nudged[0].score - nudged[1].score < 0.002
    # A picture's copy (similarity 1) stays on top of everything.
    copy = fuse({"image": [_meaning("copy", 1.0)], "keyword": [_word_hit("other", 1.0, 1.0)]}, 2)
    assert [r.path for r in copy] == ["copy", "other"] and copy[0].score == 1.0


def test_the_fused_order_always_agrees_with_the_numbers_shown() -> None:
    rng = random.Random(7)
    for _ in range(200):
        paths = [f"f{i}" for i in range(12)]
        lists = {
            "meaning": [_meaning(p, rng.random()) for p in rng.sample(paths, 8)],
            "keyword": [
                _word_hit(p, share, share * rng.choice((0.5, 1.0)))
                for p in rng.sample(paths, 5)
                for share in [rng.choice((0.25, 0.5, 0.75, 1.0))]
            ],
            "passage": [_meaning(p, rng.random()) for p in rng.sample(paths, 4)],
        }
        _assert_numbers_follow_the_order(fuse(lists, 12))
