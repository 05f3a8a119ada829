"""Measure a model's speed on this machine and record it for `finder models`.

Images/s of the image tower (batch 32, preprocessed 224 px inputs) and the p50 of a text
query, with random weights (`--pretrained none`: speed does not depend on weight values).
Writes data_dir/model_speed.json (finder.core.models.catalogue.record_speed) under the key of
the catalogue's weights, and prints JSON. The load average is recorded beside the figure:
on shared cores, compare figures only at similar load.

    .venv/bin/python bench/model_speed.py --model ViT-B-32 --data-dir ~/.local/share/finder
    .venv/bin/python bench/model_speed.py --model ViT-B-32 --backend onnx   # the ONNX path

--compare A,B,C measures several models on ONNX Runtime in one run, round by round, and
prints their speed as ratios against the first (bench/_speed_compare.py; each catalogue
model's fp32 figures are recorded too, when --data-dir is given):

    nice -n 19 .venv/bin/python bench/model_speed.py --data-dir /tmp/speed \
        --compare ViT-B-32,MobileCLIP-S1,MobileCLIP-S2,MobileCLIP2-S0,MobileCLIP2-B,ViT-B-16-SigLIP

Measured so on 2 shared cores (AMD EPYC, AVX2, no native bf16; indexing benchmarks ran
beside it, load 1.8-3.4), 3 rounds of 64 images in batches of 32 and 10 queries per
model, random weights; two runs, 2026-12-02. Ratios against ViT-B-32 on ONNX Runtime
(images/s: higher is faster; query p50: time, lower is faster):

    model            input  export          fp32 img/s  int8 img/s  int8/own fp32  query p50
    MobileCLIP2-S0   256    finder, reparam 1.40-1.45x  0.91-1.10x  0.95-1.01x     3.2-3.3x
    MobileCLIP-S1    256    finder, reparam 0.68-1.01x  0.52-0.53x  0.98-1.08x     3.4-3.5x
    MobileCLIP-S2    256    finder, reparam 0.50-0.52x  0.35-0.40x  1.05-1.06x     3.0x
    MobileCLIP2-B    224    finder          0.19-0.22x  0.22-0.26x  1.68-1.80x     3.1-3.4x
    ViT-B-16-SigLIP  224    bench graphs    0.21-0.26x  0.21-0.26x  1.78-1.92x     5.9-6.0x
    (ViT-B-32 itself: int8 1.28-2.19x its fp32)

"finder": finder's own export (with export.py taking a text tower without a causal mask
whole, as proposed for issue #18; without that change the MobileCLIPs are measured from
bench graphs), reparameterised first where the tower has MobileOne blocks (not
MobileCLIP2-B's ViT); every export agreed with torch at cosine 1.0000. MobileCLIP2-S2 has
MobileCLIP-S2's architecture (the same config), so its speed. The text towers of
MobileCLIP and SigLIP have no causal mask: a query runs all 77 (64) positions where
ViT-B-32's stops at its last real token, hence ~3x (6x) its query time. int8 here is
quantise.py's (matrix products only): the convolutional MobileCLIP towers gain nothing
from it. SigLIP was measured from bench graphs: finder cannot load it with torch here
(open_clip's Hugging Face tokenizer needs `transformers`, which finder does not install).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import bench_embedder
from _speed_compare import compare
from PIL import Image

from finder import paths
from finder.core.models import catalogue
from finder.core.models.spec import resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ViT-B-32", help="catalogue name or name@tag")
    parser.add_argument("--data-dir")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--backend",
        default="torch",
        help="torch | onnx (exported once under "
        "--workdir, then run by ONNX Runtime, as finder does after a first run)",
    )
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "finder-bench"))
    parser.add_argument("--compare", help="models to measure side by side: A,B,C (A: reference)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.compare:
        _compare(args)
        return
    entry = catalogue.get(args.model)
    spec = resolve_model_spec(entry.name, "none")
    if args.backend == "onnx":
        embedder, _ = bench_embedder(spec, "fp32", "onnx", Path(args.workdir))
    else:
        embedder = ClipEmbedder(spec, threads=args.threads)
    embedder.load()
    picture = embedder.preprocess(Image.new("RGB", (640, 480), (120, 160, 200)))
    embedder.encode_images([picture] * 4)  # warm up
    started = time.perf_counter()
    for start in range(0, args.images, 32):
        embedder.encode_images([picture] * min(32, args.images - start))
    images_per_s = args.images / (time.perf_counter() - started)
    times = []
    for i in range(args.queries):
        t = time.perf_counter()
        embedder.encode_texts([f"a photo of a dog on a beach number {i}"])  # not cached
        times.append((time.perf_counter() - t) * 1000)
    speed = catalogue.MeasuredSpeed(
        round(images_per_s, 2),
        round(statistics.median(times), 1),
        args.threads,
        round(os.getloadavg()[0], 2),
        embedder.precision_in_use + (" onnxruntime" if args.backend == "onnx" else ""),
        datetime.now(UTC).isoformat(timespec="seconds"),
    )
    catalogue.record_speed(paths.data_dir(args.data_dir), entry.key, speed)
    print(json.dumps({"model": entry.key, **vars(speed)}, indent=2))


def _compare(args: argparse.Namespace) -> None:
    names = [n.strip() for n in args.compare.split(",") if n.strip()]
    result = compare(names, Path(args.workdir), args.rounds, args.images, args.queries)
    if args.data_dir:  # the catalogue's models: their figures for `finder models`
        for name, figures in result["models"].items():
            entry = catalogue.find(name)
            if entry is None:
                continue
            absolute = figures["absolute (shared machine, for orientation only)"]
            # The faster of the two: finder runs the int8 tower wherever its check on the
            # library's photos keeps it (models/quantise.py), so that is the speed to weigh.
            precision = max(("fp32", "int8"), key=lambda p: absolute[f"{p}_images_per_s"])
            speed = catalogue.MeasuredSpeed(
                absolute[f"{precision}_images_per_s"],
                absolute["query_p50_ms"],
                os.cpu_count() or 1,
                round(os.getloadavg()[0], 2),
                f"{precision} onnxruntime",
                datetime.now(UTC).isoformat(timespec="seconds"),
            )
            catalogue.record_speed(paths.data_dir(args.data_dir), entry.key, speed)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
