"""The index run's first look for text in a photo, made on the decode it already has: the
photos it clears, the OCR pass records as holding no text without decoding them again.

Cheapest first:
1. a camera photo (text_hint.applies) with few thin strokes is cleared by the stroke
   count (~3 ms of one core);
2. any other photo goes through the OCR pass's own gate, the text detector on a small
   copy (Ocr.has_text, ~20 ms of one core), here on this decode: the verdict the OCR pass
   would reach on its own decode of the same size, without that second decode (~35 ms for
   a phone's JPEG). Real photos of grass, gravel, crowds, fabric or a boat's planks are
   full of thin strokes: most camera photos need this step.
What neither clears is left to the OCR pass, which reads it.
"""

from __future__ import annotations

import logging
import threading

from PIL import Image

from finder.core.ingest.ocr import Ocr, OcrUnavailableError
from finder.core.ingest.scanner import ScannedFile
from finder.core.ingest.text_hint import applies as strokes_apply
from finder.core.ingest.text_hint import likely_text

log = logging.getLogger(__name__)


class FirstLook:
    """Decides, per decoded photo, whether the OCR pass may skip it. Shared by the decode
    threads of a run (and by runs: the detector loads once)."""

    def __init__(self, detector: Ocr | None = None) -> None:
        # None: the OCR pass does not run (--no-ocr); the stroke count alone still spares
        # a later OCR pass most camera photos.
        self.detector = detector
        self._lock = threading.Lock()

    def clears(self, scanned: ScannedFile, picture: Image.Image) -> bool:
        """True when the photo holds no text the OCR pass would find."""
        if strokes_apply(scanned.path, scanned.size) and not likely_text(picture):
            return True
        detector = self.detector
        if detector is None:
            return False
        try:
            return not detector.has_text(picture)
        except OcrUnavailableError as exc:  # not installed here: strokes only from now on
            with self._lock:
                if self.detector is detector:
                    log.info("%s: the first look for text counts strokes only", exc)
                    self.detector = None
            return False
        except Exception:  # the OCR pass looks again and records what goes wrong
            log.debug("text detector failed on %s", scanned.path, exc_info=True)
            return False
