"""Near-duplicate thresholds, measured: precision and recall of finder's rule, as JSON.

Builds a set on the spot: generated scenes (random sky/ground, shapes, noise) and the
plain shapes the tests draw (a red and a blue circle share their structure: the hard
negatives), each with copies made the ways people make them: resized to 50%, recompressed
as JPEG q=40, saved as PNG, lightly cropped (4% a side), brightened (+12%), and a burst
neighbour (the frame shifted by 3% with fresh noise). Every picture is decoded the way the
indexer decodes it, fingerprinted (finder/core/ingest/perceptual.py) and embedded.

Positives: a picture and its own copies (and copies among themselves); negatives: any
two pictures of different scenes. For each kind of copy it prints the distances seen
(dHash bits, colour levels, embedding cosine) and the recall of the rule; then the
precision over all pairs, and the time to group a large library.

    python bench/duplicates.py                                   # the committed tiny model
    python bench/duplicates.py --model ViT-B-32 --pretrained laion2b_s34b_b79k
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import emit, machine
from PIL import Image, ImageDraw, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from finder.core.ingest.extract import load_image  # noqa: E402
from finder.core.ingest.perceptual import (  # noqa: E402
    Fingerprint,
    colour_distance,
    fingerprint,
    hash_distance,
)
from finder.core.models.spec import resolve_model_spec  # noqa: E402
from finder.core.models.torch_runtime import ClipEmbedder  # noqa: E402
from finder.core.search.duplicates import NEIGHBOURS  # noqa: E402
from finder.core.search.near import (  # noqa: E402
    Evidence,
    NearRule,
    candidate_pairs,
    candidates,
    groups_of_pairs,
    within_bits,
)

TINY = Path(__file__).resolve().parent.parent / "tests" / "models" / "finder-tiny.json"
COPIES = ("resized50", "jpeg40", "png", "crop4", "bright12", "burst3")
COLOURS = ("red", "green", "blue", "orange", "purple", "black", "yellow", "teal")


def scene(rng: random.Random, size: tuple[int, int] = (960, 720)) -> Image.Image:
    """A photo-like picture: a two-tone background, a dozen shapes, some grain."""
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    sky = tuple(rng.randrange(256) for _ in range(3))
    ground = tuple(rng.randrange(256) for _ in range(3))
    horizon = rng.randrange(h // 4, 3 * h // 4)
    for y in range(h):
        t = y / h
        base = sky if y < horizon else ground
        draw.line([(0, y), (w, y)], fill=tuple(int(c * (0.7 + 0.3 * t)) for c in base))
    for _ in range(rng.randrange(6, 14)):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randrange(30, w // 2), y0 + rng.randrange(30, h // 2)
        fill = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=fill)
    noise = np.random.default_rng(rng.randrange(2**31)).normal(0, 6, (h, w, 3))
    return Image.fromarray(np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8))


def plain_shape(colour: str, shape: str, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """tests/helpers.draw_photo's picture: a coloured shape on a light background."""
    img = Image.new("RGB", size, (235, 235, 225))
    draw = ImageDraw.Draw(img)
    w, h = size
    box = (w // 4, h // 4, 3 * w // 4, 3 * h // 4)
    (draw.ellipse if shape == "circle" else draw.rectangle)(box, fill=colour)
    return img


def copy_of(img: Image.Image, how: str, rng: random.Random) -> tuple[Image.Image, str]:
    """(picture, format to save it in) for one kind of copy."""
    w, h = img.size
    if how == "resized50":
        return img.resize((w // 2, h // 2), Image.Resampling.LANCZOS), "JPEG"
    if how == "jpeg40":
        return img, "JPEG40"
    if how == "png":
        return img, "PNG"
    if how == "crop4":
        dx, dy = w * 4 // 100, h * 4 // 100
        return img.crop((dx, dy, w - dx, h - dy)), "JPEG"
    if how == "bright12":
        return ImageEnhance.Brightness(img).enhance(1.12), "JPEG"
    # burst3: the camera moved a little and the sensor noise is new
    dx = w * 3 // 100
    shifted = img.crop((dx, 0, w, h)).resize((w, h), Image.Resampling.BILINEAR)
    grain = np.random.default_rng(rng.randrange(2**31)).normal(0, 4, (h, w, 3))
    arr = np.clip(np.asarray(shifted, np.float32) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(arr), "JPEG"


def save(img: Image.Image, fmt: str, folder: Path, name: str) -> Path:
    buffer = io.BytesIO()
    if fmt == "PNG":
        img.save(buffer, "PNG")
    else:
        img.save(buffer, "JPEG", quality=40 if fmt == "JPEG40" else 90)
    path = folder / f"{name}.{'png' if fmt == 'PNG' else 'jpg'}"
    path.write_bytes(buffer.getvalue())
    return path


def build(folder: Path, scenes: int, seed: int) -> list[tuple[int, str, Path]]:
    """(scene number, copy kind or "original", file) for the whole set."""
    rng = random.Random(seed)
    originals = [scene(rng) for _ in range(scenes)]
    originals += [plain_shape(c, s) for c in COLOURS for s in ("circle", "rectangle")]
    files: list[tuple[int, str, Path]] = []
    for number, img in enumerate(originals):
        files.append((number, "original", save(img, "JPEG", folder, f"s{number}")))
        for how in COPIES:
            copy, fmt = copy_of(img, how, rng)
            files.append((number, how, save(copy, fmt, folder, f"s{number}-{how}")))
    return files


def measure(files: list[tuple[int, str, Path]], embedder: ClipEmbedder) -> dict[str, object]:
    pictures = [load_image(path) for _, _, path in files]
    prints = [fingerprint(p) for p in pictures]
    vectors = np.concatenate(
        [
            embedder.encode_images([embedder.preprocess(p) for p in pictures[i : i + 32]])
            for i in range(0, len(pictures), 32)
        ]
    )
    cosines = vectors @ vectors.T
    rule = NearRule()
    random_weights = embedder.spec.pretrained is None
    per_kind: dict[str, dict[str, list[float]]] = {
        k: {"bits": [], "colour": [], "cosine": [], "found": []} for k in COPIES
    }
    true_pos = false_pos = false_neg = 0
    pairs: list[tuple[int, int]] = []
    closest_negative: dict[str, float] = {"bits": 64.0, "colour": 255.0, "cosine": -1.0}
    for i in range(len(files)):
        for j in range(i + 1, len(files)):
            same = files[i][0] == files[j][0]
            evidence = _evidence(prints[i], prints[j], float(cosines[i, j]), random_weights)
            near = rule.near(evidence)
            if near:
                pairs.append((i, j))
            if same:
                true_pos += near
                false_neg += not near
                kind = files[j][1] if files[i][1] == "original" else None
                if kind is not None:
                    stats = per_kind[kind]
                    stats["bits"].append(evidence.bits)
                    stats["colour"].append(evidence.colour)
                    stats["cosine"].append(evidence.cosine or 0.0)
                    stats["found"].append(float(near))
            else:
                false_pos += near
                closest_negative["bits"] = min(closest_negative["bits"], evidence.bits)
                closest_negative["colour"] = min(closest_negative["colour"], evidence.colour)
                closest_negative["cosine"] = max(closest_negative["cosine"], evidence.cosine or -1)
    whole = _whole_shots(files, groups_of_pairs(len(files), pairs))
    # As a library finds them: only pairs among the candidates (fingerprint quarters and
    # each picture's NEIGHBOURS nearest by embedding), then joined into groups.
    nearest = np.argsort(-cosines, axis=1)[:, 1 : NEIGHBOURS + 1]
    found = candidate_pairs([p.dhash for p in prints]) | {
        (min(i, int(j)), max(i, int(j))) for i in range(len(files)) for j in nearest[i]
    }
    whole_in_library = _whole_shots(
        files, groups_of_pairs(len(files), [p for p in pairs if p in found])
    )
    return {
        "pictures": len(files),
        "pairs": {
            "same_shot": true_pos + false_neg,
            "different": _pair_count(files) - true_pos - false_neg,
        },
        "precision": round(true_pos / max(1, true_pos + false_pos), 4),
        "recall": round(true_pos / max(1, true_pos + false_neg), 4),
        "false_pairs": false_pos,
        "shots_grouped_whole": f"{whole}/{len({n for n, _, _ in files})}",
        "shots_grouped_whole_with_library_candidates": (
            f"{whole_in_library}/{len({n for n, _, _ in files})}"
        ),
        "closest_different_pair": {k: round(v, 3) for k, v in closest_negative.items()},
        "per_copy_kind": {kind: _summary(stats) for kind, stats in per_kind.items()},
    }


def _whole_shots(files: list[tuple[int, str, Path]], groups: list[list[int]]) -> int:
    """Scenes whose original and every copy ended in one group."""
    return sum(
        1
        for number in {n for n, _, _ in files}
        if any({i for i, f in enumerate(files) if f[0] == number} <= set(g) for g in groups)
    )


def _evidence(a: Fingerprint, b: Fingerprint, cosine: float, random_weights: bool) -> Evidence:
    return Evidence(hash_distance(a, b), colour_distance(a, b), None if random_weights else cosine)


def _pair_count(files: list[tuple[int, str, Path]]) -> int:
    return len(files) * (len(files) - 1) // 2


def _summary(stats: dict[str, list[float]]) -> dict[str, object]:
    out: dict[str, object] = {"recall": round(float(np.mean(stats["found"])), 4)}
    for name in ("bits", "colour", "cosine"):
        values = np.asarray(stats[name])
        out[name] = {
            "median": round(float(np.median(values)), 3),
            "p95": round(float(np.percentile(values, 95 if name != "cosine" else 5)), 3),
            "worst": round(float(values.max() if name != "cosine" else values.min()), 3),
        }
    return out


def grouping_speed(photos: int, seed: int) -> dict[str, object]:
    """The library-wide part of grouping `photos` photos, timed: candidate pairs from the
    fingerprints' quarters and the time order, then the rule on each pair (fingerprint
    evidence; the embedding step of small libraries is left out)."""
    rng = np.random.default_rng(seed)
    hashes = [int(x) for x in rng.integers(0, 2**63, photos, dtype=np.int64)]
    # one photo in ten has a copy 0..3 bits away
    for i in range(0, photos // 10):
        copy = hashes[i]
        for bit in rng.integers(0, 64, int(rng.integers(0, 4))):
            copy ^= 1 << int(bit)
        hashes.append(copy)
    colours = [bytes(rng.integers(0, 256, 48, dtype=np.uint8)) for _ in range(photos)]
    colours += colours[: photos // 10]  # a copy has its original's colours
    prints = [Fingerprint(h, c) for h, c in zip(hashes, colours, strict=True)]
    times = [f"{t:020d}" for t in rng.integers(0, 10**12, len(hashes))]
    started = time.perf_counter()
    pairs = candidates(hashes, times)
    rule = NearRule()
    near = [
        (i, j)
        for i, j in within_bits(hashes, pairs, max(rule.copy_bits, rule.edit_bits))
        if rule.near(_evidence(prints[i], prints[j], 0.0, random_weights=True))
    ]
    groups = groups_of_pairs(len(hashes), near)
    return {
        "photos": len(hashes),
        "candidate_pairs": len(pairs),
        "groups": len(groups),
        "seconds": round(time.perf_counter() - started, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(TINY))
    parser.add_argument("--pretrained", default=None)
    parser.add_argument("--scenes", type=int, default=48)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--speed-photos", type=int, default=50_000)
    args = parser.parse_args()
    spec = resolve_model_spec(args.model, args.pretrained)
    embedder = ClipEmbedder(spec)
    embedder.load()
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp), args.scenes, args.seed)
        quality = measure(files, embedder)
    emit(
        {
            "benchmark": "duplicates",
            "machine": machine(),
            "model": spec.describe(),
            "rule": NearRule().describe(),
            "quality": quality,
            "grouping_speed": grouping_speed(args.speed_photos, args.seed),
        }
    )


if __name__ == "__main__":
    main()
