"""A model folder: a CLIP model ready for ONNX Runtime, in the layout Immich publishes on
the Hugging Face hub (`immich-app/<model>__<pretrained>`), so finder's own exports, the
ready exports it downloads and a folder a person points `--model DIR` at are one format:

    config.json                 the open_clip model config (embed_dim, vision_cfg, text_cfg)
    visual/model.onnx           image tower: "image" float32 [batch, 3, H, W] -> embedding
    visual/preprocess_cfg.json  open_clip's preprocess config (size, mean, std, ...)
    textual/model.onnx          text tower: "text" token ids [batch, length] -> embedding
    textual/tokenizer.json      a `tokenizers` tokenizer (+ tokenizer_config.json), or
    textual/bpe_simple_vocab_16e6.txt.gz   OpenAI CLIP's BPE (finder's own exports)
    finder.json                 finder's exports only: the weights' key, the cosine against
                                torch, and whether the text tower takes the real tokens only

A graph may have a fixed batch of 1 (Immich's): the runtime then runs one row at a time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finder.core.models.errors import ModelUnavailableError
from finder.core.models.image_prep import PreprocessConfig
from finder.core.models.json_tokenizer import JsonTokenizer
from finder.core.models.tokenizer import VOCAB_FILE, ClipTokenizer

CONFIG = "config.json"
VISUAL = "visual/model.onnx"
PREPROCESS = "visual/preprocess_cfg.json"
TEXTUAL = "textual/model.onnx"
TOKENIZER_JSON = "textual/tokenizer.json"
CLIP_VOCAB = f"textual/{VOCAB_FILE}"
CLIP_MERGES = "textual/merges.txt"  # OpenAI CLIP's merges, as Hugging Face saves them
META = "finder.json"
REQUIRED = (CONFIG, VISUAL, PREPROCESS, TEXTUAL)


@dataclass(frozen=True)
class FolderModel:
    """What a model folder's small files say (the graphs are loaded by the runtime)."""

    folder: Path
    config: dict[str, Any]
    preprocess: PreprocessConfig
    meta: dict[str, Any] = field(default_factory=dict)  # finder.json, {} for others

    @property
    def dim(self) -> int:
        return int(self.config["embed_dim"])

    @property
    def text_cfg(self) -> dict[str, Any]:
        cfg = self.config.get("text_cfg")
        return cfg if isinstance(cfg, dict) else {}

    @property
    def context_length(self) -> int:
        return int(self.text_cfg.get("context_length") or 77)

    @property
    def text_cut(self) -> dict[str, Any] | None:
        """How to cut token rows after the last real token (finder's exports, whose text
        graph takes any length), or None: rows are padded to the context length."""
        cut = self.meta.get("text_cut")
        return cut if isinstance(cut, dict) else None

    def tokenizer(self) -> ClipTokenizer | JsonTokenizer:
        if (self.folder / CLIP_VOCAB).is_file():
            return ClipTokenizer(self.folder / CLIP_VOCAB, context_length=self.context_length)
        if _is_clip_bpe(self.folder / "textual"):  # a ready CLIP export: CLIP's BPE as ours
            return ClipTokenizer(self.folder / CLIP_MERGES, context_length=self.context_length)
        if (self.folder / TOKENIZER_JSON).is_file():
            return JsonTokenizer.of_folder(
                self.folder / "textual", self.context_length, self.text_cfg
            )
        raise ModelUnavailableError(
            f"{self.folder} has no tokenizer ({TOKENIZER_JSON} or {CLIP_VOCAB})"
        )


def _is_clip_bpe(textual: Path) -> bool:
    """The folder's tokenizer is OpenAI CLIP's BPE (Hugging Face's CLIPTokenizer), which
    finder's own port tokenizes exactly as open_clip does."""
    try:
        config = json.loads((textual / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    kind = str(config.get("tokenizer_class", "")) if isinstance(config, dict) else ""
    return kind.startswith("CLIPTokenizer") and (textual / "merges.txt").is_file()


def missing_files(folder: Path) -> list[str]:
    """The files a model folder needs that `folder` lacks."""
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if not (folder / TOKENIZER_JSON).is_file() and not (folder / CLIP_VOCAB).is_file():
        missing.append(TOKENIZER_JSON)
    return missing


def is_model_folder(folder: Path) -> bool:
    return folder.is_dir() and not missing_files(folder)


def read_folder(folder: Path) -> FolderModel:
    """The folder's config, preprocessing and finder.json; ModelUnavailableError naming
    what is missing or unreadable."""
    missing = missing_files(folder)
    if missing:
        raise ModelUnavailableError(
            f"{folder} is not a model folder: it lacks {', '.join(missing)} (write one "
            "with `finder models export MODEL DIR`, or download a ready model with "
            "`finder models download NAME`)"
        )
    try:
        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
        preprocess = PreprocessConfig.from_open_clip(
            json.loads((folder / PREPROCESS).read_text(encoding="utf-8"))
        )
        meta = (
            json.loads((folder / META).read_text(encoding="utf-8"))
            if (folder / META).is_file()
            else {}
        )
        int(config["embed_dim"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelUnavailableError(f"cannot read the model folder {folder}: {exc}") from exc
    return FolderModel(folder, config, preprocess, meta if isinstance(meta, dict) else {})


def folder_identity(folder: Path) -> tuple[str, str]:
    """(name, key) of a model folder: finder's exports say which weights they hold (the
    key is the torch model's, so their vectors are interchangeable); any other folder is
    named after itself and keyed by a fingerprint of its graphs."""
    model = read_folder(folder)
    name = str(model.meta.get("name") or folder.name)
    key = model.meta.get("key")
    if isinstance(key, str) and key:
        return name, key
    digest = hashlib.sha256()
    for graph in (VISUAL, TEXTUAL, CONFIG):
        path = folder / graph
        stat = path.stat()
        digest.update(f"{graph}:{stat.st_size}".encode())
        with open(path, "rb") as f:
            digest.update(f.read(1 << 20))
    return name, f"{name}@folder-{digest.hexdigest()[:12]}"
