"""The filters of the window's search (issue #17): those understood from the typed words
and those the person set (a year clicked, the sort), shown as removable chips
(filter_chips.py says what each reads).

`FilterState` holds them and asks the controller to search again when the person changes
them. The words themselves are understood on the search thread (workers.py): only the
answer comes back here, to be shown. A chip understood from the words and removed stays
removed while the words still say it (remembered as dismissed, by name and value), so the
same text does not bring it back.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from finder.core.search.filters import NO_FILTERS, Filters, Sort
from finder.core.search.understanding import Understood
from finder.ui.filter_chips import (
    SAID_KEYS,
    SORT_CHOICES,
    Chip,
    Dismissed,
    chips_for,
    effective,
    only_year,
    without_chip,
    year_range,
    years_touched,
)
from finder.ui.workers import start_task

if TYPE_CHECKING:
    from finder.ui.controller import Controller

# -- the window's filters ----------------------------------------------------------------------


class FilterState(QObject):
    """The filters the window searches with. `changed`: the chips, years or sort to show
    changed; a change the person made also searches again (the controller's search_again)."""

    changed = Signal()
    rerun = Signal()

    def __init__(self, controller: Controller) -> None:
        super().__init__(controller)
        self.controller = controller
        self.chosen = NO_FILTERS  # set by the person: a year, the sort
        self.understood = NO_FILTERS  # from the words of the query shown
        self.dismissed: Dismissed = frozenset()  # understood chips the person removed
        self.said: dict[str, str] = {}  # the words each understood filter came from
        self.years: list[tuple[int, int]] = []  # (year, photos taken), oldest first
        self.rerun.connect(controller.search_again)
        controller.folders_changed.connect(self.refresh_years)
        self.refresh_years()

    # -- what the window shows -----------------------------------------------------------

    @property
    def filters(self) -> Filters:
        return effective(self.chosen, self.understood, self.dismissed)

    @property
    def sort(self) -> Sort:
        return self.chosen.sort

    def chips(self) -> list[Chip]:
        return chips_for(self.filters)

    def describe(self, chip: Chip) -> str:
        """Where a chip came from, for its tooltip: the words typed, or the person's click."""
        if any(c.same_filter(chip) for c in chips_for(self.chosen)):
            return f"{chip.label}: chosen in the years above the results"
        typed = self.said.get(SAID_KEYS[chip.name], "")
        return f"{chip.label}: understood from \u201c{typed}\u201d" if typed else chip.label

    def selected_years(self) -> set[int]:
        return years_touched(self.filters, (y for y, _ in self.years))

    def question(self) -> tuple[object, ...]:
        """What, besides the words, makes a search another question (same: keep the grid's
        place when it refreshes)."""
        return (self.chosen, self.dismissed)

    # -- the person's changes ------------------------------------------------------------

    def remove_chip(self, chip: Chip) -> None:
        """The chip's \u2715: its filter goes, whether set or understood (a clicked year
        over the words' dates: both go)."""
        for mine in chips_for(self.chosen):
            if mine.same_filter(chip):
                self.chosen = without_chip(self.chosen, mine)
        self.dismissed |= {c.key for c in chips_for(self.understood) if c.same_filter(chip)}
        self._changed_by_person()

    def remove_last(self) -> bool:
        """Backspace in an empty query: the last chip goes. False: there was none."""
        chips = self.chips()
        if not chips:
            return False
        self.remove_chip(chips[-1])
        return True

    def toggle_year(self, year: int) -> None:
        """A year clicked: narrow to it; clicked again (the only year shown): all years."""
        if only_year(self.filters) == year:
            [dates] = [c for c in self.chips() if c.name == "dates"]
            self.remove_chip(dates)
            return
        after, before = year_range(year)
        self.chosen = dataclasses.replace(self.chosen, after=after, before=before)
        self._changed_by_person()

    def set_folder(self, folder: str) -> None:
        """Only files under `folder` (a result's "Search only in" menu entry)."""
        if folder != self.chosen.folder:
            self.chosen = dataclasses.replace(self.chosen, folder=folder)
            self._changed_by_person()

    def set_sort(self, sort: Sort) -> None:
        if sort is not self.chosen.sort:
            self.chosen = dataclasses.replace(self.chosen, sort=sort)
            self.controller.results.keep_order = sort is not Sort.RELEVANCE  # dates, not levels
            self._changed_by_person()

    def cycle_sort(self) -> None:
        """The shortcut: Relevance, Newest first, Oldest first, and round again."""
        order = [s for s, _ in SORT_CHOICES]
        self.set_sort(order[(order.index(self.sort) + 1) % len(order)])

    def clear(self) -> None:
        """Everything the person set goes (the query was cleared with Escape)."""
        if self.chosen != NO_FILTERS or self.dismissed:
            self.chosen, self.dismissed = NO_FILTERS, frozenset()
            self._changed_by_person()

    def _changed_by_person(self) -> None:
        self.changed.emit()
        self.rerun.emit()  # with no words, what the filters allow is shown by date

    # -- answers -------------------------------------------------------------------------

    def set_understood(self, understood: Understood | None) -> None:
        """What the search thread understood in the words of the query now shown (None:
        there are no words). Chips dismissed for words no longer there are forgotten."""
        filters = understood.filters if understood is not None else NO_FILTERS
        self.said = dict(understood.said) if understood is not None else {}
        dismissed = self.dismissed & {c.key for c in chips_for(filters)}
        if (filters, dismissed) != (self.understood, self.dismissed):
            self.understood, self.dismissed = filters, dismissed
            self.changed.emit()

    def refresh_years(self) -> None:
        """Ask the library which years have photos, off the GUI thread."""
        if self.controller.shut_down:
            return
        start_task(
            self.controller.pool,
            self.controller.library.years,
            self.set_years,
            lambda exc: self.controller.report_failure("Reading the years", exc, show=False),
        )

    def set_years(self, years: list[tuple[int, int]]) -> None:
        years = sorted((int(y), int(n)) for y, n in years if n)
        if years != self.years:
            self.years = years
            self.changed.emit()
