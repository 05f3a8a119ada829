"""Ranking quality of a finder library on fresh synthetic folders: recall@1/@5 and MRR.

Used by the end-to-end ranking tests and by bench/quality.py, so later changes
(quantisation, new models, chunking, fusion) are compared with the same numbers.
Everything goes through the real Library: indexing, the vector store and search.

`make_named_folders` / `evaluate_names` add the cases fusion must get right when file
names speak: photos named by what they show beside photos named like a camera's
(IMG_5749.png), which only meaning finds, and invoices told apart by their number or a
quoted phrase, which only keywords find.

    python -m tools.ranking_eval [--model tests/models/finder-tiny.json] [--seed 4242]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from finder.core.library import Library
from finder.core.models.spec import resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.types import SearchKind, SearchResult
from tools.synthetic_data import Sample, caption, make_document_folder, make_photo_folder

# Photos named like a camera's files among photos named by content: the four of the issue.
CAMERA_SHOTS = (("red", "circle"), ("blue", "square"), ("green", "triangle"), ("yellow", "circle"))
NAMED_COLORS = ("red", "blue", "green", "yellow")  # x 5 shapes: 20 photos
INVOICE_NUMBERS = (4470, 4471, 4472, 4473, 4474)
REMINDER = "second reminder"  # a quoted phrase only one invoice holds


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
            (s.query, lambda s=s: library.search_text(s.query, SearchKind.PHOTOS, k), s.path)
            for s in folders.photos
        ],
    )
    case(
        "image->document",
        [
            (
                s.path.name,
                lambda s=s: library.search_image(s.path, SearchKind.DOCS, k),
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
                lambda s=s: library.search_image(s.path, SearchKind.DOCS, k),
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
            (dup.name, lambda dup=dup: library.search_image(dup, SearchKind.PHOTOS, k), s.path)
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
        results = library.search_text(photo.query, SearchKind.ALL, k)
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


@dataclass
class NamedFolders:
    camera: list[Sample]  # photos named IMG_xxxx: nothing in their names says what they show
    invoices: dict[int, Path]  # invoice number -> its document (named note_xxxx.txt)
    reminder: Path  # the one invoice holding REMINDER


def make_named_folders(root: Path, seed: int) -> NamedFolders:
    """20 shape photos named by content (red_square.png), 4 of them (CAMERA_SHOTS) renamed
    like a camera's; invoices that differ only by number, one holding REMINDER, and a few
    receipts, all with neutral names."""
    rng = random.Random(f"named-{seed}")
    camera = []
    for sample in make_photo_folder(root / "photos", seed, colors=NAMED_COLORS):
        if (sample.color, sample.shape) in CAMERA_SHOTS:
            target = sample.path.with_name(f"IMG_{rng.randrange(1000, 10000)}.png")
            camera.append(replace(sample, path=sample.path.rename(target)))
    documents = root / "documents"
    documents.mkdir(parents=True, exist_ok=True)
    invoices = {}
    names = rng.sample(range(10000), len(INVOICE_NUMBERS) + 3)
    for number, name in zip(INVOICE_NUMBERS, names, strict=False):
        days = rng.randint(5, 60)
        text = f"invoice number {number}, payment due in {days} days. Sent by the office team."
        if number == INVOICE_NUMBERS[-1]:
            text = f"invoice number {number}, {REMINDER}: payment due in {days} days."
        invoices[number] = documents / f"note_{name:04d}.txt"
        invoices[number].write_text(text, encoding="utf-8")
    for name in names[len(INVOICE_NUMBERS) :]:
        total = f"{rng.randint(1, 999)}.{rng.randint(10, 99)}"
        text = f"receipt: total paid {total}, thank you for shopping"
        (documents / f"note_{name:04d}.txt").write_text(text, encoding="utf-8")
    return NamedFolders(camera, invoices, invoices[INVOICE_NUMBERS[-1]])


def evaluate_names(library: Library, folders: NamedFolders, k: int = 10) -> dict[str, CaseResult]:
    """Meaning against names that share a word, and keywords where only they can tell."""
    cases: dict[str, CaseResult] = {}
    for view in (SearchKind.PHOTOS, SearchKind.ALL):
        case = cases[f"text->photo beside named photos ({view.value})"] = CaseResult(view.value)
        for sample in folders.camera:
            query = caption(sample.color or "", sample.shape or "")
            case.add(query, rank_of(library.search_text(query, view, k), sample.path))
    for view in (SearchKind.DOCS, SearchKind.ALL):
        case = cases[f"invoice number ({view.value})"] = CaseResult(view.value)
        for number, path in folders.invoices.items():
            query = f"invoice {number}"
            case.add(query, rank_of(library.search_text(query, view, k), path))
        case = cases[f"quoted phrase ({view.value})"] = CaseResult(view.value)
        query = f'invoice "{REMINDER}"'
        case.add(query, rank_of(library.search_text(query, view, k), folders.reminder))
    return cases


def main() -> None:
    """Index fresh folders with a model and print every case's figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    default = Path(__file__).resolve().parent.parent / "tests" / "models" / "finder-tiny.json"
    parser.add_argument("--model", default=str(default))
    parser.add_argument("--pretrained", default=None)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args()
    embedder = ClipEmbedder(resolve_model_spec(args.model, args.pretrained), threads=2)
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folders, _ = make_folders(root / "library", args.seed)
        named = make_named_folders(root / "named", args.seed)
        for name, build in (("neutral names", "library"), ("speaking names", "named")):
            library = Library(root / f"data-{build}", embedder, writable=True)
            try:
                library.add_folder(root / build)
                library.index()
                if build == "library":
                    cases = evaluate(library, folders, root / "scratch", args.k, args.seed)
                    report["mixed view"] = mixed_view(library, folders, args.k)
                else:
                    cases = evaluate_names(library, named, args.k)
            finally:
                library.close()
            report[name] = {case: result.summary() for case, result in cases.items()}
            report[f"{name}: misses"] = {c: r.misses for c, r in cases.items() if r.misses}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
