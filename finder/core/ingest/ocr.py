"""Text in pictures, offline: RapidOCR (PP-OCR models run by onnxruntime, shipped inside
the rapidocr-onnxruntime wheel). Loaded on first use, never at import time.

`has_text` is the cheap gate for indexed images: the text detector alone on a small copy
(~0.1 s); `read` is detection plus recognition on a moderate copy (~1-2 s with
text, on two busy cores), run only where the gate saw text.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from typing import Any

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

# The gate looks at a copy whose long side is at most this: 320 px costs a third of
# 480 px and still flagged every screenshot and note in bench/ocr_cost.py (no photo
# flagged); fine print on a full-page receipt may need a closer look than this. Measured
# on bench/ocr_gate.py's photographed text (12 MP, decoded at 1/8 as indexing does): signs
# and whiteboards are found, but pages, receipts and screens seen whole at arm's length
# are not (12 of 20 missed); a 960 px copy from a 1/4-scale decode finds all 20, at
# ~300 ms a photo against ~22 ms.
GATE_SIDE = 320
READ_SIDE = 1280  # recognition works on a copy whose long side is at most this
MIN_SCORE = 0.6  # recognised lines below this confidence are dropped
# The gate's verdict: text covers at least this share of the picture, in at least
# this many detected boxes (one speck on a photo is not text).
GATE_AREA = 0.002
GATE_BOXES = 1


_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


class OcrUnavailableError(Exception):
    """rapidocr-onnxruntime is not installed or cannot run here."""


class Ocr:
    """One OCR engine, shared by threads. `threads` caps onnxruntime's threads (0: its
    default). Calls are serialised (onnxruntime already uses the cores), except with
    `side_by_side`: a single-threaded engine whose callers (the index run's decode
    threads) each run it on their own core; a lock there left a core idle."""

    def __init__(self, threads: int = 0, *, side_by_side: bool = False) -> None:
        self.threads = threads
        self._engine: Any = None
        self._load_lock = threading.Lock()
        self._lock: Any = contextlib.nullcontext() if side_by_side else threading.Lock()

    def _load(self) -> Any:
        with self._load_lock:  # once, whichever thread asks first
            if self._engine is None:
                self._engine = self._make_engine()
            return self._engine

    def _make_engine(self) -> Any:
        # opencv-python (rapidocr's dependency) points Qt at its own Qt5 plugins when
        # imported: keep the app's (and the programs it opens) Qt settings as they were.
        saved = {name: os.environ.get(name) for name in _QT_VARIABLES}
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:  # an optional install, or a broken onnxruntime
            raise OcrUnavailableError(f"OCR is not available ({exc})") from exc
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        threads = self.threads or -1
        return RapidOCR(
            det_limit_type="max",
            det_limit_side_len=READ_SIDE,
            intra_op_num_threads=threads,
            inter_op_num_threads=1 if threads > 0 else -1,
        )

    def has_text(self, image: Image.Image) -> bool:
        """Whether a picture seems to hold text: the detector only, on a small copy."""
        small = _fit(image, GATE_SIDE)
        engine = self._load()
        with self._lock:
            boxes, _ = engine.text_det(_bgr(small))
        if boxes is None:
            return False
        # Lines of text are long and thin; a blob the detector half-likes is not.
        lines = [b for b in (np.asarray(b, dtype=np.float64) for b in boxes) if _elongated(b)]
        if len(lines) < GATE_BOXES:
            return False
        area = sum(_polygon_area(b) for b in lines)
        return area / float(small.width * small.height) >= GATE_AREA

    def read(self, image: Image.Image, max_lines: int | None = None) -> str:
        """The text in a picture, line by line (reading order as found); "" if none.

        `max_lines`: read only that many lines, the tallest (headings, totals, names:
        what says most about a page). Recognition costs ~0.1 s a line on two cores, so a
        query screenshot of a full page took 3 s to read whole, for a query that uses
        its first few dozen words anyway.
        """
        picture = _fit(image, READ_SIDE)
        if max_lines is not None:
            try:
                return self._read_tallest(picture, max_lines)
            except AttributeError:  # another RapidOCR: its internals moved; read it all
                log.debug("RapidOCR without text_det/text_rec: reading every line")
        engine = self._load()
        with self._lock:
            lines, _ = engine(_bgr(picture))
        if not lines:
            return ""
        return "\n".join(str(text) for _, text, score in lines if float(score) >= MIN_SCORE)

    def _read_tallest(self, picture: Image.Image, max_lines: int) -> str:
        pixels = _bgr(picture)
        engine = self._load()
        with self._lock:
            boxes, _ = engine.text_det(pixels)
            if boxes is None or len(boxes) == 0:
                return ""
            boxes = engine.sorted_boxes(boxes)  # reading order
            heights = [float(np.linalg.norm(b[3] - b[0])) for b in boxes]
            keep = sorted(np.argsort(heights)[::-1][:max_lines])  # tallest, in order
            crops = engine.get_crop_img_list(pixels, [boxes[i] for i in keep])
            recognised, _ = engine.text_rec(crops)
        return "\n".join(str(r[0]) for r in recognised if float(r[1]) >= MIN_SCORE)


_GLUED = re.compile(r"\b(?=\w*[^\W\d_])(?=\w*\d)\w+\b")


def searchable(text: str) -> str:
    """OCR text with glued letters and digits also split ("ticket5823" -> "ticket 5823"):
    the recogniser often drops a narrow space, and "5823" must still match."""
    extra = [" ".join(re.findall(r"\d+|[^\W\d_]+", word)) for word in _GLUED.findall(text)]
    return text if not extra else text + "\n" + "\n".join(extra)


def _fit(image: Image.Image, side: int) -> Image.Image:
    image = image.convert("RGB")
    scale = side / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR)


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


def _elongated(box: np.ndarray, ratio: float = 1.8) -> bool:
    width = float(np.linalg.norm(box[1] - box[0]))
    height = float(np.linalg.norm(box[3] - box[0]))
    return max(width, height) >= ratio * max(min(width, height), 1.0)


def _polygon_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
