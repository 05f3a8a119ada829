"""The Models dialog's table as plain data: one row per model (the catalogue's, then
those indexed here that it does not list), its cells, and why each button is refused.
Built by `build_rows` from plain values, so it is tested without widgets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from finder.core.models.catalogue import CatalogModel
from finder.core.types import StoredModel

COLUMNS = [
    "Model",
    "Dim",
    "ImageNet",
    "Flickr R@1",
    "COCO R@1",
    "Download",
    "Weights",
    "Index here",
    "State",
]
UNKNOWN = "\u2014"


@dataclass(frozen=True)
class ModelRow:
    """One line of the table: its cells and what the buttons may do with it."""

    key: str
    cells: list[str]
    entry: CatalogModel | None  # None: indexed here, but not in the catalogue
    on_disk: bool
    active: bool  # answers searches
    target: bool  # being switched to
    index_bytes: int | None  # its index and vectors here, if it has them
    tooltip: str = ""

    def use_refusal(self) -> str | None:
        """Why "Use this model" is disabled for this row, or None."""
        if self.active:
            return "This model already answers searches."
        if self.entry is None:
            return "Not in the catalogue: use `finder models use CONFIG.json` on the command line."
        if not self.on_disk:
            return f"Not on this computer yet: run `finder models download {self.entry.name}`."
        return None

    def download_refusal(self) -> str | None:
        """Why "Download" is disabled for this row, or None."""
        if self.entry is None:
            return "Not in the catalogue: there is nothing to download for it."
        if self.on_disk:
            return "Its weights are already on this computer."
        return None

    def delete_refusal(self) -> str | None:
        """Why "Delete its index" is disabled for this row, or None."""
        if self.active:
            return "This model answers searches; switch to another model first."
        if self.target:
            return "This model is being switched to: cancel the switch first."
        if self.index_bytes is None:
            return "This model has no index here."
        return None


def build_rows(
    catalogue: Sequence[CatalogModel],
    stored: Sequence[StoredModel],
    active_keys: set[str],
    target_key: str | None,
    on_disk: Callable[[CatalogModel], bool],
) -> list[ModelRow]:
    """The catalogue, then models indexed here that it does not list (configs,
    checkpoints) and the active one if neither lists it."""
    by_key = {m.key: m for m in stored}
    rows: list[ModelRow] = []
    for entry in catalogue:
        present = on_disk(entry)
        index = by_key.get(entry.key)
        label = f"{entry.name} {entry.pretrained}" + (" \u2020" if entry.needs_hub else "")
        cells = [
            label,
            str(entry.embed_dim),
            _pct(entry.imagenet),
            _pct(entry.flickr_r1),
            _pct(entry.coco_r1),
            f"~{size(entry.download_bytes)}",
            "on disk" if present else "not downloaded",
            _index_cell(index),
            _state(entry.key, active_keys, target_key),
        ]
        tip = f"{entry.note}. Languages: {entry.languages}." if entry.note else ""
        if entry.needs_hub:
            tip += " Fetches its tokenizer or text config from the Hugging Face hub once."
        rows.append(
            ModelRow(
                entry.key,
                cells,
                entry,
                present,
                entry.key in active_keys,
                entry.key == target_key,
                index.bytes if index else None,
                tip.strip(),
            )
        )
    known = {r.key for r in rows}
    extra = [k for k in by_key if k not in known]
    extra += sorted(k for k in active_keys if k not in known and k not in by_key)
    for key in extra:
        index = by_key.get(key)
        name, _, tag = key.partition("@")
        cells = [
            f"{name} {tag}".strip(),
            str(index.dim) if index else UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            _index_cell(index),
            _state(key, active_keys, target_key),
        ]
        rows.append(
            ModelRow(
                key,
                cells,
                None,
                True,
                key in active_keys,
                key == target_key,
                index.bytes if index else None,
                "Not in the catalogue (a model config or a checkpoint).",
            )
        )
    return rows


def _index_cell(index: StoredModel | None) -> str:
    if index is None:
        return ""
    state = (
        "complete"
        if index.complete
        else (f"{index.files_embedded:,} of {index.files_total:,} files")
    )
    return f"{state}, {size(index.bytes)}"


def _state(key: str, active_keys: set[str], target_key: str | None) -> str:
    if key in active_keys:
        return "\u25cf active"
    if key == target_key:
        return "\u25b6 switching to"
    return ""


def _pct(value: float | None) -> str:
    return UNKNOWN if value is None else f"{100 * value:.1f}%"


def size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.0f} KB"
    if n < 1_000_000_000:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e9:.2f} GB"
