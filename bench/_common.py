"""Shared by the benchmark scripts: the machine's state, memory, generated data, JSON out.

Benchmarks print figures; they assert nothing. Data is generated on the spot (and
kept in a work folder so a second run skips generating it).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

WORDS = str.split(
    "invoice receipt hardware store screws hammer garden tax return 2023 meeting notes "
    "project budget holiday beach sunset mountain river city train station coffee report "
    "quarterly revenue customer contract lease apartment insurance policy doctor letter "
    "school recipe bread flour butter sugar oven minutes travel flight hotel booking "
    "museum ticket concert birthday party family dog cat bicycle repair manual warranty"
)


def machine() -> dict[str, Any]:
    """What the figures were measured on, and how busy it was (the cores are shared)."""
    from finder.core.models.cpu import cpu_has_native_bf16

    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.partition(":")[2].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "native_bf16": cpu_has_native_bf16(),
        "loadavg_1_5_15": [round(x, 2) for x in load],
        "python": sys.version.split()[0],
    }


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / 1024 if sys.platform != "darwin" else kb / 2**20, 1)


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except OSError:
        return float("nan")


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples_s)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {"p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2), "n": len(ms)}


def emit(result: dict[str, Any]) -> None:
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.s = time.perf_counter() - self.start


# -- generated data ----------------------------------------------------------------------


def photo(seed: int, size: tuple[int, int] = (4000, 3000), quality: int = 90) -> bytes:
    """A camera-like JPEG: smooth shapes upscaled, plus sensor-like noise (a few MB)."""
    import io

    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    w, h = size
    small = Image.new("RGB", (w // 8, h // 8), tuple(int(c) for c in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(small)
    for _ in range(40):
        x0, y0 = int(rng.integers(0, w // 8)), int(rng.integers(0, h // 8))
        x1, y1 = x0 + int(rng.integers(5, w // 16)), y0 + int(rng.integers(5, h // 16))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    small = small.filter(ImageFilter.GaussianBlur(1.5))
    pixels = np.asarray(small.resize(size, Image.Resampling.BICUBIC), dtype=np.int16)
    noise = rng.integers(-12, 13, size=(h, w, 1), dtype=np.int16)  # luminance grain
    image = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def make_photos(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"IMG_{i:05d}.jpg"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(photo(i, size))
            tmp.rename(path)
        paths.append(path)
    return paths


def make_documents(folder: Path, count: int, words: int = 1200) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    paths = []
    for i in range(count):
        path = folder / f"note-{i:05d}.{'md' if i % 2 else 'txt'}"
        text = " ".join(WORDS[j] for j in rng.integers(0, len(WORDS), words))
        if not path.exists():
            path.write_text(text)
        paths.append(path)
    return paths


def clip_like_vectors(count: int, dim: int = 512, seed: int = 0) -> np.ndarray:
    """Generated unit vectors shaped like CLIP image embeddings, for index benchmarks.

    Clusters in a 64-d subspace plus isotropic noise and a shared direction (CLIP's
    embeddings sit in a cone). With 20k of them a random pair has cosine ~0.34 and a
    query's 10th neighbour ~0.64: harder for an ANN index than a photo library with
    its near-duplicates, so recall here is a conservative figure. The basis, the
    shared direction and the cluster centres are fixed; `seed` draws the points.
    """
    latent = 64
    basis = np.random.default_rng(12345).standard_normal((latent, dim)).astype(np.float32)
    basis /= np.sqrt(latent)
    shared = np.random.default_rng(54321).standard_normal(dim).astype(np.float32)
    shared /= np.linalg.norm(shared)
    centres = np.random.default_rng(777).standard_normal((500, latent)).astype(np.float32)
    rng = np.random.default_rng(seed)
    z = centres[rng.integers(0, len(centres), count)]
    z += 1.0 * rng.standard_normal((count, latent)).astype(np.float32)
    vectors = z @ basis
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors += 0.5 * rng.standard_normal((count, dim)).astype(np.float32) / np.sqrt(dim)
    vectors += 0.8 * shared
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def add_model_arguments(parser: Any) -> None:
    """--model, --pretrained, --precision and --backend, as the benchmarks share them."""
    parser.add_argument("--model", default="ViT-B-32")
    parser.add_argument("--pretrained", default="none")
    parser.add_argument("--precision", default="auto", help="auto | fp32 | bf16")
    parser.add_argument(
        "--backend", default="torch", help="torch | onnx (exported once, then run by ONNX Runtime)"
    )


def bench_embedder(
    spec: Any, precision: str, backend: str, workdir: Path
) -> tuple[Any, dict[str, Any]]:
    """The embedder a benchmark times: torch (ClipEmbedder), or `backend="onnx"`: the
    model exported once under `workdir` (timed the first time) and run by ONNX Runtime."""
    from finder.core.models.torch_runtime import ClipEmbedder

    if backend != "onnx":
        return ClipEmbedder(spec, precision=precision), {"backend": "torch"}
    from finder.core.models.export import export, find_export
    from finder.core.models.onnx_runtime import OnnxEmbedder

    data = workdir / "export-data"
    info: dict[str, Any] = {"backend": "onnxruntime"}
    folder = find_export(data, spec)
    if folder is None:
        started = time.perf_counter()
        folder = export(ClipEmbedder(spec, precision="fp32"), data)
        info["export_s"] = round(time.perf_counter() - started, 1)
    info["export_mb"] = round(sum(f.stat().st_size for f in folder.iterdir()) / 2**20)
    return OnnxEmbedder(spec, folder), info
