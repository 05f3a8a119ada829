"""The OCR gate's first look: thin strokes on the decode indexing made (text_hint.py)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from finder.core.ingest.extract import load_image
from finder.core.ingest.text_hint import CAMERA_BYTES, applies, likely_text, stroke_share


def camera_photo(seed: int, size: tuple[int, int] = (2000, 1500), text: bool = False) -> bytes:
    """Smooth shapes with sensor-like grain (as bench/_common.photo), optionally a sign."""
    rng = np.random.default_rng(seed)
    w, h = size
    small = Image.new("RGB", (w // 8, h // 8), tuple(int(c) for c in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(small)
    for _ in range(30):
        x0, y0 = int(rng.integers(0, w // 8)), int(rng.integers(0, h // 8))
        x1, y1 = x0 + int(rng.integers(5, w // 16)), y0 + int(rng.integers(5, h // 16))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    image = small.filter(ImageFilter.GaussianBlur(1.5)).resize(size, Image.Resampling.BICUBIC)
    if text:  # a sign of two lines on a tenth of the frame
        draw = ImageDraw.Draw(image)
        draw.rectangle((w // 3, h // 3, 2 * w // 3, 3 * h // 5), fill=(30, 30, 30))
        font = ImageFont.load_default(size=h // 12)
        for i, line in enumerate(("Harbour Road", "closed Sunday")):
            draw.text((w // 3 + 20, h // 3 + 20 + i * h // 8), line, font=font, fill="white")
    noise = rng.integers(-12, 13, size=(h, w, 1), dtype=np.int16)
    pixels = np.clip(np.asarray(image, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=95)
    return out.getvalue()


def test_photos_without_text_are_cleared_and_text_is_not(tmp_path: Path) -> None:
    for seed in range(3):
        plain = tmp_path / f"IMG_{seed}.jpg"
        plain.write_bytes(camera_photo(seed))
        sign = tmp_path / f"SIGN_{seed}.jpg"
        sign.write_bytes(camera_photo(seed, text=True))
        assert not likely_text(load_image(plain)), stroke_share(load_image(plain))
        assert likely_text(load_image(sign)), stroke_share(load_image(sign))


def test_the_ranking_tests_text_pictures_look_like_text() -> None:
    from tests.core.test_hybrid import _text_picture

    assert likely_text(_text_picture(["Walrus lighthouse", "ticket 5823"]))
    assert likely_text(_text_picture(["Harbour", "survey", "scanned"], size=(600, 800), seed=1))


def test_flat_and_tiny_pictures_have_no_strokes() -> None:
    assert stroke_share(Image.new("RGB", (640, 480), "red")) == 0.0
    assert stroke_share(Image.new("RGB", (3, 3), "white")) == 0.0


def test_only_camera_sized_jpegs_and_heics_are_cleared_by_it() -> None:
    assert applies("/p/IMG_1.JPG", CAMERA_BYTES)
    assert applies("/p/IMG_1.heic", 3 * CAMERA_BYTES)
    assert not applies("/p/IMG_1.jpg", CAMERA_BYTES - 1)  # a small picture: the detector
    assert not applies("/p/Screenshot.png", 4 * CAMERA_BYTES)  # screenshots keep it too
