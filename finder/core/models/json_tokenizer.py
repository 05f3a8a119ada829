"""Tokenizers of a model folder's `textual/tokenizer.json`, through the `tokenizers` library:
SigLIP, MobileCLIP, multilingual and the ready CLIP exports run on ONNX Runtime with it.

The text is cleaned as open_clip's tokenizer for that model cleans it (the model config's
`text_cfg.tokenizer_kwargs.clean`), padded with the tokenizer config's pad token and cut
to the model's context length, as Immich's machine learning does with the same files.
"""

from __future__ import annotations

import contextlib
import html
import json
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from finder.core.models.tokenizer import bound_text

CLEANINGS = ("whitespace", "lower", "canonicalize")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


class JsonTokenizer:
    """Text -> int64 token ids [n, context_length], from a `tokenizer.json`."""

    def __init__(
        self,
        path: Path,
        context_length: int,
        *,
        pad_token: str | None = None,
        clean: str = "whitespace",
    ) -> None:
        import ftfy
        from tokenizers import Tokenizer

        self._fix_text = ftfy.fix_text
        self.context_length = context_length
        self.clean_mode = clean if clean in CLEANINGS else "whitespace"
        self._tokenizer: Any = Tokenizer.from_file(str(path))
        pad_id = self._tokenizer.token_to_id(pad_token) if pad_token else None
        self._tokenizer.enable_padding(
            length=context_length, pad_id=pad_id or 0, pad_token=pad_token or "[PAD]"
        )
        self._tokenizer.enable_truncation(max_length=context_length)

    @classmethod
    def of_folder(
        cls, textual: Path, context_length: int, text_cfg: dict[str, Any]
    ) -> JsonTokenizer:
        """The tokenizer of a model folder's `textual/` (its tokenizer_config.json names
        the pad token; the model config how the text is cleaned)."""
        pad: Any = None
        with contextlib.suppress(OSError, ValueError, AttributeError):  # no config: no padding
            config = json.loads((textual / "tokenizer_config.json").read_text(encoding="utf-8"))
            pad = config.get("pad_token")
        if isinstance(pad, dict):  # {"content": "<pad>", ...} in some configs
            pad = pad.get("content")
        kwargs = text_cfg.get("tokenizer_kwargs") or {}
        return cls(
            textual / "tokenizer.json",
            context_length,
            pad_token=pad if isinstance(pad, str) else None,
            clean=str(kwargs.get("clean") or "whitespace"),
        )

    def clean(self, text: str) -> str:
        """open_clip's cleaning: ftfy and html unescape, whitespace; lower case or
        punctuation removed where the model was trained so."""
        text = " ".join(html.unescape(html.unescape(self._fix_text(text))).split())
        if self.clean_mode == "lower":
            return text.lower()
        if self.clean_mode == "canonicalize":
            return " ".join(text.translate(_PUNCTUATION).lower().split())
        return text

    def __call__(self, texts: str | Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            texts = [texts]
        encoded = self._tokenizer.encode_batch([self.clean(bound_text(t)) for t in texts])
        return np.array([e.ids for e in encoded], dtype=np.int64).reshape(len(texts), -1)
