"""When, where and with what a result was taken, in words for its tooltip and its preview
(issue #17): "Taken 14 Jul 2019, 18:32", "Lisbon, Portugal", "Camera: Google Pixel 7".

A date that is only the file's modification time says so ("File date ..."): it may be
when the file was copied, not when the photo was taken.
"""

from __future__ import annotations

from datetime import datetime

from finder.core.types import SearchResult

DATE_WORDS = {"exif": "Taken", "document": "Dated", "file": "File date"}


def date_words(taken: str, source: str | None = None) -> str:
    """An ISO 8601 date or time as people read it; the text itself if it is not one."""
    try:
        when = datetime.fromisoformat(taken)
    except ValueError:
        return f"{DATE_WORDS.get(source or '', 'Taken')} {taken}"
    day = f"{when.day} {when:%b %Y}"
    has_time = len(taken) > 10 and (when.hour, when.minute) != (0, 0)
    text = f"{day}, {when:%H:%M}" if has_time else day
    return f"{DATE_WORDS.get(source or '', 'Taken')} {text}"


def facts(result: SearchResult) -> list[str]:
    """The lines known about a result: its date, its place, its camera (none unknown)."""
    taken, place, camera = result.taken, result.place, result.camera
    lines = [date_words(taken, result.taken_source)] if taken else []
    if place:
        lines.append(place)
    if camera:
        lines.append(f"Camera: {camera}")
    return lines
