"""The dates in a typed query: years, months, seasons, days, decades, ranges, open
ends and days relative to `today` (see understanding.py for the words understood)."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from finder.core.search.query_words import Word, free, text_at, use

FIRST_YEAR = 1900  # numbers from here to this year are years; others stay meaning

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}  # first month
_UNITS = {"day": "day", "week": "week", "month": "month", "year": "year"}
_UNITS |= {unit + "s": unit for unit in list(_UNITS)}
_NUMBERS = {
    word: n
    for n, word in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"), 1
    )
}
_INTO = frozenset({"in", "during", "from", "of", "on", "taken", "around", "circa"})
_RANGE_TO = frozenset({"to", "until", "till", "through", "thru", "-", "\u2013", "\u2014", "and"})
_YEAR_RANGE = re.compile(r"^(\d{4})\s*[-\u2013\u2014/]\s*(\d{4})$")
_ISO_DAY = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DECADE = re.compile(r"^'?(\d{2}|\d{4})s$")
_DAY = re.compile(r"^(\d{1,2})(st|nd|rd|th)?$")

# (words read, first day, last day)
_Period = tuple[int, date, date]


def read_dates(
    words: list[Word], today: date, said: dict[str, str]
) -> tuple[date | None, date | None]:
    """The span covering every date expression (an open end stays open)."""
    spans: list[tuple[date | None, date | None]] = []
    typed: list[str] = []
    i = 0
    while i < len(words):
        read = _when_at(words, i, today) if free(words, i) else None
        if read is None:
            i += 1
            continue
        count, first, last = read
        spans.append((first, last))
        typed.append(use(words, i, i + count))
        i += count
    if not spans:
        return None, None
    said["when"] = ", ".join(typed)
    firsts = [first for first, _ in spans]
    lasts = [last for _, last in spans]
    after = None if None in firsts else min(d for d in firsts if d is not None)
    before = None if None in lasts else max(d for d in lasts if d is not None)
    return after, before


def _when_at(words: list[Word], i: int, today: date) -> tuple[int, date | None, date | None] | None:
    """A date expression starting at word i: (words read, after, before)."""
    head = text_at(words, i)
    if head in ("since", "after", "before", "until", "till"):
        period = _period_at(words, i + 1, today)
        if period is None:
            return None
        count, first, last = period
        if head == "since":
            return count + 1, first, None
        if head == "after":
            return count + 1, last + timedelta(days=1), None
        if head == "before":
            return count + 1, None, first - timedelta(days=1)
        return count + 1, None, last
    if head in ("from", "between"):
        ranged = _range_at(words, i + 1, today)
        if ranged is not None:
            return ranged[0] + 1, ranged[1], ranged[2]
    if head in _INTO:
        skip = 2 if head == "taken" and text_at(words, i + 1) in ("in", "on", "during") else 1
        if text_at(words, i + skip) == "the" and text_at(words, i + skip + 1) in ("last", "past"):
            skip += 1  # "in the last 3 months"
        period = _range_at(words, i + skip, today) or _period_at(words, i + skip, today)
        if period is not None:
            return period[0] + skip, period[1], period[2]
        return None
    return _range_at(words, i, today) or _period_at(words, i, today)


def _range_at(words: list[Word], i: int, today: date) -> _Period | None:
    start = _period_at(words, i, today)
    if start is None or text_at(words, i + start[0]) not in _RANGE_TO:
        return None
    end = _period_at(words, i + start[0] + 1, today)
    if end is None or end[2] < start[1]:
        return None
    return start[0] + 1 + end[0], start[1], end[2]


def _period_at(words: list[Word], i: int, today: date) -> _Period | None:
    """One period (a day, month, season, year, decade or a relative one) at word i."""
    for reader in (_relative, _day, _month, _season, _year):
        period = reader(words, i, today)
        if period is not None:
            return period
    return None


def _year_of(text: str, today: date) -> int | None:
    if len(text) == 4 and text.isdigit() and FIRST_YEAR <= int(text) <= today.year:
        return int(text)
    return None


def _year(words: list[Word], i: int, today: date) -> _Period | None:
    text = text_at(words, i)
    year = _year_of(text, today)
    if year is not None:
        return 1, date(year, 1, 1), date(year, 12, 31)
    ranged = _YEAR_RANGE.match(text)
    if ranged:
        first, last = _year_of(ranged[1], today), _year_of(ranged[2], today)
        if first is not None and last is not None and first <= last:
            return 1, date(first, 1, 1), date(last, 12, 31)
    decade = _DECADE.match(text)
    if decade:
        digits = decade[1]
        start = (
            int(digits) if len(digits) == 4 else int(digits) + (1900 if int(digits) >= 30 else 2000)
        )
        if start % 10 == 0 and FIRST_YEAR <= start <= today.year:
            return 1, date(start, 1, 1), date(start + 9, 12, 31)
    return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _safe_day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day(words: list[Word], i: int, today: date) -> _Period | None:
    """2019-07-14, 14 july 2019, 14th of july 2019, july 14 2019, july 14th, 2019."""
    text = text_at(words, i)
    iso = _ISO_DAY.match(text)
    if iso:
        if _year_of(iso[1], today) is None:
            return None
        day = _safe_day(int(iso[1]), int(iso[2]), int(iso[3]))
        return (1, day, day) if day else None
    number = _DAY.match(text)
    if number:  # 14 july 2019, 14th of july 2019
        j = i + 1 + (text_at(words, i + 1) == "of")
        month = _MONTHS.get(text_at(words, j))
        year = _year_of(text_at(words, j + 1), today)
        if month and year:
            day = _safe_day(year, month, int(number[1]))
            return (j + 2 - i, day, day) if day else None
        return None
    month = _MONTHS.get(text)
    number = _DAY.match(text_at(words, i + 1))
    year = _year_of(text_at(words, i + 2), today)
    if month and number and year:  # july 14 2019
        day = _safe_day(year, month, int(number[1]))
        return (3, day, day) if day else None
    return None


def _month(words: list[Word], i: int, today: date) -> _Period | None:
    """march 2021, march of 2021, 2021-03 (a month alone stays meaning)."""
    text = text_at(words, i)
    iso = _ISO_MONTH.match(text)
    if iso and _year_of(iso[1], today) and 1 <= int(iso[2]) <= 12:
        return 1, date(int(iso[1]), int(iso[2]), 1), _month_end(int(iso[1]), int(iso[2]))
    month = _MONTHS.get(text)
    j = i + 1 + (text_at(words, i + 1) == "of")
    year = _year_of(text_at(words, j), today)
    if month is None or year is None:
        return None
    return j + 1 - i, date(year, month, 1), _month_end(year, month)


def _season_span(season: str, year: int) -> tuple[date, date]:
    """A northern-hemisphere meteorological season; winter YEAR is December YEAR-1
    through February YEAR (named by the year of its January)."""
    first = _SEASONS[season]
    if first == 12:
        return date(year - 1, 12, 1), _month_end(year, 2)
    return date(year, first, 1), _month_end(year, first + 2)


def _season(words: list[Word], i: int, today: date) -> _Period | None:
    """summer 2019, summer of 2019."""
    season = text_at(words, i)
    if season not in _SEASONS:
        return None
    j = i + 1 + (text_at(words, i + 1) == "of")
    year = _year_of(text_at(words, j), today)
    if year is None:
        return None
    return (j + 1 - i, *_season_span(season, year))


def _relative(words: list[Word], i: int, today: date) -> _Period | None:
    text = text_at(words, i)
    if text == "today":
        return 1, today, today
    if text == "yesterday":
        day = today - timedelta(days=1)
        return 1, day, day
    following = text_at(words, i + 1)
    if text == "past" and following in ("week", "month", "year"):  # the last 12 months
        return 2, _back(today, 1, following), today
    if text in ("this", "last", "past", "previous"):
        span = _this_or_last(text == "this", following, today)
        if span is not None:
            return (2, *span)
        count = _count(following)
        unit = _UNITS.get(text_at(words, i + 2))
        if text != "this" and count is not None and unit is not None:  # last 30 days
            return 3, _back(today, count, unit), today
        return None
    count = _count(text)
    unit = _UNITS.get(following)
    if count is not None and unit is not None and text_at(words, i + 2) == "ago":
        return (3, *_unit_containing(_back(today, count, unit), unit))
    return None


def _count(text: str) -> int | None:
    if text.isdigit() and 0 < int(text) < 1000:
        return int(text)
    return _NUMBERS.get(text)


def _back(today: date, count: int, unit: str) -> date:
    if unit == "day":
        return today - timedelta(days=count)
    if unit == "week":
        return today - timedelta(weeks=count)
    months = today.year * 12 + today.month - 1 - count * (12 if unit == "year" else 1)
    year, month = divmod(months, 12)
    return date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))


def _unit_containing(day: date, unit: str) -> tuple[date, date]:
    """The calendar day, week (Monday to Sunday), month or year around `day`."""
    if unit == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if unit == "month":
        return day.replace(day=1), _month_end(day.year, day.month)
    if unit == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    return day, day


def _this_or_last(this: bool, what: str, today: date) -> tuple[date, date] | None:
    """this/last week, month, year, season or month name: whole calendar units; "this"
    ones end today, "last" ones are the latest that has ended."""
    unit = _UNITS.get(what)
    if unit in ("week", "month", "year") and what == unit:
        if this:
            return _unit_containing(today, unit)[0], today
        previous = _unit_containing(today, unit)[0] - timedelta(days=1)
        return _unit_containing(previous, unit)
    if what in _SEASONS:
        year = today.year + (1 if _SEASONS[what] == 12 and today.month == 12 else 0)
        first, last = _season_span(what, year)
        if this:
            return first, last
        while last >= today:
            year -= 1
            first, last = _season_span(what, year)
        return first, last
    month = _MONTHS.get(what)
    if month is not None and not this:  # last march: the latest March that has ended
        year = today.year if month < today.month else today.year - 1
        return date(year, month, 1), _month_end(year, month)
    return None
