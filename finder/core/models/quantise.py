"""int8 that proves itself on the user's own photos and weights, or is not used.

Dynamic int8 of the image tower (ONNX Runtime's quantize_dynamic, matrix products only,
per-channel 7-bit weights)
embeds ~1.5x faster than fp32 on a CPU, but how faithful it is depends on the weights:
cosine 0.995 on random weights says nothing about real ones. So the decision is taken
here, once per model file: after the export, the tower is quantised, the first photos of
the library are embedded with both, and int8 is kept only if the vectors agree (mean
cosine >= MIN_COSINE) and so do the neighbours of probe queries (top-10 overlap >=
MIN_AGREEMENT); otherwise the model stays fp32. The decision and its figures live in the
data dir (precision/<model>/check.json, beside the int8 tower) and are taken again when
the model file changes. `--precision fp32` (FINDER_PRECISION) always runs the reference.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from finder.core.models.embedder import Embedder
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.spec import ModelSpec

log = logging.getLogger(__name__)

CHECK_DIR = "precision"
CHECK_FILE = "check.json"
INT8_FILE = "visual-int8.onnx"
SAMPLE = 64  # photos embedded with both
MIN_SAMPLE = 8  # fewer than this: no decision yet (fp32 until the library has more)
MIN_COSINE = 0.995
MIN_AGREEMENT = 0.90
METHOD = 2  # how the tower is quantised: a decision taken another way is taken again
TOP_K = 10
# Text probes (their neighbours among the sampled photos, fp32 text tower for both),
# beside each sampled photo as an image probe.
PROBES = (
    "a photo of a dog",
    "a cat on a sofa",
    "a beach at sunset",
    "mountains with snow",
    "a city street at night",
    "a birthday party",
    "a plate of food",
    "a receipt",
    "a screenshot of a document",
    "a family portrait",
    "a car on a road",
    "flowers in a garden",
    "a child playing",
    "a building",
    "a forest",
    "people at a concert",
)


@dataclass(frozen=True)
class PrecisionCheck:
    """The decision for one model file, and the figures it rests on."""

    key: str
    source: str  # the fp32 image tower checked: its size and mtime
    photos: int
    mean_cosine: float
    min_cosine: float
    agreement: float  # mean top-10 overlap of the probes' neighbours, 0..1
    int8: bool  # kept
    reason: str
    fp32_images_per_s: float = 0.0
    int8_images_per_s: float = 0.0
    checked_at: str = ""
    method: int = 0

    def describe(self) -> str:
        figures = (
            f"checked on {self.photos} of your photos: cosine {self.mean_cosine:.4f}, "
            f"neighbours agree {self.agreement:.0%}"
        )
        if self.int8:
            return f"image tower in int8, {figures}"
        return f"fp32: {self.reason} ({figures})" if self.photos else f"fp32: {self.reason}"


def check_dir(data_dir: Path, key: str) -> Path:
    return data_dir / CHECK_DIR / hashlib.sha1(key.encode()).hexdigest()[:16]


def visual_file(folder: Path) -> Path:
    """The fp32 image tower of a model folder (its own layout, or the older export's)."""
    for candidate in (folder / "visual" / "model.onnx", folder / "visual.onnx"):
        if candidate.is_file():
            return candidate
    return folder / "visual.onnx"


def source_of(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return ""
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def load_check(data_dir: Path, embedder: OnnxEmbedder) -> PrecisionCheck | None:
    """The decision taken for this model file; None when there is none (or it was taken
    for another file: the model changed)."""
    folder = check_dir(data_dir, embedder.key)
    try:
        raw = json.loads((folder / CHECK_FILE).read_text(encoding="utf-8"))
        check = PrecisionCheck(**raw)
    except (OSError, ValueError, TypeError):
        return None
    if check.key != embedder.key or check.source != source_of(visual_file(embedder.folder)):
        return None
    if check.method != METHOD:
        return None
    return check


def compare(
    reference: np.ndarray, candidate: np.ndarray, probes: np.ndarray, k: int = TOP_K
) -> tuple[float, float, float]:
    """(mean cosine, min cosine, neighbour agreement) of unit image rows embedded two
    ways. Probes: text rows, and each photo itself (its neighbours other than itself)."""
    cosine = np.sum(reference * candidate, axis=1)
    n = len(reference)
    k = max(1, min(k, n - 1))
    overlaps = []
    for query_ref, query_cand, skip in [(p, p, None) for p in probes] + [
        (reference[i], candidate[i], i) for i in range(n)
    ]:
        a, b = reference @ query_ref, candidate @ query_cand
        if skip is not None:
            a[skip] = b[skip] = -np.inf
        top_a, top_b = set(np.argsort(-a)[:k].tolist()), set(np.argsort(-b)[:k].tolist())
        overlaps.append(len(top_a & top_b) / k)
    return float(cosine.mean()), float(cosine.min()), float(np.mean(overlaps))


def quantise_visual(source: Path, target: Path) -> None:
    """Dynamic int8 of the image tower's matrix products (weights int8, activations
    quantised on the fly); written to a temporary file and renamed into place."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.onnx")
    # Per-channel weights in 7 bits (reduce_range): on CPUs without VNNI (AVX2) the 8-bit
    # products saturate; measured on ViT-B-32 (random weights), 10 photos: cosine 0.987
    # and neighbours 98% without, 0.9997 and 100% with, at the same speed.
    quantize_dynamic(
        str(source),
        str(tmp),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        reduce_range=True,
    )
    os.replace(tmp, target)


def check_int8(data_dir: Path, embedder: OnnxEmbedder, pictures: Sequence[Any]) -> PrecisionCheck:
    """Quantise the image tower, embed `pictures` (PIL images) with both, decide, and
    record the decision. Slow (tens of seconds): once per model file."""
    folder = check_dir(data_dir, embedder.key)
    source = visual_file(embedder.folder)
    key, fingerprint = embedder.key, source_of(source)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if len(pictures) < MIN_SAMPLE:
        # Not recorded: decided once the library holds enough photos.
        return PrecisionCheck(
            key=key,
            source=fingerprint,
            photos=len(pictures),
            mean_cosine=0.0,
            min_cosine=0.0,
            agreement=0.0,
            int8=False,
            reason=f"too few photos to check int8 ({len(pictures)} < {MIN_SAMPLE})",
            checked_at=stamp,
        )
    quantise_visual(source, folder / INT8_FILE)
    int8 = Int8Embedder(embedder.spec, embedder.folder, folder / INT8_FILE)
    inputs = [embedder.preprocess(p) for p in pictures]
    embedder.encode_images(inputs[:2])  # warm both up: the timings below are steady
    int8.encode_images(inputs[:2])
    started = time.perf_counter()
    reference = embedder.encode_images(inputs)
    fp32_s = time.perf_counter() - started
    started = time.perf_counter()
    candidate = int8.encode_images(inputs)
    int8_s = time.perf_counter() - started
    int8.close()
    probes = embedder.encode_texts(list(PROBES))
    mean_cos, min_cos, agreement = compare(reference, candidate, probes)
    kept = mean_cos >= MIN_COSINE and agreement >= MIN_AGREEMENT
    if kept:
        reason = "int8 agrees with fp32 on your photos"
    else:
        reason = (
            f"int8 strays from fp32 on your photos (needs cosine >= {MIN_COSINE} and "
            f"neighbours >= {MIN_AGREEMENT:.0%})"
        )
    check = PrecisionCheck(
        key=key,
        source=fingerprint,
        photos=len(pictures),
        mean_cosine=round(mean_cos, 5),
        min_cosine=round(min_cos, 5),
        agreement=round(agreement, 4),
        int8=kept,
        reason=reason,
        fp32_images_per_s=round(len(inputs) / max(fp32_s, 1e-9), 1),
        int8_images_per_s=round(len(inputs) / max(int8_s, 1e-9), 1),
        checked_at=stamp,
        method=METHOD,
    )
    if not kept:
        (folder / INT8_FILE).unlink(missing_ok=True)
    tmp = folder / (CHECK_FILE + ".tmp")
    tmp.write_text(json.dumps(asdict(check), indent=2), encoding="utf-8")
    os.replace(tmp, folder / CHECK_FILE)
    log.info("%s: %s", embedder.description, check.describe())
    return check


def needs_check(data_dir: Path, embedder: Embedder, precision: str | None) -> bool:
    """An ONNX model that may run int8 (precision auto) and has no decision yet."""
    return (
        type(embedder) is OnnxEmbedder
        and (precision or "auto").strip().lower() == "auto"
        and load_check(data_dir, embedder) is None
    )


def with_proven_precision(data_dir: Path, embedder: Embedder, precision: str | None) -> Embedder:
    """`embedder` with its int8 image tower where the check kept it and the setting is
    auto; else `embedder` itself (fp32 forced, no decision yet, or int8 refused)."""
    if type(embedder) is not OnnxEmbedder or (precision or "auto").strip().lower() != "auto":
        return embedder
    check = load_check(data_dir, embedder)
    path = check_dir(data_dir, embedder.key) / INT8_FILE
    if check is None or not check.int8 or not path.is_file():
        return embedder
    return Int8Embedder(embedder.spec, embedder.folder, path, check=check)


class Int8Embedder(OnnxEmbedder):
    """The same model with its image tower in int8 (the text tower stays fp32); the same
    key: its vectors passed the check against fp32. Falls back to the fp32 tower if the
    int8 file does not load."""

    def __init__(
        self, spec: ModelSpec, folder: Path, int8_visual: Path, check: PrecisionCheck | None = None
    ) -> None:
        super().__init__(spec, folder)
        self.int8_visual = int8_visual
        self.check = check
        self._fallback = False

    @property
    def precision_in_use(self) -> str:
        return "fp32" if self._fallback else "int8"

    @property
    def precision_reason(self) -> str:
        if self._fallback:
            return "ONNX Runtime; the int8 image tower did not load"
        return "ONNX Runtime; " + (self.check.describe() if self.check else "int8 image tower")

    def _visual(self) -> Any:
        if not self._fallback:
            self.load()
            with self._lock:
                if self._sessions.visual is None:
                    try:
                        self._sessions.visual = self._open_visual(self.int8_visual)
                    except Exception as exc:  # noqa: BLE001 - ONNX Runtime's own error types
                        log.warning("int8 image tower %s: %s; fp32", self.int8_visual, exc)
                        self._fallback = True
                if not self._fallback:
                    return self._sessions.visual
        return super()._visual()


def remove_checks(data_dir: Path, key: str) -> None:
    """Forget a model's decision and int8 tower (the model was deleted)."""
    shutil.rmtree(check_dir(data_dir, key), ignore_errors=True)
