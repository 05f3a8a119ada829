"""Fusion on evidence: each signal's list of files -> one list, best first.

Every signal says how sure it is on one scale, relevance 0..1 (finder.core.search.relevance),
with three levels read off it: strong (STRONG_LINE and above: about two spreads above the
other candidates), weak, and the tail (under TAIL_LINE: clearly irrelevant).

  - Meaning (the query's embedding against passages, photos, page pictures): the
    calibrated relevance, how far the file stands above the other candidates of this
    model for this query. Raw similarity is not comparable across models, modalities or
    queries; its standing among the candidates is. A picture compared with a picture is
    also read by its similarity itself: a near copy is strong whatever the pool.
  - Keywords (BM25 finds them; `keyword_relevance` weighs them): the share of the query's
    words and phrases (stopwords left out) a file holds, and where. All of them is a
    strong match: in the file's text (a passage, the words read in a picture), or as an
    exact part (a number such as an invoice's 4471, a code, a quoted phrase) anywhere,
    near the top of the strong level (KEYWORD_CEILING); only in its name or folder, just
    above the strong line. Some of them is a weak match, placed in the weak level by that
    same weighted share: one word of two in a file's text halfway up, one word of two in
    its name a quarter of the way (a camera's IMG_0042 shares no word with anything, so
    a name is a hint, never proof).

A file's level is the highest level any of its signals gives it: hints add up within a
level and never lift a file into the next one. So a strong match by meaning (IMG_0042.jpg
showing a red circle) is never outranked by a weak one (red_square.jpg, which shares
"red" with "a red circle", plus a middling meaning), while an exact number, phrase or
every word of the query in a passage stays on top: to pass it by meaning alone, a file
would have to stand about 3.5 spreads above the candidates.

Within its level a file stands at the noisy-OR of its signals' positions in that level,
1 - prod(1 - w * q): independent evidence adds up without passing the level's top, so a
file found by two signals beats one found by either alone. A signal of a lower level
nudges (HINT of its relevance). The weights `w` (WEIGHTS) say how far a signal is
trusted: CLIP reads text in pictures poorly, so a passage matched to a picture counts
half.

A fused result's score is that standing on the shared scale (its relevance is the same,
rounded, and its match the level): the order, the number and the word shown always agree.
Results with equal standing (a clamped floor) keep reciprocal-rank-fusion order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from finder.core.search.relevance import STRONG_LINE, TAIL_LINE, label
from finder.core.types import SearchResult

RRF_K = 60  # reciprocal rank fusion's usual constant: breaks ties of equal evidence

# How much each signal is trusted, in one place. Names are those of the lists given to fuse.
WEIGHTS: dict[str, float] = {
    "keyword": 1.0,  # names, folders, passages and OCR text holding the query's words
    "meaning": 1.0,  # the embeddings (text query: passages and photos)
    "image": 1.0,  # image query vs photos and page images
    "passage": 0.5,  # image query vs passages: CLIP reads text in pictures poorly
    "ocr keyword": 1.0,  # the words read in a query image, as keywords
}
BY_WORDS = frozenset({"keyword", "ocr keyword"})  # lists of keyword hits
KEYWORD_CEILING = 0.99  # all words in a text: this far up the strong level (meaning can still
# order such files among themselves, and a certain match, a picture's copy, stays above)
HINT = 0.1  # what a signal of a lower level adds: a nudge, never a lift
_LEVELS = ((0.0, TAIL_LINE), (TAIL_LINE, STRONG_LINE), (STRONG_LINE, 1.0))


def keyword_relevance(share: float, weight: float) -> float:
    """A keyword hit on the shared scale: it holds `share` of the query's words and
    phrases, `weight` of them counted by where (KeywordQuery.weight)."""
    if share >= 1.0:
        return STRONG_LINE + (1.0 - STRONG_LINE) * KEYWORD_CEILING * min(weight, 1.0)
    return TAIL_LINE + (STRONG_LINE - TAIL_LINE) * min(weight, share)


def fuse(lists: Mapping[str, Sequence[SearchResult]], k: int) -> list[SearchResult]:
    """Fuse lists (one entry per file each) into the top `k` files, strongest first.

    Entries carry their signal's relevance (lists built without one are read by their
    score: a keyword hit's share of words, else a similarity). A fused result is its
    most contributing entry (page, snippet), with the snippet of another entry when that
    one has none, the union of the entries' `matched_terms`, their `signals` ordered by
    contribution, and score, relevance and match from the fused evidence.
    """
    entries: dict[str, list[tuple[str, int, SearchResult]]] = {}
    rrf: dict[str, float] = {}
    for order, (name, results) in enumerate(lists.items()):
        for rank, result in enumerate(results):
            entries.setdefault(result.path, []).append((name, order, result))
            rrf[result.path] = rrf.get(result.path, 0.0) + WEIGHTS[name] / (RRF_K + rank)
    fused = {path: _standing(found) for path, found in entries.items()}
    first_seen = {path: i for i, path in enumerate(entries)}
    ranked = sorted(entries, key=lambda p: (-fused[p][0], -rrf[p], first_seen[p]))[:k]
    return [_merged(entries[path], *fused[path]) for path in ranked]


def _relevance(name: str, result: SearchResult) -> float:
    if result.relevance is not None:
        return result.relevance
    if name in BY_WORDS:  # where the words were is not known: as if in the text
        return keyword_relevance(result.score, result.score)
    return min(max(result.score, 0.0), 1.0)


def _level(relevance: float) -> int:
    return 2 if relevance >= STRONG_LINE else (1 if relevance >= TAIL_LINE else 0)


def _standing(found: list[tuple[str, int, SearchResult]]) -> tuple[float, list[float]]:
    """A file's fused relevance, and each entry's contribution to it."""
    relevances = [_relevance(name, r) for name, _, r in found]
    level = max(_level(e) for e in relevances)
    low, high = _LEVELS[level]
    contributions = []
    missing = 1.0
    for (name, _, _), e in zip(found, relevances, strict=True):
        position = (e - low) / (high - low) if _level(e) == level else HINT * e
        q = WEIGHTS[name] * min(max(position, 0.0), 1.0)
        contributions.append(q)
        missing *= 1.0 - q
    return low + (high - low) * (1.0 - missing), contributions


def _merged(
    found: list[tuple[str, int, SearchResult]], relevance: float, contributions: list[float]
) -> SearchResult:
    # Most contributing first; on a tie, the earlier list.
    ranked = sorted(
        zip(contributions, found, strict=True), key=lambda e: (e[0], -e[1][1]), reverse=True
    )
    ordered = [result for _, (_, _, result) in ranked]
    best = ordered[0]
    page = (
        best.page
        if best.page is not None
        else next((r.page for r in ordered if r.page is not None), None)
    )
    # A page image has no text: show a passage, of the same page where one matched.
    snippet = best.snippet or next(
        (r.snippet for r in sorted(ordered, key=lambda r: r.page != page) if r.snippet), None
    )
    return dataclasses.replace(
        best,
        score=relevance,
        relevance=round(relevance, 3),
        match=label(relevance),
        snippet=snippet,
        page=page,
        matched_terms=tuple(dict.fromkeys(t for r in ordered for t in r.matched_terms)),
        signals=tuple(dict.fromkeys(s for r in ordered for s in r.signals)),
    )
