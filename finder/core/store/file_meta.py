"""The metadata columns of `file_meta` (schema 5): written with the file's row, read by
filters, the date sort, the year strip and place completion.

`file_meta` is shared with the perceptual hash (phashes.py), so each writer upserts its
own columns only. A row whose `taken_source` is NULL has not been read by the metadata
reader yet (a file indexed before it existed): metadata_pass.py fills it in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from finder.core.ingest.metadata import FileMeta
from finder.core.ingest.places import ascii_folded
from finder.core.store.connection import Database
from finder.core.store.path_text import real_path, stored_path
from finder.core.store.writes import Tx, prefix_range
from finder.core.types import FileKind, Modality

_COLUMNS = (
    "taken",
    "taken_utc",
    "taken_source",
    "lat",
    "lon",
    "place",
    "camera",
    "orientation",
    "width",
    "height",
    "companion",
)
_UPSERT = (
    f"INSERT INTO file_meta(file_id, {', '.join(_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' for _ in _COLUMNS)}) "
    f"ON CONFLICT(file_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS)}"
)


def save_meta(tx: Tx, file_id: int, meta: FileMeta | None) -> None:
    """Record a file's metadata (every metadata column: none is left from before)."""
    if meta is None:
        return
    tx.execute(_UPSERT, (file_id, *(getattr(meta, c) for c in _COLUMNS)))


def add_words(tx: Tx, file_id: int, words: str) -> None:
    """A photo's author's words into its picture's keyword text (before any OCR text):
    for files read before metadata was; new files get them with their item."""
    if words:
        tx.execute(
            "UPDATE items SET text = CASE WHEN text IS NULL OR text = '' THEN ? "
            "ELSE ? || char(10) || text END "
            "WHERE file_id = ? AND modality = 'image' AND page IS NULL",
            (words, words, file_id),
        )


def files_without_meta(db: Database, limit: int) -> list[tuple[int, str, FileKind, int]]:
    """Files read fine (in online folders) whose metadata has not been read:
    (file id, path, kind, mtime_ns)."""
    rows = db._db.execute(
        "SELECT f.id, f.path, f.kind, f.mtime_ns FROM files f JOIN roots r ON r.id = f.root_id "
        "LEFT JOIN file_meta m ON m.file_id = f.id "
        "WHERE f.status = 'ok' AND r.offline_since IS NULL AND m.taken_source IS NULL "
        "ORDER BY f.id LIMIT ?",
        (limit,),
    ).fetchall()
    return [(int(r[0]), real_path(r[1]), FileKind(r[2]), int(r[3])) for r in rows]


# -- narrowing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaFilter:
    """What a search is narrowed to, as the catalog knows it (search/filters.py's Filters
    without the query-side parts)."""

    after: date | None = None  # taken on or after (the photo's local day)
    before: date | None = None  # taken on or before
    place: str | None = None  # a part of the place name ("Lisbon", "Portugal"), any case
    camera: str | None = None  # a part of "Make Model", any case
    folder: str | None = None  # files below this folder


def condition(where: MetaFilter) -> tuple[str, list[object]]:
    """An SQL condition on the files table aliased `f`, and its arguments."""
    meta: list[str] = []
    args: list[object] = []
    if where.after is not None:
        meta.append("m.taken >= ?")  # ISO 8601 strings compare as dates
        args.append(where.after.isoformat())
    if where.before is not None:
        meta.append("m.taken < ?")
        args.append((where.before + timedelta(days=1)).isoformat())
    if where.place:
        # A whole part of "City, Country", or its first words ("New York" finds
        # "New York City"), never the middle of a word ("Rome" is not "Romeoville").
        name = _like_escaped(ascii_folded(" ".join(where.place.split())))
        meta.append(
            "(', ' || m.place || ',' LIKE ? ESCAPE '\\' OR ', ' || m.place || ',' LIKE ? "
            "ESCAPE '\\')"
        )
        args += [f"%, {name},%", f"%, {name} %"]
    if where.camera:
        meta.append("m.camera LIKE ? ESCAPE '\\'")
        args.append(f"%{_like_escaped(where.camera.strip())}%")
    clauses: list[str] = []
    if meta:
        clauses.append(f"f.id IN (SELECT m.file_id FROM file_meta m WHERE {' AND '.join(meta)})")
    if where.folder:
        folder = stored_path(where.folder)
        low, high = prefix_range(folder)
        clauses.append("(f.path = ? OR (f.path >= ? AND f.path < ?))")
        args += [folder, low, high]
    return " AND ".join(clauses) or "1", args


