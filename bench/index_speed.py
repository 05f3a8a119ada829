"""Indexing throughput through the real Indexer + Library, against the LangChain way.

Generates 12-megapixel JPEGs and text documents (kept in --workdir for later runs),
indexes them with finder, and runs the LangChain `OpenCLIPEmbeddings.embed_image`
loop on the same photos: one image at a time, full-size PIL open, eager fp32
`encode_image` per file (written out here; langchain is not a dependency). Also the
fidelity of bf16 against fp32 on the same model. Prints JSON.

Speed does not depend on the weight values, so `--pretrained none` (random, seeded
weights) gives true timings with the real architecture.

    python bench/index_speed.py                      # ViT-B-32, 192 photos, 48 documents
    python bench/index_speed.py --images 32 --docs 8 --baseline-images 8   # quick
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    Timer,
    add_model_arguments,
    bench_embedder,
    current_rss_mb,
    emit,
    machine,
    make_documents,
    make_photos,
    peak_rss_mb,
)

from finder.core.indexing.indexer import IndexerConfig
from finder.core.ingest.extract import load_image
from finder.core.library import Library
from finder.core.models.embedder import image_batch_of
from finder.core.models.spec import resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_arguments(p)
    p.add_argument("--images", type=int, default=192)
    p.add_argument("--docs", type=int, default=48, help="text documents (~1200 words each)")
    p.add_argument(
        "--baseline-images",
        type=int,
        default=24,
        help="photos for the LangChain-style baseline (0: skip it)",
    )
    p.add_argument("--size", default="4000x3000", help="photo size (12 MP by default)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--decode-workers", type=int, default=None)
    p.add_argument("--batch", type=int, default=None, help="images per model batch")
    p.add_argument(
        "--decode-nice",
        type=int,
        default=None,
        help="nice value of the decode threads (0: not lowered)",
    )
    p.add_argument(
        "--fidelity",
        type=int,
        default=8,
        help="photos and texts for the bf16-vs-fp32 cosine (0: skip)",
    )
    p.add_argument(
        "--decode-sample",
        type=int,
        default=16,
        help="photos timed for the decode comparison (0: skip)",
    )
    p.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "finder-bench"))
    args = p.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    work = Path(args.workdir)
    result: dict[str, Any] = {
        "benchmark": "index_speed",
        "machine": machine(),
        "model": f"{args.model} ({args.pretrained})",
    }

    with Timer() as t:
        photos = make_photos(work / f"photos-{size[0]}x{size[1]}", args.images, size)
        documents = make_documents(work / "documents", args.docs)
    result["data"] = {
        "photos": len(photos),
        "photo_size": f"{size[0]}x{size[1]}",
        "mean_photo_mb": round(np.mean([f.stat().st_size for f in photos]) / 2**20, 2)
        if photos
        else 0,
        "documents": len(documents),
        "generate_s": round(t.s, 1),
    }

    spec = resolve_model_spec(args.model, args.pretrained)
    embedder, result["runtime"] = bench_embedder(spec, args.precision, args.backend, work)
    with Timer() as t:
        embedder.load()
    result["model_load_s"] = round(t.s, 2)
    result["precision"] = embedder.precision_in_use
    import torch

    result["torch_threads"] = torch.get_num_threads()
    defaults = IndexerConfig()
    config = IndexerConfig(
        image_batch=args.batch or defaults.image_batch,
        decode_workers=args.decode_workers or defaults.decode_workers,
        decode_nice=defaults.decode_nice if args.decode_nice is None else args.decode_nice,
    )
    result["indexer"] = {
        k: getattr(config, k) for k in ("image_batch", "decode_workers", "lookahead", "decode_nice")
    }

    if args.decode_sample and photos:
        result["decode_ms_per_photo"] = decode_times(embedder, photos[: args.decode_sample])
    if photos:
        result["finder_photos"] = index_folder(
            embedder, config, linked(photos, work / "run"), "photos"
        )
    if documents:
        result["finder_documents"] = index_folder(
            embedder, config, linked(documents, work / "run"), "documents"
        )
    result["finder_model_only"] = model_only(
        embedder, config.image_batch or image_batch_of(embedder)
    )

    if args.baseline_images and photos:
        baseline = langchain_style(spec, photos[: args.baseline_images])
        result["langchain_baseline"] = baseline
        if "finder_photos" in result:
            ours = result["finder_photos"]["per_s"]
            result["speedup_over_langchain"] = round(ours / baseline["images_per_s"], 2)

    if args.fidelity and photos:
        result["bf16_vs_fp32_cosine"] = fidelity(spec, photos[: args.fidelity], args.fidelity)
    result["rss_mb"] = {"now": current_rss_mb(), "peak": peak_rss_mb()}
    result["machine"]["loadavg_after"] = machine()["loadavg_1_5_15"]
    emit(result)


def index_folder(
    embedder: ClipEmbedder, config: IndexerConfig, folder: Path, what: str
) -> dict[str, Any]:
    """One full index run of `folder` into a fresh data dir: files/s end to end."""
    data_dir = Path(tempfile.mkdtemp(prefix="finder-bench-data-"))
    try:
        library = Library(data_dir, embedder, writable=True, indexer_config=config)
        try:
            library.add_folder(folder)
            report = library.index()
        finally:
            library.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    files = report.added + report.updated
    if report.errors:
        print(f"{what}: {len(report.errors)} errors, first: {report.errors[0]}", file=sys.stderr)
    return {
        "files": files,
        "items": report.items_embedded,
        "seconds": round(report.elapsed_s, 2),
        "per_s": round(files / report.elapsed_s, 2),
        "items_per_s": round(report.items_embedded / report.elapsed_s, 2),
    }


def linked(files: list[Path], parent: Path) -> Path:
    """A folder holding exactly `files` (hard links: no copying), to index just those."""
    folder = parent / f"{files[0].parent.name}-{len(files)}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for f in files:
        try:
            (folder / f.name).hardlink_to(f)
        except OSError:
            shutil.copy2(f, folder / f.name)
    return folder


def model_only(embedder: ClipEmbedder, batch: int) -> dict[str, Any]:
    """The image tower alone on ready tensors: the ceiling for end-to-end indexing."""
    import torch
    from PIL import Image

    tensor = torch.as_tensor(embedder.preprocess(Image.new("RGB", (256, 256), "gray")))
    inputs = [tensor + 0.01 * torch.randn_like(tensor) for _ in range(batch)]
    if not isinstance(embedder, ClipEmbedder):
        inputs = [t.numpy() for t in inputs]
    embedder.encode_images(inputs[:2])  # warm up
    with Timer() as t:
        embedder.encode_images(inputs)
    with Timer() as q:
        for i in range(5):
            embedder.encode_texts_uncached([f"a photo of a dog number {i}"])
    out = {
        "images_per_s": round(batch / t.s, 2),
        "batch": batch,
        "text_query_ms_short": round(q.s / 5 * 1000, 2),
    }
    if isinstance(embedder, ClipEmbedder):
        with Timer() as full:
            for i in range(5):
                embedder._encode_texts([f"a photo of a dog number {i}"], short=False)
        out["text_query_ms_full_77"] = round(full.s / 5 * 1000, 2)
    return out


def decode_times(embedder: ClipEmbedder, photos: list[Path]) -> dict[str, float]:
    """Per photo: full-size open + model preprocess, against finder's draft decode."""
    from PIL import Image

    out = {}
    with Timer() as t:
        for path in photos:
            with Image.open(path) as img:
                embedder.preprocess(img.convert("RGB"))
    out["full_size_open_and_preprocess"] = round(t.s / len(photos) * 1000, 1)
    with Timer() as t:
        for path in photos:
            embedder.preprocess(load_image(path))
    out["draft_decode_and_preprocess"] = round(t.s / len(photos) * 1000, 1)
    return out


