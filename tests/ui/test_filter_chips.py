"""What the filter chips say and what removing one leaves (finder/ui/filter_chips.py)."""

from __future__ import annotations

from datetime import date

import pytest

from finder.core.search.filters import NO_FILTERS, Filters, Sort
from finder.core.types import SearchKind
from finder.ui.filter_chips import (
    chips_for,
    date_label,
    effective,
    only_year,
    short_folder,
    without_chip,
    year_range,
    years_touched,
)

D = date


@pytest.mark.parametrize(
    ("after", "before", "label"),
    [
        (D(2019, 1, 1), D(2019, 12, 31), "2019"),
        (D(2018, 1, 1), D(2020, 12, 31), "2018\u20132020"),
        (D(2021, 3, 1), D(2021, 3, 31), "Mar 2021"),
        (D(2024, 2, 1), D(2024, 2, 29), "Feb 2024"),
        (D(2019, 6, 1), D(2019, 8, 31), "Jun\u2013Aug 2019"),
        (D(2019, 12, 1), D(2020, 2, 29), "Dec 2019\u2013Feb 2020"),
        (D(2019, 6, 3), D(2019, 6, 3), "3 Jun 2019"),
        (D(2019, 6, 3), D(2019, 7, 5), "3 Jun 2019 \u2013 5 Jul 2019"),
        (D(2019, 1, 1), None, "from 2019"),
        (D(2019, 6, 1), None, "from Jun 2019"),
        (D(2019, 6, 3), None, "from 3 Jun 2019"),
        (None, D(2020, 12, 31), "until 2020"),
        (None, D(2020, 4, 30), "until Apr 2020"),
        (None, D(2020, 4, 3), "until 3 Apr 2020"),
        (None, None, ""),
    ],
)
def test_a_date_range_reads_as_people_say_it(
    after: date | None, before: date | None, label: str
) -> None:
    assert date_label(after, before) == label


def test_one_chip_per_filter_in_a_fixed_order() -> None:
    filters = Filters(
        after=D(2019, 6, 1),
        before=D(2019, 8, 31),
        place="Lisbon",
        camera="Pixel",
        folder="/home/ann/Pictures/2019/summer",
        kind=SearchKind.PHOTOS,
        exclude=("dogs", "people"),
        sort=Sort.DATE,
    )
    assert [c.label for c in chips_for(filters)] == [
        "Jun\u2013Aug 2019",
        "in Lisbon",
        "Camera: Pixel",
        "Folder: \u2026/2019/summer",
        "Photos",
        "not: dogs",
        "not: people",
    ]
    assert chips_for(NO_FILTERS) == []
    assert chips_for(Filters(kind=SearchKind.ALL, sort=Sort.DATE_ASC)) == []


def test_removing_a_chip_removes_its_filter_only() -> None:
    filters = Filters(
        after=D(2019, 1, 1), before=D(2019, 12, 31), place="Lisbon", exclude=("dogs", "cats")
    )
    dates, place, dogs, cats = chips_for(filters)
    assert without_chip(filters, dates) == Filters(place="Lisbon", exclude=("dogs", "cats"))
    assert without_chip(filters, place).place is None
    assert without_chip(filters, dogs).exclude == ("cats",)
    assert without_chip(without_chip(filters, dogs), cats).exclude == ()


def test_the_search_uses_the_words_less_the_dismissed_under_what_was_set() -> None:
    understood = Filters(
        after=D(2018, 6, 1), before=D(2018, 8, 31), place="Lisbon", exclude=("dogs",)
    )
    place = chips_for(understood)[1]
    assert effective(NO_FILTERS, understood, {place.key}) == Filters(
        after=D(2018, 6, 1), before=D(2018, 8, 31), exclude=("dogs",)
    )
    # A year clicked replaces the words' dates, both ends; the sort comes from the person.
    chosen = Filters(after=D(2019, 1, 1), before=D(2019, 12, 31), sort=Sort.DATE)
    both = effective(chosen, understood, ())
    assert (both.after, both.before, both.place, both.sort) == (
        D(2019, 1, 1),
        D(2019, 12, 31),
        "Lisbon",
        Sort.DATE,
    )
    assert effective(Filters(after=D(2020, 1, 1)), understood, ()).before is None


def test_years_a_date_filter_reaches_into() -> None:
    years = [2016, 2018, 2019, 2020, 2023]
    assert years_touched(NO_FILTERS, years) == set()
    after, before = year_range(2019)
    assert years_touched(Filters(after=after, before=before), years) == {2019}
    assert years_touched(Filters(after=D(2018, 6, 1), before=D(2020, 2, 1)), years) == {
        2018,
        2019,
        2020,
    }
    assert years_touched(Filters(after=D(2020, 1, 1)), years) == {2020, 2023}
    assert years_touched(Filters(before=D(2016, 3, 1)), years) == {2016}
    assert only_year(Filters(after=after, before=before)) == 2019
    assert only_year(Filters(after=D(2019, 6, 1), before=before)) is None
    assert only_year(Filters(after=after)) is None


def test_a_long_folder_is_shortened_to_its_last_parts() -> None:
    assert short_folder("/home/ann/Pictures/2019") == "\u2026/Pictures/2019"
    assert short_folder("/photos") == "/photos"
    assert short_folder("C:\\Users\\ann\\Pictures") == "\u2026/ann/Pictures"