def files_within(
    db: Database, where: MetaFilter, kind: FileKind | None, limit: int, *, newest_first: bool
) -> list[tuple[int, str, FileKind]]:
    """The readable files `where` allows in folders that are online, by date taken
    (undated last): (id, path, kind). What a year clicked with no words shows."""
    sql, args = condition(where)
    kinds = "AND f.kind = ?" if kind is not None else ""
    order = "DESC" if newest_first else "ASC"
    rows = db._db.execute(
        "SELECT f.id, f.path, f.kind FROM files f JOIN roots r ON r.id = f.root_id "
        "LEFT JOIN file_meta m ON m.file_id = f.id "
        f"WHERE f.status = 'ok' AND r.offline_since IS NULL {kinds} AND {sql} "
        f"ORDER BY m.taken_utc IS NULL, m.taken_utc {order}, f.path LIMIT ?",
        [*([kind.value] if kind is not None else []), *args, limit],
    )
    return [(int(r[0]), real_path(r[1]), FileKind(r[2])) for r in rows]


def items_within(db: Database, where: MetaFilter) -> dict[Modality, np.ndarray]:
    """The item ids of the files `where` allows, per modality."""
    sql, args = condition(where)
    out: dict[Modality, np.ndarray] = {}
    for modality in Modality:
        rows = db._db.execute(
            f"SELECT i.id FROM items i JOIN files f ON f.id = i.file_id "
            f"WHERE f.status = 'ok' AND i.modality = ? AND {sql}",
            [modality.value, *args],
        )
        out[modality] = np.fromiter((r[0] for r in rows), dtype=np.int64)
    return out


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- what results show, the year strip and place completion ------------------------------


@dataclass(frozen=True)
class Remembered:
    """What a result shows of its file's metadata."""

    taken: str | None
    taken_utc: float | None
    taken_source: str | None
    place: str | None
    camera: str | None


def remembered(db: Database, file_ids: Iterable[int]) -> dict[int, Remembered]:
    ids = sorted(set(file_ids))
    out: dict[int, Remembered] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        rows = db._db.execute(
            "SELECT file_id, taken, taken_utc, taken_source, place, camera FROM file_meta "
            f"WHERE file_id IN ({','.join('?' for _ in part)})",
            part,
        ).fetchall()
        for r in rows:
            out[int(r[0])] = Remembered(r[1], r[2], r[3], r[4], r[5])
    return out


def year_counts(db: Database) -> list[tuple[int, int]]:
    """(year, files taken that year), oldest first, of the files in online folders."""
    rows = db._db.execute(
        "SELECT CAST(substr(m.taken, 1, 4) AS INTEGER) AS year, count(*) FROM file_meta m "
        "JOIN files f ON f.id = m.file_id JOIN roots r ON r.id = f.root_id "
        "WHERE m.taken IS NOT NULL AND f.status = 'ok' AND r.offline_since IS NULL "
        "GROUP BY year ORDER BY year"
    ).fetchall()
    return [(int(r[0]), int(r[1])) for r in rows if r[0]]


def place_names(db: Database, prefix: str, limit: int = 20) -> list[str]:
    """Places whose city or country starts with `prefix` (any case), the most
    photographed first: "Lisbon, Portugal", and "Portugal" for a country."""
    typed = ascii_folded(" ".join(prefix.split()))
    rows = db._db.execute(
        "SELECT m.place, count(*) FROM file_meta m JOIN files f ON f.id = m.file_id "
        "WHERE m.place IS NOT NULL AND f.status = 'ok' "
        "AND ', ' || m.place LIKE ? ESCAPE '\\' GROUP BY m.place",
        (f"%, {_like_escaped(typed)}%",),
    ).fetchall()
    counts: dict[str, int] = {}
    low = typed.casefold()
    for place, count in rows:
        parts = [p.strip() for p in str(place).split(",")]
        if parts[0].casefold().startswith(low):
            counts[str(place)] = counts.get(str(place), 0) + int(count)
        country = parts[-1]
        if len(parts) > 1 and country.casefold().startswith(low):
            counts[country] = counts.get(country, 0) + int(count)
    return sorted(counts, key=lambda name: (-counts[name], name))[:limit]
