"""The Models dialog's table as plain data: one row per model (the catalogue's, then
those indexed here that it does not list), its cells, and why each button is refused.
Built by `build_rows` from plain values, so it is tested without widgets."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from finder.core.models.catalogue import CatalogModel, MeasuredSpeed
from finder.core.types import StoredModel

# The cells' keys, in order. The first ones are for people; FIGURES are the benchmark
# figures, hidden until "Show figures" (HEADERS gives the words shown for a key).
COLUMNS = [
    "Model",
    "Good at",
    "Size",
    "Speed here",
    "Weights",
    "Index here",
    "State",
    "Dim",
    "ImageNet",
    "Flickr R@1",
    "COCO R@1",
]
FIGURES = {"Dim", "ImageNet", "Flickr R@1", "COCO R@1"}
HEADERS = {
    "Weights": "On this computer",
    "Index here": "Indexed here",
    "State": "In use",
    "Dim": "Vector size",
    "ImageNet": "ImageNet top-1",
    "Flickr R@1": "Flickr R@1",
    "COCO R@1": "COCO R@1",
}
HEADER_TIPS = {
    "Good at": "What this model suits, in short (hover a model's name for more).",
    "Size": "How much it downloads (an estimate).",
    "Speed here": "Photos per second measured on this computer, else a rough guess.",
    "ImageNet": "Zero-shot ImageNet-1k top-1 accuracy.",
    "Flickr R@1": "Flickr30k text-to-image recall@1: how often the best hit is right.",
    "COCO R@1": "MSCOCO 5k text-to-image recall@1.",
}
UNKNOWN = "\u2014"


def display_name(key: str) -> str:
    """A model key ("name@tag") as people read it: "name tag"."""
    name, _, tag = key.partition("@")
    return f"{name} {tag}".strip()


def good_at(entry: CatalogModel) -> str:
    """A short phrase for what the model suits, from its catalogue entry."""
    if "multilingual" in entry.languages.lower():
        return "many languages"
    if entry.params_m >= 300:
        return "best quality, slower"
    if "siglip" in entry.name.lower():
        return "very good matches, medium speed"
    if "mobileclip" in entry.name.lower():
        return "small and fast"
    if entry.gflops is not None and entry.gflops > 20:
        return "finer detail, slower"
    return "fast, good on photos"


def speed_here(entry: CatalogModel, measured: MeasuredSpeed | None) -> str:
    if measured is not None:
        return f"{measured.images_per_s:.0f} photos/s"
    if entry.gflops is None:
        return "fast" if entry.params_m < 150 else UNKNOWN
    if entry.gflops < 20:
        return "fast"
    return "medium" if entry.gflops < 60 else "slow"


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
        """Why "Use this model" is disabled for this row, or None (the full reason, for
        the button's tooltip: it may name the command line)."""
        if self.active:
            return "This model already answers searches."
        if self.entry is None:
            return (
                "Not in the catalogue: only models listed here can be chosen here "
                "(on the command line: `finder models use CONFIG.json`)."
            )
        if not self.on_disk:
            return (
                "Not on this computer yet: download it first with Download\u2026 "
                f"(on the command line: `finder models download {self.entry.name}`)."
            )
        return None

    def use_refusal_short(self) -> str | None:
        """The same reason in a few plain words, shown under the buttons."""
        if self.active:
            return "Already in use."
        if self.entry is None:
            return "Not in the catalogue, so it can't be chosen here."
        if not self.on_disk:
            return "Download it first."
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
    speeds: Mapping[str, MeasuredSpeed] | None = None,
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
            good_at(entry),
            f"~{size(entry.download_bytes)}",
            speed_here(entry, (speeds or {}).get(entry.key)),
            "on disk" if present else "not downloaded",
            _index_cell(index),
            _state(entry.key, active_keys, target_key),
            str(entry.embed_dim),
            _pct(entry.imagenet),
            _pct(entry.flickr_r1),
            _pct(entry.coco_r1),
        ]
        tip = f"{entry.note}. Languages: {entry.languages}." if entry.note else ""
        if entry.needs_hub:
            tip += " Fetches its tokenizer or text config from the Hugging Face hub once."
        tip += (
            f"\nImageNet {_pct(entry.imagenet)}, Flickr R@1 {_pct(entry.flickr_r1)}, "
            f"COCO R@1 {_pct(entry.coco_r1)}; {entry.embed_dim}-dimensional vectors."
        )
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
        cells = [
            display_name(key),
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            _index_cell(index),
            _state(key, active_keys, target_key),
            str(index.dim) if index else UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
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
