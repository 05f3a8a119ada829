"""12 MP JPEGs made from real photographs, for benchmarks that depend on what a photo shows
(the OCR gate: grass, gravel, branches and fabric have thin strokes that generated
photos lack).

No camera roll can be downloaded here, so the sources are photographs that ship in
packages the machine can fetch; each output photo is a random crop of one source (a
different crop, flip and exposure for each), scaled to 4000x3000 with a little sensor
grain, saved like a phone's JPEG:

    cd /tmp && apt-get download plasma-workspace-wallpapers && dpkg-deb -x plasma-*.deb kde
    pip download --no-deps scikit-image scikit-learn -d wheels && unzip -o 'wheels/*.whl' -d whl
    python bench/real_photos.py --out /tmp/finder-bench/real-photos --count 100 \
        /tmp/kde/usr/share/wallpapers /tmp/whl/skimage/data /tmp/whl/sklearn/datasets/images

Sources that are graphics or hold text are left out by name (GRAPHICS); what is left is
listed in the JSON this prints.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# Files in those packages that are drawings, renders, microscopy or text, not photos.
GRAPHICS = {
    "altai", "autumn", "canopee", "cascade", "cluster", "elarun", "flow", "flyingkonqui",
    "honeywave", "icecold", "kay", "kokkini", "milkyway", "opal", "patak", "shell",
    "safelanding", "pastelhills", "cell", "chessboard_gray", "chessboard_rgb", "clock_motion",
    "color", "microaneurysms", "logo", "text", "page", "phantom", "ihc", "retina",
    "hubble_deep_field", "horse", "screenshot",
}  # fmt: skip
MIN_SIDE = 300  # smaller sources are icons and masks


def sources(folders: list[Path]) -> list[Path]:
    """The largest version (in pixels) of each photograph found under `folders`."""
    best: dict[str, tuple[int, Path]] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in {".jpg", ".jpeg", ".png"}:
                continue
            # KDE wallpapers: NAME/contents/images/WxH.jpg; elsewhere the file's own name
            name = path.parts[-4] if path.parent.name.startswith("images") else path.stem
            if name.lower() in GRAPHICS or path.stem.lower() in GRAPHICS:
                continue
            with Image.open(path) as im:
                if min(im.size) < MIN_SIDE or im.mode not in {"RGB", "RGBA", "L"}:
                    continue
                pixels = im.width * im.height
            if name not in best or pixels > best[name][0]:
                best[name] = (pixels, path)
    return [best[n][1] for n in sorted(best)]


def camera_jpeg(source: Image.Image, rng: np.random.Generator, size: tuple[int, int]) -> bytes:
    w, h = source.size
    target = size[0] / size[1]
    crop_w = min(w, int(h * target))
    crop_h = int(crop_w / target)
    scale = rng.uniform(0.6, 1.0)
    cw, ch = max(32, int(crop_w * scale)), max(24, int(crop_h * scale))
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    picture = source.crop((x0, y0, x0 + cw, y0 + ch))
    if rng.random() < 0.5:
        picture = ImageOps.mirror(picture)
    picture = picture.resize(size, Image.Resampling.BICUBIC)
    pixels = np.asarray(picture, dtype=np.float32) * rng.uniform(0.85, 1.15)
    grain = rng.normal(0, 3, size=(size[1], size[0], 1)).astype(np.float32)
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=90)
    return out.getvalue()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folders", nargs="+", type=Path, help="where the photographs are")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--size", default="4000x3000")
    args = p.parse_args()
    size = (int(args.size.split("x")[0]), int(args.size.split("x")[1]))
    found = sources(args.folders)
    if not found:
        raise SystemExit("no photographs found under " + ", ".join(map(str, args.folders)))
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(args.count):
        path = args.out / f"IMG_{i:05d}.jpg"
        if path.exists():
            continue
        with Image.open(found[i % len(found)]) as im:
            data = camera_jpeg(im.convert("RGB"), rng, size)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.rename(path)
    sizes = [f.stat().st_size for f in sorted(args.out.glob("IMG_*.jpg"))[: args.count]]
    print(
        json.dumps(
            {
                "out": str(args.out),
                "photos": len(sizes),
                "mean_photo_mb": round(float(np.mean(sizes)) / 2**20, 2),
                "sources": [str(s) for s in found],
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
