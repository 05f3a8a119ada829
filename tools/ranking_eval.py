"""Ranking quality of a finder library on fresh synthetic folders: recall@1/@5 and MRR.

Used by the end-to-end ranking tests and by bench/quality.py, so later changes
(quantisation, new models, chunking, fusion) are compared with the same numbers.
Everything goes through the real Library: indexing, the vector store and search.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from finder.core.library import Library
from finder.core.types import SearchKind, SearchResult
from tools.synthetic_data import Sample, make_document_folder, make_photo_folder


@dataclass
class CaseResult:
    """One family of queries: where the expected file ranked for each query."""

    name: str
    ranks: list[int | None] = field(default_factory=list)  # 1-based; None: not in the list
    misses: list[str] = field(default_factory=list)  # queries whose answer was not first

    def add(self, query: str, rank: int | None) -> None:
        self.ranks.append(rank)
        if rank != 1:
            self.misses.append(f"{query} -> rank {rank}")

    def recall(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / max(1, len(self.ranks))

    @property
    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r is not None) / max(1, len(self.ranks))

    def summary(self) -> dict[str, object]:
        return {
            "queries": len(self.ranks),
            "recall@1": round(self.recall(1), 3),
            "recall@5": round(self.recall(5), 3),
            "mrr": round(self.mrr, 3),
        }


@dataclass
class Folders:
    photos: list[Sample]
    documents: list[Sample]  # .txt files and (with scans) pictures of pages

    @property
    def texts(self) -> list[Sample]:
        return [s for s in self.documents if s.kind == "document"]

    @property
    def scans(self) -> list[Sample]:
        return [s for s in self.documents if s.kind == "scan"]


def make_folders(root: Path, seed: int) -> tuple[Folders, Path]:
    """Photos and documents in `root`, and (outside it) query-only pictures of pages.

    Files get neutral names (IMG_0007.png, note_0003.txt) in shuffled order: the
    generator names them after what they show, and a keyword match on "red_circle.png"
    would answer the queries without the model.
    """
    rng = random.Random(f"names-{seed}")
    photos = _rename(make_photo_folder(root / "photos", seed), "IMG_{:04d}", rng)
    generated = make_document_folder(root / "documents", seed, scans=True)
    texts = _rename([s for s in generated if s.kind == "document"], "note_{:04d}", rng)
    # Pictures of pages are queries (a screenshot, a photo of a letter), not indexed.
    queries = root.parent / f"{root.name}-queries"
    queries.mkdir(parents=True, exist_ok=True)
    scans = [
        replace(s, path=s.path.rename(queries / s.path.name)) for s in generated if s.kind == "scan"
    ]
    return Folders(photos, texts + scans), queries


def _rename(samples: list[Sample], pattern: str, rng: random.Random) -> list[Sample]:
    order = list(range(len(samples)))
    rng.shuffle(order)
    renamed = []
    for number, sample in zip(order, samples, strict=True):
        target = sample.path.with_name(pattern.format(number) + sample.path.suffix)
        renamed.append(replace(sample, path=sample.path.rename(target)))
    return renamed


def rank_of(results: Sequence[SearchResult], path: Path | str) -> int | None:
    for i, r in enumerate(results, 1):
        if r.path == str(path):
            return i
    return None


def near_duplicate(source: Path, dest: Path, rng: random.Random) -> Path:
    """Resized, re-encoded as JPEG and slightly cropped: the same picture, other bytes."""
    with Image.open(source) as img:
        img = img.convert("RGB")
        w, h = img.size
        dx, dy = int(w * rng.uniform(0.02, 0.06)), int(h * rng.uniform(0.02, 0.06))
        img = img.crop((dx, dy, w - dx, h - dy)).resize((int(w * 1.5), int(h * 1.5)))
        buffer = io.BytesIO()
        img.save(buffer, "JPEG", quality=70)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(buffer.getvalue())
    return dest


def evaluate(
    library: Library, folders: Folders, scratch: Path, k: int = 10, seed: int = 0
) -> dict[str, CaseResult]:
    """Run every query family against an indexed library; nothing is asserted here."""
    search = library.search
    cases: dict[str, CaseResult] = {}

    def case(
        name: str, queries: Sequence[tuple[str, Callable[[], list[SearchResult]], Path]]
    ) -> None:
        result = CaseResult(name)
        for label, run, expected in queries:
            result.add(label, rank_of(run(), expected))
        cases[name] = result

    docs_by_label = {s.label: s for s in folders.texts}
    case(
        "text->photo",
        [
            (s.query, lambda s=s: search.text(s.query, SearchKind.PHOTOS, k), s.path)
            for s in folders.photos
        ],
    )
    case(
        "image->document",
        [
            (
                s.path.name,
                lambda s=s: search.image(s.path, SearchKind.DOCS, k),
                docs_by_label[s.label].path,
            )
            for s in folders.photos
            if s.label in docs_by_label
        ],
    )
    case(
        "scan->document",
        [
            (
                s.path.name,
                lambda s=s: search.image(s.path, SearchKind.DOCS, k),
                docs_by_label[s.label].path,
            )
            for s in folders.scans
            if s.label in docs_by_label
        ],
    )
    rng = random.Random(seed)
    duplicates = [
        (s, near_duplicate(s.path, scratch / "near-dup" / f"{s.path.stem}.jpg", rng))
        for s in folders.photos
    ]
    case(
        "image->photo near-duplicate",
        [
            (dup.name, lambda dup=dup: search.image(dup, SearchKind.PHOTOS, k), s.path)
            for s, dup in duplicates
        ],
    )
    return cases


def mixed_view(library: Library, folders: Folders, k: int = 10) -> dict[str, float]:
    """For shape queries in the "all" view: how often both kinds appear in the top k, and
    how often the photo and the document about it both rank in the top 3."""
    both_kinds = both_top3 = 0
    docs_by_label = {s.label: s for s in folders.texts}
    for photo in folders.photos:
        results = library.search.text(photo.query, SearchKind.ALL, k)
        kinds = {r.kind for r in results}
        both_kinds += len(kinds) == 2
        doc = docs_by_label.get(photo.label)
        photo_rank, doc_rank = (
            rank_of(results, photo.path),
            rank_of(results, doc.path) if doc else None,
        )
        both_top3 += bool(photo_rank and photo_rank <= 3 and doc_rank and doc_rank <= 3)
    n = max(1, len(folders.photos))
    return {
        "both_kinds_in_top_k": round(both_kinds / n, 3),
        "photo_and_document_in_top3": round(both_top3 / n, 3),
    }
