"""What the search's filter chips say, and what removing one leaves (issue #17): pure
functions over `Filters`, shared by the window's filter state and the search thread.

A chip stands for one filter: "dates" (after and before together), "place", "camera",
"folder", "kind", or one excluded concept ("exclude", with the concept as its value).
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from finder.core.search.filters import Filters, Sort
from finder.core.types import SearchKind

MONTHS = [calendar.month_abbr[m] for m in range(1, 13)]  # "Jan" ... "Dec"
DASH = "\u2013"
KIND_WORDS = {SearchKind.PHOTOS: "Photos", SearchKind.DOCS: "Documents"}
SORT_CHOICES = [
    (Sort.RELEVANCE, "Relevance"),
    (Sort.DATE, "Newest first"),
    (Sort.DATE_ASC, "Oldest first"),
]

# Which of the understanding's `said` entries holds the words a chip came from.
SAID_KEYS = {"dates": "when", "place": "place", "kind": "kind", "exclude": "exclude"}

ChipKey = tuple[str, object]
Dismissed = frozenset[ChipKey]


@dataclass(frozen=True)
class Chip:
    name: str
    value: object
    label: str

    @property
    def key(self) -> ChipKey:
        return (self.name, self.value)

    def same_filter(self, other: Chip) -> bool:
        """Whether `other` stands for the same filter (any value; one concept for exclude)."""
        return self.name == other.name and (self.name != "exclude" or self.value == other.value)


# -- what a chip says ------------------------------------------------------------------------


def _is_year_start(day: date) -> bool:
    return (day.month, day.day) == (1, 1)


def _is_year_end(day: date) -> bool:
    return (day.month, day.day) == (12, 31)


def _is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _month(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def _day(day: date) -> str:
    return f"{day.day} {_month(day)}"


def _start_words(day: date) -> str:
    if _is_year_start(day):
        return str(day.year)
    return _month(day) if day.day == 1 else _day(day)


def _end_words(day: date) -> str:
    if _is_year_end(day):
        return str(day.year)
    return _month(day) if _is_month_end(day) else _day(day)


def date_label(after: date | None, before: date | None) -> str:
    """A date range as people say it: "2019", "2018\u20132020", "Mar 2021",
    "Jun\u2013Aug 2019", "3 Jun 2019", "from Jun 2019", "until 2020"."""
    if after is None and before is None:
        return ""
    if before is None:
        return f"from {_start_words(after)}" if after else ""
    if after is None:
        return f"until {_end_words(before)}"
    if after == before:
        return _day(after)
    if _is_year_start(after) and _is_year_end(before):
        years = (after.year, before.year)
        return str(after.year) if years[0] == years[1] else f"{years[0]}{DASH}{years[1]}"
    if after.day == 1 and _is_month_end(before):
        if (after.year, after.month) == (before.year, before.month):
            return _month(after)
        if after.year == before.year:
            return f"{MONTHS[after.month - 1]}{DASH}{MONTHS[before.month - 1]} {after.year}"
        return f"{_month(after)}{DASH}{_month(before)}"
    return f"{_day(after)} {DASH} {_day(before)}"


def chips_for(filters: Filters) -> list[Chip]:
    """One chip per filter, in a fixed order: when, where, camera, folder, kind, then
    each excluded concept."""
    chips = []
    if filters.after is not None or filters.before is not None:
        dates = (filters.after, filters.before)
        chips.append(Chip("dates", dates, date_label(*dates)))
    if filters.place:
        chips.append(Chip("place", filters.place, f"in {filters.place}"))
    if filters.camera:
        chips.append(Chip("camera", filters.camera, f"Camera: {filters.camera}"))
    if filters.folder:
        chips.append(Chip("folder", filters.folder, f"Folder: {short_folder(filters.folder)}"))
    if filters.kind is not None and filters.kind in KIND_WORDS:
        chips.append(Chip("kind", filters.kind, KIND_WORDS[filters.kind]))
    chips += [Chip("exclude", concept, f"not: {concept}") for concept in filters.exclude]
    return chips


def short_folder(folder: str, keep: int = 2) -> str:
    """The last parts of a folder's path ("\u2026/Pictures/2019"): chips stay small."""
    parts = [p for p in folder.replace("\\", "/").split("/") if p]
    if len(parts) <= keep:
        return folder
    return "\u2026/" + "/".join(parts[-keep:])


def without_chip(filters: Filters, chip: Chip) -> Filters:
    """`filters` less what `chip` stands for (one concept, for an excluded one)."""
    if chip.name == "dates":
        return filters.without("after").without("before")
    if chip.name == "exclude":
        rest = tuple(c for c in filters.exclude if c != chip.value)
        return dataclasses.replace(filters, exclude=rest)
    return filters.without(chip.name)


def effective(chosen: Filters, understood: Filters, dismissed: Iterable[ChipKey]) -> Filters:
    """What a search uses: the words' filters less those the person removed, under the
    ones the person set (a clicked year replaces the words' dates, both ends at once)."""
    gone = set(dismissed)
    kept = understood
    for chip in chips_for(understood):
        if chip.key in gone:
            kept = without_chip(kept, chip)
    merged = kept.merged(chosen)
    if chosen.after is not None or chosen.before is not None:
        merged = dataclasses.replace(merged, after=chosen.after, before=chosen.before)
    return merged


# -- the year strip --------------------------------------------------------------------------


def year_range(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def years_touched(filters: Filters, years: Iterable[int]) -> set[int]:
    """Which of `years` the date filter reaches into (none when there is no date filter)."""
    if filters.after is None and filters.before is None:
        return set()
    first = filters.after.year if filters.after else -1
    last = filters.before.year if filters.before else 10_000
    return {y for y in years if first <= y <= last}


def only_year(filters: Filters) -> int | None:
    """The year the dates are exactly, if they are one whole year."""
    if filters.after is None or filters.before is None:
        return None
    if (filters.after, filters.before) == year_range(filters.after.year):
        return filters.after.year
    return None
