"""Which CLIP to use: a ModelSpec, resolved from a model name or config JSON and a tag,
or from a model folder (finder.core.models.model_folder: ONNX Runtime, no torch).

A spec's `key` names the weights, so the vectors of different models never mix. Only
`resolve_model_spec` for a built-in model without a tag asks open_clip (imported then).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from finder.core.models.errors import ModelUnavailableError
from finder.core.models.model_folder import folder_identity

__all__ = ["ModelSpec", "ModelUnavailableError", "resolve_model_spec"]

DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "laion2b_s34b_b79k"
RANDOM_WEIGHTS = "none"
CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")


@dataclass(frozen=True)
class ModelSpec:
    """Which CLIP to use, resolved to what open_clip needs.

    name: an open_clip model name (built-in, or registered from `config_path`).
    pretrained: a pretrained tag, a checkpoint file path, or None for random weights.
    """

    name: str
    pretrained: str | None
    config_path: Path | None = None
    folder: Path | None = None  # a model folder (--model DIR): runs on ONNX Runtime
    folder_key: str = ""  # its key (model_folder.folder_identity)

    @property
    def is_random(self) -> bool:
        return self.pretrained is None and self.folder is None

    @property
    def checkpoint_file(self) -> Path | None:
        if self.pretrained and _looks_like_path(self.pretrained):
            return Path(self.pretrained)
        return None

    @property
    def key(self) -> str:
        """Identifies the weights, so vectors of different models never mix."""
        if self.folder is not None:
            return self.folder_key
        if self.pretrained is None:
            return f"{self.name}@random-seed0"
        ckpt = self.checkpoint_file
        if ckpt is not None:
            return f"{self.name}@file-{_file_fingerprint(ckpt)}"
        return f"{self.name}@{self.pretrained}"

    def describe(self) -> str:
        if self.folder is not None:
            return f"{self.name} (model folder {self.folder})"
        if self.pretrained is None:
            return f"{self.name} (random weights)"
        return f"{self.name} ({self.pretrained})"


def resolve_model_spec(model: str | None = None, pretrained: str | None = None) -> ModelSpec:
    """Turn --model/--pretrained (the front ends fill in FINDER_MODEL/FINDER_PRETRAINED,
    finder.config) into a ModelSpec.

    model: an open_clip model name, or a path to an open_clip model-config JSON; None:
    the default model; or a model folder (its `pretrained` is ignored).
    pretrained: a tag, a checkpoint path, or "none" for random initialisation. When a
    config JSON is given without it, a checkpoint beside the JSON with the same base
    name is used.
    """
    model = model or DEFAULT_MODEL
    pretrained = pretrained or None
    if Path(model).expanduser().is_dir():
        folder = Path(model).expanduser().resolve()
        name, key = folder_identity(folder)
        return ModelSpec(name, None, folder=folder, folder_key=key)
    config_path: Path | None = None
    if Path(model).suffix in CHECKPOINT_SUFFIXES:
        # A checkpoint named as the model: its architecture is the config JSON beside it.
        checkpoint = Path(model).expanduser().resolve()
        if not checkpoint.with_suffix(".json").is_file():
            raise ModelUnavailableError(
                f"{checkpoint} is a checkpoint: name its model (--model NAME --pretrained "
                f"{checkpoint}), or put its model-config JSON beside it as "
                f"{checkpoint.with_suffix('.json').name}"
            )
        model, pretrained = str(checkpoint.with_suffix(".json")), pretrained or str(checkpoint)
    name = model
    if model.endswith(".json") or _looks_like_path(model):
        config_path = Path(model).expanduser().resolve()
        if not config_path.is_file():
            raise ModelUnavailableError(f"model config {config_path} does not exist")
        name = config_path.stem
        if pretrained is None:
            beside = [config_path.with_suffix(s) for s in CHECKPOINT_SUFFIXES]
            found = [p for p in beside if p.is_file()]
            if not found:
                raise ModelUnavailableError(
                    f"no checkpoint beside {config_path} (looked for "
                    f"{', '.join(p.name for p in beside)}); pass --pretrained PATH"
                )
            pretrained = str(found[0])
    elif pretrained is None:
        pretrained = DEFAULT_PRETRAINED if model == DEFAULT_MODEL else None
        if pretrained is None:
            tags = pretrained_tags(model)
            if not tags:
                raise ModelUnavailableError(
                    f"open_clip has no pretrained weights for {model}; pass --pretrained"
                )
            pretrained = tags[0]
    if pretrained.lower() == RANDOM_WEIGHTS:
        return ModelSpec(name, None, config_path)
    if _looks_like_path(pretrained):
        ckpt = Path(pretrained).expanduser().resolve()
        if not ckpt.is_file():
            raise ModelUnavailableError(f"checkpoint file {ckpt} does not exist")
        pretrained = str(ckpt)
    return ModelSpec(name, pretrained, config_path)


def pretrained_tags(name: str) -> list[str]:
    """open_clip's pretrained tags for a model name (imports open_clip, and so torch)."""
    try:
        import open_clip
    except ModuleNotFoundError as exc:
        raise ModelUnavailableError(
            f"name the weights of {name} (--pretrained TAG, or NAME@TAG): listing "
            "open_clip's tags needs finder[torch]"
        ) from exc

    return list(open_clip.list_pretrained_tags_by_model(name))


def _looks_like_path(value: str) -> bool:
    return os.sep in value or "/" in value or Path(value).suffix in (*CHECKPOINT_SUFFIXES, ".json")


def _file_fingerprint(path: Path) -> str:
    """Size plus a hash of the first and last MiB: cheap, and changes when the weights do."""
    try:
        size = path.stat().st_size
        digest = hashlib.sha256(str(size).encode())
        with open(path, "rb") as f:
            digest.update(f.read(1 << 20))
            if size > 2 << 20:
                f.seek(-(1 << 20), os.SEEK_END)
                digest.update(f.read(1 << 20))
    except OSError as exc:
        raise ModelUnavailableError(f"cannot read checkpoint {path}: {exc}") from exc
    return f"{path.stem}-{digest.hexdigest()[:12]}"
