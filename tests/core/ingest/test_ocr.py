"""The OCR engine's calls: serialised by default, side by side where asked."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from PIL import Image

from finder.core.ingest.ocr import Ocr


class Detector:
    """A stand-in for RapidOCR's text detector: finds nothing, slowly; records how many
    calls ran at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self._count = threading.Lock()

    def __call__(self, pixels: np.ndarray) -> tuple[Any, float]:
        with self._count:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self._count:
            self.running -= 1
        return None, 0.0


class Engine:
    def __init__(self) -> None:
        self.text_det = Detector()


def most_at_once(ocr: Ocr) -> int:
    engine = Engine()
    ocr._engine = engine  # loaded already
    picture = Image.new("RGB", (640, 480), "white")
    threads = [threading.Thread(target=ocr.has_text, args=(picture,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return engine.text_det.most


def test_calls_are_serialised_by_default() -> None:
    assert most_at_once(Ocr(threads=2)) == 1


def test_a_side_by_side_engine_runs_its_callers_at_once() -> None:
    assert most_at_once(Ocr(threads=1, side_by_side=True)) > 1
