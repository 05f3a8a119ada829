"""`finder search` flags that narrow and sort (issue #17): --after / --before
YYYY[-MM[-DD]], --place, --camera, --folder, --sort. `filters_from_args` turns them into
the core's Filters (the query words' understanding merges its own with Filters.merged,
these flags winning)."""

from __future__ import annotations

import argparse
import calendar
import re
from datetime import date
from pathlib import Path

from finder.core.search.filters import Filters, Sort

_PERIOD = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def add_filter_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--after",
        type=first_day,
        metavar="YYYY[-MM[-DD]]",
        help="taken on or after this year, month or day (the photo's local time)",
    )
    parser.add_argument(
        "--before",
        type=last_day,
        metavar="YYYY[-MM[-DD]]",
        help="taken on or before this year, month or day (--before 2019: up to Dec 31, 2019)",
    )
    parser.add_argument("--place", metavar="NAME", help='taken in this city or country ("Lisbon")')
    parser.add_argument("--camera", metavar="TEXT", help='taken with this camera ("iPhone")')
    parser.add_argument("--folder", metavar="PATH", help="only files under this folder")
    parser.add_argument(
        "--sort",
        choices=[s.value for s in Sort],
        default=Sort.RELEVANCE.value,
        help="relevance (default), date (newest first) or date-asc",
    )


def filters_from_args(args: argparse.Namespace) -> Filters:
    folder = getattr(args, "folder", None)
    return Filters(
        after=getattr(args, "after", None),
        before=getattr(args, "before", None),
        place=_text(getattr(args, "place", None)),
        camera=_text(getattr(args, "camera", None)),
        folder=str(Path(folder).expanduser().resolve()) if folder else None,
        sort=Sort(getattr(args, "sort", Sort.RELEVANCE.value)),
    )


def first_day(text: str) -> date:
    """The first day of a year, month or day written YYYY[-MM[-DD]]."""
    year, month, day = _period(text)
    return date(year, month or 1, day or 1)


def last_day(text: str) -> date:
    """The last day of a year, month or day written YYYY[-MM[-DD]]."""
    year, month, day = _period(text)
    if month is None:
        return date(year, 12, 31)
    return date(year, month, day or calendar.monthrange(year, month)[1])


def _period(text: str) -> tuple[int, int | None, int | None]:
    match = _PERIOD.match(text.strip())
    if match is not None:
        year, month, day = (int(part) if part else None for part in match.groups())
        assert year is not None
        try:
            date(year, 1 if month is None else month, 1 if day is None else day)  # real?
            return year, month, day
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")


def _text(value: str | None) -> str | None:
    return " ".join(value.split()) or None if value else None
