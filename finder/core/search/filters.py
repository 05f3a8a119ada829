"""What narrows a search besides its meaning: dates, place, camera, folder, kind, and
concepts to push down (issue #17). One value shared by the query words' parser, the
CLI flags, the app's chips and the search itself.

A filter narrows the candidates *before* ranking: a strong match outside the range never
appears, a weak one inside it still can. `exclude` is not a filter but meaning
arithmetic: results near an excluded concept are pushed down (rclip's `-` queries).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import date

from finder.core.types import SearchKind


class Sort(enum.StrEnum):
    RELEVANCE = "relevance"
    DATE = "date"  # newest first
    DATE_ASC = "date-asc"


@dataclass(frozen=True)
class Filters:
    after: date | None = None  # taken on or after this day (local time of the photo)
    before: date | None = None  # taken on or before this day
    place: str | None = None  # matches the place name ("Lisbon", "Portugal"), any case
    camera: str | None = None  # a part of the camera make/model, any case
    folder: str | None = None  # only files under this folder
    kind: SearchKind | None = None  # from query words ("screenshots", "pdfs"); None: as asked
    exclude: tuple[str, ...] = ()  # concepts whose neighbours are pushed down
    sort: Sort = Sort.RELEVANCE

    @property
    def narrows(self) -> bool:
        """Whether any filter limits the candidates (exclude and sort do not)."""
        return any(
            value is not None
            for value in (self.after, self.before, self.place, self.camera, self.folder)
        )

    def without(self, name: str) -> Filters:
        """These filters less one (a chip the user removed)."""
        default: object = getattr(NO_FILTERS, name)
        return dataclasses.replace(self, **{name: default})  # type: ignore[arg-type]

    def merged(self, other: Filters) -> Filters:
        """`other`'s filters over these (explicit flags win over words understood)."""
        values: dict[str, object] = {}
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "exclude":
                values[f.name] = tuple(dict.fromkeys(mine + theirs))
            elif f.name == "sort":
                values[f.name] = theirs if theirs is not Sort.RELEVANCE else mine
            else:
                values[f.name] = theirs if theirs is not None else mine
        return Filters(**values)  # type: ignore[arg-type]


NO_FILTERS = Filters()
