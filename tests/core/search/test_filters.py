from datetime import date

from finder.core.search.filters import NO_FILTERS, Filters, Sort
from finder.core.types import SearchKind


def test_no_filters_narrow_nothing() -> None:
    assert not NO_FILTERS.narrows
    assert not Filters(exclude=("dogs",), sort=Sort.DATE).narrows
    assert Filters(place="Lisbon").narrows


def test_without_drops_one_filter() -> None:
    f = Filters(after=date(2019, 1, 1), place="Lisbon", exclude=("dogs",))
    assert f.without("place") == Filters(after=date(2019, 1, 1), exclude=("dogs",))
    assert f.without("exclude").exclude == ()


def test_merged_prefers_the_other_and_unites_exclusions() -> None:
    words = Filters(after=date(2019, 1, 1), place="Lisbon", exclude=("dogs",))
    flags = Filters(place="Porto", kind=SearchKind.PHOTOS, exclude=("cats", "dogs"))
    merged = words.merged(flags)
    assert merged.place == "Porto"
    assert merged.after == date(2019, 1, 1)
    assert merged.kind is SearchKind.PHOTOS
    assert merged.exclude == ("dogs", "cats")
