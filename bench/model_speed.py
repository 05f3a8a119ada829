"""Measure a model's speed on this machine and record it for `finder models`.

Images/s of the image tower (batch 32, preprocessed 224 px inputs) and the p50 of a text
query, with random weights (`--pretrained none`: speed does not depend on weight values).
Writes data_dir/model_speed.json (finder.core.models.catalogue.record_speed) under the key of
the catalogue's weights, and prints JSON. The load average is recorded beside the figure:
on shared cores, compare figures only at similar load.

    .venv/bin/python bench/model_speed.py --model ViT-B-32 --data-dir ~/.local/share/finder
    .venv/bin/python bench/model_speed.py --model ViT-B-32 --backend onnx   # the ONNX path
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
