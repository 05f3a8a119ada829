"""Ranking quality report: recall@1/@5 and MRR per query family, as JSON.

Indexes freshly generated folders (new seed: pictures the model never saw) with the
given model through the real Library, then runs text->photo, image->document,
scan->document and near-duplicate queries, and the mixed "all" view. Compare changes
(quantisation, new models, chunking, fusion) with these numbers.

    python bench/quality.py                                   # the committed tiny model
    python bench/quality.py --model ViT-B-32 --pretrained laion2b_s34b_b79k --seed 7
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import emit, machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from finder.core.library import Library  # noqa: E402
from finder.core.models.spec import resolve_model_spec  # noqa: E402
from finder.core.models.torch_runtime import ClipEmbedder  # noqa: E402
from tools.ranking_eval import evaluate, make_folders, mixed_view  # noqa: E402

TINY = Path(__file__).resolve().parent.parent / "tests" / "models" / "finder-tiny.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(TINY))
    parser.add_argument("--pretrained", default=None)
    parser.add_argument("--precision", default=None, help="auto, fp32 or bf16")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args()
    spec = resolve_model_spec(args.model, args.pretrained)
    options = {"precision": args.precision} if args.precision else {}
    embedder = ClipEmbedder(spec, **options)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folders, _ = make_folders(root / "library", args.seed)
        library = Library(root / "data", embedder, writable=True)
        try:
            library.add_folder(root / "library")
            report = library.index()
            cases = evaluate(library, folders, root / "scratch", k=args.k, seed=args.seed)
            mixed = mixed_view(library, folders, k=args.k)
        finally:
            library.close()
    emit(
        {
            "benchmark": "quality",
            "machine": machine(),
            "model": spec.describe(),
            "seed": args.seed,
            "indexed": {
                "files": report.added,
                "items": report.items_embedded,
                "errors": len(report.errors),
            },
            "cases": {name: c.summary() for name, c in cases.items()},
            "misses": {name: c.misses[:10] for name, c in cases.items() if c.misses},
            "mixed_all_view": mixed,
        }
    )


if __name__ == "__main__":
    main()
