"""An index run without the model (its weights missing, or it fails to load): the files
whose items are not stored yet are read and stored without vectors (Pipeline with
embed=False); those stored already wait, unchanged, for the model's vectors."""

from __future__ import annotations

import logging

from finder.core.indexing.file_reading import Work
from finder.core.models.embedder import Embedder
from finder.core.models.spec import ModelUnavailableError
from finder.core.types import IndexReport

log = logging.getLogger(__name__)


def load_or_why_not(embedder: Embedder, vectors_only: bool) -> str:
    """Load the model before any file is read; why it cannot be, else "". A run that only
    adds vectors has nothing to do without it: the error is raised."""
    try:
        embedder.load()
    except ModelUnavailableError as exc:
        if vectors_only:
            raise
        log.warning("indexing names and text only: %s", exc)
        return str(exc)
    return ""


def needing_text(work: list[Work], report: IndexReport) -> list[Work]:
    """Without the model: the files whose items are not stored yet. Those stored (they
    only lack this model's vectors) wait for it, counted unchanged."""
    report.unchanged += sum(item.reuse for item in work)
    return [item for item in work if not item.reuse]
