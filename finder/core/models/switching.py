"""Which model searches use, and the one being switched to: a small state file.

Each model has its own vectors (catalog) and its own vector index
(data_dir/index/<model key>), so switching never destroys anything: choosing another
model records it as the *target*; the indexer embeds the target's vectors for the items
already there (searches keep using the *active* model meanwhile), and once every file
has the target's vectors it becomes the active model. Going back to a model whose index
is complete is immediate.

The choice lives in `models.json` in the data dir, not in the catalog: it is a setting,
read by every process (CLI searches, the app, a running indexer) and written atomically
(temp file + rename) by whoever takes a switch over; the catalog stays the source of
truth for what each model has embedded, so progress and completeness are always
computed from it, never stored.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from finder.core.models.spec import ModelSpec, resolve_model_spec
from finder.core.store.catalog import Catalog

log = logging.getLogger(__name__)

STATE_FILE = "models.json"
STATE_VERSION = 1


@dataclass(frozen=True)
class ModelChoice:
    """A model as the user named it: what resolve_model_spec needs to rebuild the spec."""

    model: str  # open_clip name, path to a model-config JSON, or a model folder
    pretrained: str  # tag, checkpoint path, or "none"
    key: str  # ModelSpec.key, which names its vectors and index

    @classmethod
    def of(cls, spec: ModelSpec) -> ModelChoice:
        model = str(spec.config_path) if spec.config_path is not None else spec.name
        if spec.folder is not None:
            model = str(spec.folder)
        return cls(model, spec.pretrained or "none", spec.key)

    def spec(self) -> ModelSpec:
        return resolve_model_spec(self.model, self.pretrained)

    @property
    def label(self) -> str:
        name = Path(self.model).stem if self.model.endswith(".json") else self.model
        return f"{name} ({self.pretrained})"


@dataclass(frozen=True)
class ModelState:
    active: ModelChoice | None = None  # what searches use (None: the default model)
    target: ModelChoice | None = None  # being switched to; None when no switch is running
    # Every model chosen here: the catalog knows a model only by its key, from which a
    # config or checkpoint cannot be found again (comparing models needs to).
    known: tuple[ModelChoice, ...] = ()


@dataclass(frozen=True)
class SwitchProgress:
    target: ModelChoice
    embedded: int  # files with the target's vectors
    total: int  # files it needs

    @property
    def complete(self) -> bool:
        return self.embedded >= self.total


def load_state(data_dir: Path) -> ModelState:
    try:
        raw = json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ModelState()
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", data_dir / STATE_FILE, exc)
        return ModelState()

    def choice(value: object) -> ModelChoice | None:
        if not isinstance(value, dict):
            return None
        try:
            return ModelChoice(str(value["model"]), str(value["pretrained"]), str(value["key"]))
        except KeyError:
            return None

    if not isinstance(raw, dict) or int(raw.get("version", 0)) > STATE_VERSION:
        log.warning("ignoring %s written by a newer finder", data_dir / STATE_FILE)
        return ModelState()
    known = raw.get("known")
    remembered = [choice(v) for v in known] if isinstance(known, list) else []
    return ModelState(
        choice(raw.get("active")),
        choice(raw.get("target")),
        tuple(c for c in remembered if c is not None),
    )


def save_state(data_dir: Path, state: ModelState) -> None:
    """Atomic: a reader sees the old state or the new one. The known models add up."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / STATE_FILE
    chosen = (*load_state(data_dir).known, *state.known, state.active, state.target)
    known = {c.key: c for c in chosen if c is not None}
    body = {
        "version": STATE_VERSION,
        "active": asdict(state.active) if state.active else None,
        "target": asdict(state.target) if state.target else None,
        "known": [asdict(c) for c in known.values()],
    }
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def progress(catalog: Catalog, choice: ModelChoice) -> SwitchProgress:
    done, total = catalog.model_progress(choice.key)
    return SwitchProgress(choice, done, total)


def begin_switch(
    data_dir: Path, catalog: Catalog, current: ModelChoice, new: ModelChoice
) -> ModelState:
    """Choose `new`. If its index is already complete it is active at once (nothing to
    embed); otherwise it becomes the target and `current` keeps serving searches."""
    if new.key == current.key:
        state = ModelState(current, None)
    elif progress(catalog, new).complete:
        state = ModelState(new, None)
    else:
        state = ModelState(current, new)
    save_state(data_dir, state)
    return state


def take_over_if_complete(data_dir: Path, catalog: Catalog) -> ModelState:
    """Make the target active when every file has its vectors (called after its runs)."""
    state = load_state(data_dir)
    if state.target is not None and progress(catalog, state.target).complete:
        state = ModelState(state.target, None)
        save_state(data_dir, state)
        log.info("%s is complete and now answers searches", state.active)
    return state


def cancel_switch(data_dir: Path) -> ModelState:
    state = load_state(data_dir)
    state = ModelState(state.active, None)
    save_state(data_dir, state)
    return state
