"""A near-free first look for text in a camera photo, from the decode indexing already made.

The OCR pass used to decode every photo again and run the text detector on it (~0.14 s of
a core each): a third of `finder index`'s time on a folder of phone photos, nearly all of
which hold no text. Text has a signature a photo rarely has: many thin strokes, a steep
rise in brightness followed within a few pixels by a steep fall (or the reverse), densely
packed along rows. Counting them on the small grey copy the model's decode already made
costs ~2 ms.

The count only ever clears a photo (no text: the detector is skipped); a photo with enough
strokes goes to the detector as before. It is trusted only for camera-sized JPEGs and
HEICs (>= CAMERA_BYTES): the bulk of a library, and where the saving is. Screenshots,
scans in PNG, graphics and small pictures keep the detector's judgement.
Measured against the detector in tests/core/ingest/test_text_hint.py and bench/ocr_gate.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

CAMERA_SUFFIXES = frozenset({".jpg", ".jpeg", ".heic", ".heif"})
CAMERA_BYTES = 1 << 20  # a phone's 12 MP JPEG is 2-5 MB; a web picture far less
SIDE = 384  # strokes are counted on a grey copy whose long side is at most this
STEP = 48  # a brightness step (of 255) steep enough to be a stroke's edge
STROKE_PX = 4  # a stroke's opposite edge within this many pixels
# Share of pixels at a stroke above which the detector is asked. Text pictures measure
# 0.004-0.05 (a sign filling a tenth of the frame ~0.004), generated and real photos
# without text 0-0.001; set low: a miss hides text, a false alarm costs 0.1 s.
MIN_STROKES = 0.0015


def applies(path: str | Path, size_bytes: int) -> bool:
    """Whether the stroke count may clear this file (a camera photo)."""
    return size_bytes >= CAMERA_BYTES and Path(path).suffix.lower() in CAMERA_SUFFIXES


def stroke_share(picture: Image.Image) -> float:
    """Share of the picture's pixels where a thin stroke starts (along rows and columns)."""
    grey = picture.convert("L")
    scale = SIDE / max(grey.size)
    if scale < 1:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(grey, dtype=np.int16)
    if min(pixels.shape) <= STROKE_PX + 1:
        return 0.0
    strokes = _strokes(pixels) + _strokes(pixels.T)
    return float(strokes) / float(pixels.size)


def likely_text(picture: Image.Image) -> bool:
    """False only when the picture clearly holds no text (the detector may be skipped)."""
    return stroke_share(picture) >= MIN_STROKES


def _strokes(pixels: np.ndarray) -> int:
    """Positions along rows where a steep step is answered by the opposite step within
    STROKE_PX pixels: the two edges of a thin dark or light line."""
    step = np.diff(pixels, axis=1)
    rise, fall = step >= STEP, step <= -STEP
    width = step.shape[1] - STROKE_PX
    rise_after = np.zeros((step.shape[0], width), dtype=bool)
    fall_after = np.zeros_like(rise_after)
    for shift in range(1, STROKE_PX + 1):
        rise_after |= rise[:, shift : shift + width]
        fall_after |= fall[:, shift : shift + width]
    starts = (rise[:, :width] & fall_after) | (fall[:, :width] & rise_after)
    return int(np.count_nonzero(starts))
