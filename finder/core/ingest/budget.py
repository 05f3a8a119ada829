"""What reading one file may cost: time, checked between chunks, and the text kept.

Extractors are linear and refuse inputs whose decoded size would be unbounded before
decoding; the budget is the backstop for what nobody foresaw. A file past its deadline
is recorded with the reason and skipped, so the next run moves on instead of stalling on
the same file again; text past the cap is dropped (the passages are capped anyway).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from finder.core.ingest.errors import ExtractCancelled, ExtractError

# No linear extractor comes near this on a legitimate file (a 500-page PDF's text takes
# ~2 s); it bounds what a stall can cost. Counted in the reading thread's processor time
# (time.thread_time): a failure is kept until the file changes, so a legitimate file must
# not fail because the machine was busy; on an idle machine it is the wall time.
EXTRACT_SECONDS = 8.0
# Text kept per file. 2000 passages of ~40 words need ~0.5 M characters; this is ample.
MAX_TEXT_CHARS = 2_000_000


class Budget:
    """One file's budget, made and used in the thread that reads the file. `check()`
    between chunks raises ExtractError past the deadline (or ExtractCancelled once
    `cancel` is set); `take()` counts the text kept."""

    def __init__(
        self,
        seconds: float | None = None,
        max_chars: int | None = None,
        cancel: threading.Event | None = None,
        clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.seconds = EXTRACT_SECONDS if seconds is None else seconds
        self.max_chars = MAX_TEXT_CHARS if max_chars is None else max_chars
        self.cancel = cancel
        self._clock = clock
        self._deadline = clock() + self.seconds
        self.chars = 0

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise ExtractCancelled("stopped before the file was read")
        if self._clock() > self._deadline:
            raise ExtractError(f"took longer than {self.seconds:g} s to read; skipped")

    @property
    def full(self) -> bool:
        return self.chars >= self.max_chars

    def take(self, text: str) -> str:
        """`text`, or the part of it that still fits the cap; counted as kept."""
        room = self.max_chars - self.chars
        if room <= 0:
            return ""
        kept = text[:room]
        self.chars += len(kept)
        return kept
