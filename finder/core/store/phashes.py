"""Photos' perceptual fingerprints in `file_meta.phash`, and what grouping copies reads.

`file_meta` is shared: the metadata reader writes its other columns of the same row, so
the fingerprint is written alone (an upsert of one column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from finder.core.store.catalog import Catalog
from finder.core.store.path_text import real_path
from finder.core.store.writes import Tx
from finder.core.types import FileKind


@dataclass(frozen=True)
class CopyCandidate:
    """A file as grouping copies sees it."""

    file_id: int
    path: str
    kind: FileKind
    size: int
    mtime_ns: int
    content_hash: str | None
    phash: str | None
    width: int | None
    height: int | None
    taken: str | None
    image_item: int | None  # the photo's image item (its vector), None for documents
    # When and where the camera says it was taken (EXIF; None where unknown).
    taken_utc: float | None = None
    lat: float | None = None
    lon: float | None = None


def save_phash(tx: Tx, file_id: int, phash: str | None) -> None:
    """Record a photo's fingerprint (nothing for files without one)."""
    if phash is None:
        return
    tx.execute(
        "INSERT INTO file_meta(file_id, phash) VALUES (?, ?) "
        "ON CONFLICT(file_id) DO UPDATE SET phash = excluded.phash",
        (file_id, phash),
    )


def photos_without_phash(catalog: Catalog, limit: int = 64) -> list[tuple[int, str, int]]:
    """Photos read fine (in online folders) that have no fingerprint yet, e.g. indexed by
    an older finder: (file id, path, mtime_ns)."""
    rows = catalog._db.execute(
        "SELECT f.id, f.path, f.mtime_ns FROM files f JOIN roots r ON r.id = f.root_id "
        "LEFT JOIN file_meta m ON m.file_id = f.id "
        "WHERE f.kind = 'photo' AND f.status = 'ok' AND r.offline_since IS NULL "
        "AND m.phash IS NULL ORDER BY f.id LIMIT ?",
        (limit,),
    ).fetchall()
    return [(int(r[0]), real_path(r[1]), int(r[2])) for r in rows]


_CANDIDATE_SELECT = (
    "SELECT f.id, f.path, f.kind, f.size, f.mtime_ns, f.content_hash, m.phash, m.width, "
    "m.height, m.taken, (SELECT i.id FROM items i WHERE i.file_id = f.id AND i.modality = "
    "'image' AND i.page IS NULL ORDER BY i.id LIMIT 1), "
    "CASE WHEN m.taken_source = 'exif' THEN m.taken_utc END, m.lat, m.lon "
    "FROM files f JOIN roots r ON r.id = f.root_id LEFT JOIN file_meta m ON m.file_id = f.id "
    "WHERE f.status = 'ok' AND r.offline_since IS NULL"
)


def copy_candidates(catalog: Catalog) -> list[CopyCandidate]:
    """Every file that can have copies: photos (by fingerprint and content) and other
    files with a content hash shared with another file."""
    rows = catalog._db.execute(
        _CANDIDATE_SELECT + " AND (f.kind = 'photo' OR f.content_hash IN "
        "(SELECT content_hash FROM files WHERE content_hash IS NOT NULL "
        "GROUP BY content_hash HAVING COUNT(*) > 1)) ORDER BY f.id"
    ).fetchall()
    return [_candidate(r) for r in rows]


def candidates_by_ids(catalog: Catalog, file_ids: Sequence[int]) -> list[CopyCandidate]:
    return _candidates_with(catalog, "f.id", file_ids)


def same_content(catalog: Catalog, digests: Sequence[str]) -> list[CopyCandidate]:
    """Files (online, read fine) with one of these content hashes."""
    return _candidates_with(catalog, "f.content_hash", digests)


def _candidates_with(
    catalog: Catalog, column: str, values: Sequence[int] | Sequence[str]
) -> list[CopyCandidate]:
    """The candidates whose `column` is one of `values`, asked 500 at a time."""
    out: list[CopyCandidate] = []
    for start in range(0, len(values), 500):
        chunk = list(values[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = catalog._db.execute(_CANDIDATE_SELECT + f" AND {column} IN ({marks})", chunk)
        out += [_candidate(r) for r in rows.fetchall()]
    return out


def file_ids_of_items(catalog: Catalog, item_ids: Sequence[int]) -> dict[int, int]:
    """item id -> file id."""
    out: dict[int, int] = {}
    for start in range(0, len(item_ids), 500):
        chunk = list(item_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for item_id, file_id in catalog._db.execute(
            f"SELECT id, file_id FROM items WHERE id IN ({marks})", chunk
        ):
            out[int(item_id)] = int(file_id)
    return out


def _candidate(r: Sequence[Any]) -> CopyCandidate:
    return CopyCandidate(
        file_id=int(r[0]),
        path=real_path(str(r[1])),
        kind=FileKind(r[2]),
        size=int(r[3]),
        mtime_ns=int(r[4]),
        content_hash=None if r[5] is None else str(r[5]),
        phash=None if r[6] is None else str(r[6]),
        width=None if r[7] is None else int(r[7]),
        height=None if r[8] is None else int(r[8]),
        taken=None if r[9] is None else str(r[9]),
        image_item=None if r[10] is None else int(r[10]),
        taken_utc=None if r[11] is None else float(r[11]),
        lat=None if r[12] is None else float(r[12]),
        lon=None if r[13] is None else float(r[13]),
    )