def langchain_style(spec: Any, photos: list[Path]) -> dict[str, Any]:
    """LangChain OpenCLIPEmbeddings.embed_image, as written there: per file, no batching,
    no reduced decode, fp32, autograd left on (it does not use no_grad)."""
    import open_clip
    import torch
    from PIL import Image

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model, _, preprocess = open_clip.create_model_and_transforms(
            spec.name, pretrained=spec.pretrained
        )
    model.eval()
    vectors = []
    with Timer() as t:
        for uri in photos:
            pil_image = Image.open(uri)
            preprocessed = preprocess(pil_image).unsqueeze(0)
            embeddings = model.encode_image(preprocessed)
            norm = embeddings.norm(p=2, dim=1, keepdim=True)
            vectors.append(embeddings.div(norm).squeeze(0).tolist())
    del model
    return {
        "images": len(photos),
        "seconds": round(t.s, 2),
        "images_per_s": round(len(photos) / t.s, 2),
    }


def fidelity(spec: Any, photos: list[Path], texts: int) -> dict[str, Any]:
    """Cosine of bf16 against fp32 embeddings of the same photos and texts."""
    from _common import WORDS

    fp32 = ClipEmbedder(spec, precision="fp32")
    bf16 = ClipEmbedder(spec, precision="bf16")
    pictures = [fp32.preprocess(load_image(p)) for p in photos]
    rng = np.random.default_rng(2)
    sentences = [
        " ".join(WORDS[j] for j in rng.integers(0, len(WORDS), 3 + 4 * i)) for i in range(texts)
    ]
    started = time.perf_counter()
    image_cos = np.sum(fp32.encode_images(pictures) * bf16.encode_images(pictures), axis=1)
    text_cos = np.sum(fp32.encode_texts(sentences) * bf16.encode_texts(sentences), axis=1)
    return {
        "images_min": round(float(image_cos.min()), 6),
        "images_mean": round(float(image_cos.mean()), 6),
        "texts_min": round(float(text_cos.min()), 6),
        "texts_mean": round(float(text_cos.mean()), 6),
        "n": len(photos),
        "seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    main()
