"""Dates in typed queries (finder.core.search.query_dates), read through `understand`."""

from __future__ import annotations

from datetime import date

import pytest

from finder.core.search.filters import Filters
from finder.core.search.understanding import understand

TODAY = date(2026, 3, 15)  # a Sunday


def parse(query: str) -> dict[str, object]:
    return understand(query, TODAY).to_json()


@pytest.mark.parametrize(
    ("query", "meaning", "after", "before"),
    [
        ("2019", "", "2019-01-01", "2019-12-31"),
        ("in 2019", "", "2019-01-01", "2019-12-31"),
        ("beach in 2019", "beach", "2019-01-01", "2019-12-31"),
        ("photos taken in 2019", "", "2019-01-01", "2019-12-31"),
        ("summer 2019", "", "2019-06-01", "2019-08-31"),
        ("the beach, summer of 2019", "the beach", "2019-06-01", "2019-08-31"),
        ("spring 2020", "", "2020-03-01", "2020-05-31"),
        ("autumn 2020", "", "2020-09-01", "2020-11-30"),
        ("fall 2020", "", "2020-09-01", "2020-11-30"),
        ("winter 2020", "", "2019-12-01", "2020-02-29"),  # leap year's February
        ("march 2021", "", "2021-03-01", "2021-03-31"),
        ("Snow in March 2021", "Snow", "2021-03-01", "2021-03-31"),
        ("feb 2021", "", "2021-02-01", "2021-02-28"),
        ("september of 2018 wedding", "wedding", "2018-09-01", "2018-09-30"),
        ("2021-03", "", "2021-03-01", "2021-03-31"),
        ("2019-07-14", "", "2019-07-14", "2019-07-14"),
        ("fireworks 14 july 2019", "fireworks", "2019-07-14", "2019-07-14"),
        ("fireworks 14th of July 2019", "fireworks", "2019-07-14", "2019-07-14"),
        ("July 14, 2019 fireworks", "fireworks", "2019-07-14", "2019-07-14"),
        ("2018-2020", "", "2018-01-01", "2020-12-31"),
        ("2018\u20132020", "", "2018-01-01", "2020-12-31"),
        ("2018 - 2020", "", "2018-01-01", "2020-12-31"),
        ("from 2018 to 2020", "", "2018-01-01", "2020-12-31"),
        ("cats 2018 to 2020", "cats", "2018-01-01", "2020-12-31"),
        ("between march 2020 and may 2021", "", "2020-03-01", "2021-05-31"),
        ("from summer 2019 until 2020", "", "2019-06-01", "2020-12-31"),
        ("since 2018", "", "2018-01-01", None),
        ("after 2018", "", "2019-01-01", None),
        ("before 2019", "", None, "2018-12-31"),
        ("until 2019", "", None, "2019-12-31"),
        ("1990s", "", "1990-01-01", "1999-12-31"),
        ("the 90s", "the", "1990-01-01", "1999-12-31"),
        ("2019 and 2021", "", "2019-01-01", "2021-12-31"),
        ("summer 2019 or summer 2021", "", "2019-06-01", "2021-08-31"),  # the span of both
    ],
)
def test_dates(query: str, meaning: str, after: str | None, before: str | None) -> None:
    got = parse(query)
    assert (got["meaning"], got["after"], got["before"]) == (meaning, after, before)


@pytest.mark.parametrize(
    ("query", "after", "before"),
    [
        ("today", "2026-03-15", "2026-03-15"),
        ("yesterday", "2026-03-14", "2026-03-14"),
        ("last year", "2025-01-01", "2025-12-31"),
        ("this year", "2026-01-01", "2026-03-15"),
        ("last month", "2026-02-01", "2026-02-28"),
        ("this month", "2026-03-01", "2026-03-15"),
        ("last week", "2026-03-02", "2026-03-08"),  # Monday to Sunday
        ("this week", "2026-03-09", "2026-03-15"),
        ("past year", "2025-03-15", "2026-03-15"),  # the last 12 months
        ("last summer", "2025-06-01", "2025-08-31"),
        ("last winter", "2025-12-01", "2026-02-28"),  # ended two weeks ago
        ("this summer", "2026-06-01", "2026-08-31"),
        ("last march", "2025-03-01", "2025-03-31"),  # this March has not ended
        ("last february", "2026-02-01", "2026-02-28"),
        ("last 30 days", "2026-02-13", "2026-03-15"),
        ("in the last 3 months", "2025-12-15", "2026-03-15"),
        ("past two weeks", "2026-03-01", "2026-03-15"),
        ("2 years ago", "2024-01-01", "2024-12-31"),
        ("three months ago", "2025-12-01", "2025-12-31"),
        ("since last year", "2025-01-01", None),
    ],
)
def test_relative_dates(query: str, after: str | None, before: str | None) -> None:
    got = parse(query)
    assert (got["meaning"], got["after"], got["before"]) == ("", after, before)


def test_relative_dates_follow_today() -> None:
    assert understand("last month", date(2024, 1, 10)).filters == Filters(
        after=date(2023, 12, 1), before=date(2023, 12, 31)
    )
    # In July the latest summer that has ended is last year's.
    got = understand("last summer", date(2024, 7, 1)).filters
    assert (got.after, got.before) == (date(2023, 6, 1), date(2023, 8, 31))
    got = understand("last summer", date(2024, 9, 1)).filters
    assert (got.after, got.before) == (date(2024, 6, 1), date(2024, 8, 31))


@pytest.mark.parametrize(
    "query",
    [
        "march",  # a month alone is not a date: it recurs (and a march is a thing)
        "may flowers",
        "invoice 4471",  # not a plausible year
        "2031 plan",  # after this year
        "1850 map",  # before FIRST_YEAR
        '"2019" report',  # quoted: the user wants the word
        "2019-13",  # no 13th month
        "2019-02-30",  # no such day
        "IMG_2019",
        "summer",
        "last",
        "the last supper",
        "7 dwarfs",
    ],
)
def test_what_is_not_a_date(query: str) -> None:
    got = parse(query)
    assert (got["meaning"], got["after"], got["before"]) == (query, None, None)


def test_a_backwards_range_is_the_span_of_both_years() -> None:
    assert parse("2020 to 2018")["after"] == "2018-01-01"
    assert parse("2020 to 2018")["before"] == "2020-12-31"
