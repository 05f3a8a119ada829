"""What a typed query says besides its meaning: when, where, which kind, and what not
(issue #17). Pure: `today` and the place look-ups come in as parameters.

    understand("at the beach in Portugal summer 2019 -dogs", today, places)
    -> Understood(meaning="at the beach", filters=Filters(after=2019-06-01,
       before=2019-08-31, place="Portugal", exclude=("dogs",)))

Read, in this order, each from the words the readers before it left:
  - when (query_dates.py): a year ("2019", 1900 up to this year), a month or a
    season of a year ("march 2021", "summer 2019": northern-hemisphere meteorological
    seasons, spring March-May, summer June-August, autumn/fall September-November,
    winter December of the year before through February), a day ("2019-07-14", "14
    july 2019"), a decade ("1990s"), ranges ("2018-2020", "from 2018 to 2020", "between
    march 2020 and may 2021"), open ends ("since 2018", "after 2018", "before 2019",
    "until 2019") and days relative to `today` ("today", "yesterday", "this/last
    week|month|year|summer...", "last march", "last 30 days", "2 years ago"). A month
    alone ("march", "may") stays meaning. Several of them: the span covering them all.
    Not in a search for documents only (`kind` DOCS): there a year is what a document is
    about ("tax return 2023", made in 2024), not when it was made, and stays meaning.
  - what not: "-dogs", '-"red car"', "without people", "excluding cars", and "no X"
    after the first word ("beach no people"; "no entry sign" is meaning). "without
    people or dogs": both. Not a filter: results near them are pushed down
    (push_down.py).
  - which kind: "photos", "pictures", "images" -> photos; "documents", "docs", "pdfs"
    -> documents (the word leaves the meaning); "screenshots" -> photos, and the word
    stays in the meaning (CLIP knows what a screenshot looks like).
  - where: a name after "in", "at" or "near" that a look-up knows. A word can be both a
    place and a thing ("Bath", "Beach", "Nice"): it errs toward meaning unless it is the
    last words after "in"/"at" ("baby in the bath" stays meaning) or is typed with a
    capital in the middle of the query ("in Lisbon at night"). `places` is the
    library's own place names; `gazetteer`, the world's, is asked only for the last
    words, typed with a capital ("skyline in New York", but "receipt at Best Buy" is
    meaning though Best is a Dutch town): a lower-case or mid-query name needs a place
    the library has photos of.
Quoted words ("2019") are always meaning. What is left, tidied, is the meaning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from finder.core.search.filters import NO_FILTERS, Filters
from finder.core.search.query_dates import read_dates
from finder.core.search.query_words import (
    OUTER_PUNCTUATION,
    Word,
    free,
    leftover,
    text_at,
    tokens,
    use,
)
from finder.core.types import SearchKind

# A place name (as typed) -> its name as the library or gazetteer spells it, or None.
PlaceLookup = Callable[[str], str | None]


@dataclass(frozen=True)
class Understood:
    """A query split into what it means and what narrows it.

    `meaning` goes to the model and the keywords; `filters` narrow and push down.
    `said` keeps the words each filter came from (keys: "when", "place", "kind",
    "exclude"), for a front end to label its chips with what the user typed.
    """

    meaning: str
    filters: Filters = NO_FILTERS
    said: Mapping[str, str] = field(default_factory=dict)

    @property
    def searched(self) -> str:
        """The text to give the model and the keywords: the meaning, or when every word
        was a filter ("in Lisbon", "2019", "photos"), those words, among the files the
        filters allow. "" when only exclusions were typed ("-dogs")."""
        if self.meaning:
            return self.meaning
        return " ".join(words for name, words in self.said.items() if name != "exclude")

    def to_json(self) -> dict[str, object]:
        """What `finder search --parse` prints: dates ISO 8601, null when absent."""
        f = self.filters
        return {
            "meaning": self.meaning,
            "after": f.after.isoformat() if f.after else None,
            "before": f.before.isoformat() if f.before else None,
            "place": f.place,
            "kind": f.kind.value if f.kind else None,
            "exclude": list(f.exclude),
        }


def literal(query: str) -> Understood:
    """The query taken word for word (`--literal`)."""
    return Understood(query.strip())


def understand(
    query: str,
    today: date,
    places: PlaceLookup | None = None,
    *,
    gazetteer: PlaceLookup | None = None,
    kind: SearchKind | None = None,
) -> Understood:
    """`query` split into meaning and filters; `today` dates "last year" and the like,
    `places` and `gazetteer` say which names are places, `kind` is what the search was
    asked for (see the module)."""
    words = tokens(query)
    said: dict[str, str] = {}
    after, before = (None, None) if kind is SearchKind.DOCS else read_dates(words, today, said)
    exclude = _read_exclusions(words, said)
    kind = _read_kind(words, said)
    place = _read_place(words, places, gazetteer, said)
    filters = Filters(after=after, before=before, place=place, kind=kind, exclude=exclude)
    return Understood(leftover(words), filters, said)


# -- what not ----------------------------------------------------------------------------------

_WITHOUT = frozenset({"without", "excluding", "except", "minus"})
_NO = frozenset({"no"})  # only after the first word: "no entry sign" is meaning
_LIST_GOES_ON = frozenset({"or", "nor", "and"})
_PHRASE_ENDS = frozenset(
    {"in", "at", "near", "from", "during", "since", "before", "after", "with", "but", "on"}
)
_MAX_EXCLUDED_WORDS = 4


def _read_exclusions(words: list[Word], said: dict[str, str]) -> tuple[str, ...]:
    excluded: list[str] = []
    typed: list[str] = []
    for i, w in enumerate(words):
        if w.used:
            continue
        if len(w.typed) > 1 and w.typed[0] == "-" and (w.typed[1].isalpha() or w.quoted):
            concept = w.typed[1:].strip('"').strip() if w.quoted else w.text.lstrip("-")
            if concept:
                excluded.append(concept)
                typed.append(use(words, i, i + 1))
            continue
        if w.quoted or not (w.text in _WITHOUT or (w.text in _NO and i > 0)):
            continue
        concepts, end = _excluded_phrases(words, i + 1)
        if concepts:
            start = i - 1 if w.text in _NO and text_at(words, i - 1) == "with" else i
            excluded += concepts
            typed.append(use(words, start, end))
    if typed:
        said["exclude"] = ", ".join(typed)
    return tuple(dict.fromkeys(excluded))


def _excluded_phrases(words: list[Word], i: int) -> tuple[list[str], int]:
    """The concepts after "without": up to a linking word, a comma or a filter read
    already; "or"/"and"/"nor" go on to another one. (concepts, index after them)."""
    concepts: list[str] = []
    while True:
        j = i
        while (
            j - i < _MAX_EXCLUDED_WORDS
            and free(words, j)
            and words[j].text not in _PHRASE_ENDS | _LIST_GOES_ON
        ):
            j += 1
            if words[j - 1].ends_clause:
                break
        if j == i:
            return concepts, i - (1 if concepts else 0)  # a dangling "or" is not ours
        concepts.append(" ".join(w.text for w in words[i:j]))
        if words[j - 1].ends_clause or text_at(words, j) not in _LIST_GOES_ON:
            return concepts, j
        i = j + 1


# -- which kind ---------------------------------------------------------------------------------

_KIND_WORDS = {
    "photos": SearchKind.PHOTOS,
    "pictures": SearchKind.PHOTOS,
    "pics": SearchKind.PHOTOS,
    "images": SearchKind.PHOTOS,
    "photographs": SearchKind.PHOTOS,
    "documents": SearchKind.DOCS,
    "docs": SearchKind.DOCS,
    "pdfs": SearchKind.DOCS,
    "pdf": SearchKind.DOCS,
}
_KEPT_KIND_WORDS = {"screenshots": SearchKind.PHOTOS, "screenshot": SearchKind.PHOTOS}
_KIND_LINKS = frozenset({"of", "about", "with", "from", "showing"})
_KIND_LEADS = frozenset({"my", "all"})


def _read_kind(words: list[Word], said: dict[str, str]) -> SearchKind | None:
    kinds: set[SearchKind] = set()
    typed: list[str] = []
    for i, w in enumerate(words):
        if not free(words, i):
            continue
        if w.text in _KEPT_KIND_WORDS:
            kinds.add(_KEPT_KIND_WORDS[w.text])
            typed.append(w.typed)
        elif w.text in _KIND_WORDS:
            kinds.add(_KIND_WORDS[w.text])
            start = i - 1 if text_at(words, i - 1) in _KIND_LEADS else i
            end = i + 2 if text_at(words, i + 1) in _KIND_LINKS else i + 1
            typed.append(use(words, start, end))
    if typed:
        said["kind"] = ", ".join(typed)
    return kinds.pop() if len(kinds) == 1 else None  # photos and documents: both


# -- where -----------------------------------------------------------------------------------------

_PLACE_WORDS = frozenset({"in", "at", "near"})
_MAX_PLACE_WORDS = 3


def _read_place(
    words: list[Word],
    places: PlaceLookup | None,
    gazetteer: PlaceLookup | None,
    said: dict[str, str],
) -> str | None:
    """The first place named after "in", "at" or "near" (the longest name first)."""
    for i, w in enumerate(words):
        if not free(words, i) or w.text not in _PLACE_WORDS:
            continue
        starts = [i + 1]
        if text_at(words, i + 1) == "the" and i + 2 < len(words) and _capital(words[i + 2]):
            starts.append(i + 2)  # "in the Netherlands" (but "at the beach" is a beach)
        for start in starts:
            for end in range(min(len(words), start + _MAX_PLACE_WORDS), start, -1):
                found = _place(words, start, end, places, gazetteer)
                if found is not None:
                    said["place"] = use(words, i, end)
                    return found
    return None


def _capital(w: Word) -> bool:
    return w.typed[:1].isupper()


def _place(
    words: list[Word],
    start: int,
    end: int,
    places: PlaceLookup | None,
    gazetteer: PlaceLookup | None,
) -> str | None:
    """The place words start..end name, if they may name one here (see the module).
    "Lisbon, Portugal": the first, when each part is a place."""
    if not all(free(words, j) for j in range(start, end)):
        return None
    last = words[end - 1].ends_clause or all(w.used for w in words[end:])
    capital = _capital(words[start])
    if not (last or capital):
        return None  # a lower-case word in mid-query: meaning

    def known(name: str) -> str | None:
        found = places(name) if places is not None else None
        if found is None and capital and last and gazetteer is not None:
            found = gazetteer(name)
        return found

    name = " ".join(w.typed for w in words[start:end]).strip(OUTER_PUNCTUATION)
    found = known(name)
    parts = [part.strip() for part in name.split(",")]
    if found is None and len(parts) > 1 and all(known(part) for part in parts[1:]):
        found = known(parts[0])
    return found


def with_filters(understood: Understood, explicit: Filters) -> Understood:
    """The understood query with explicit filters (CLI flags, chips) over its own."""
    return dataclasses.replace(understood, filters=understood.filters.merged(explicit))
