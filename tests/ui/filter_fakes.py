"""What the filter tests share: a recorder in place of the library's text search, and
words understood as the test says (the window's search thread asks them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from finder.core.search.filters import NO_FILTERS, Filters
from finder.core.search.understanding import Understood
from finder.core.types import SearchKind, SearchResult


@dataclass
class Searches:
    """Stands in for Library.search_text: records each call's meaning, kind and filters."""

    calls: list[tuple[str, SearchKind, Filters]] = field(default_factory=list)

    def __call__(
        self, text: str, kind: SearchKind, k: int, *, filters: Filters = NO_FILTERS, **_: object
    ) -> list[SearchResult]:
        self.calls.append((text, kind, filters))
        return []

    @property
    def last_filters(self) -> Filters:
        return self.calls[-1][2]


@dataclass
class Words:
    """Stands in for the query understanding: `text` understood as `filters`."""

    understood: dict[str, tuple[str, Filters]] = field(default_factory=dict)

    def __call__(self, text: str) -> Understood:
        meaning, filters = self.understood.get(text, (text, NO_FILTERS))
        return Understood(meaning, filters, {"place": "in Lisbon"} if filters.place else {})


def searching(controller, qtbot):  # type: ignore[no-untyped-def]
    """The controller's window, its model loaded, searching into a recorder."""
    controller.start()
    searches, words = Searches(), Words()
    controller.library.search_text = searches
    controller.search_worker.understand = words
    return searches, words


def wait_for_search(qtbot, searches: Searches, count: int) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: len(searches.calls) >= count, timeout=10_000)
    qtbot.wait(20)  # the answer's signals reach the GUI thread
