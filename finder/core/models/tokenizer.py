"""OpenAI CLIP's BPE tokenizer without torch, for the ONNX Runtime path.

A port of open_clip 3.3.0's `SimpleTokenizer` with its defaults (clean="lower", plain
truncation): importing `open_clip` imports torch (~730 MB, ~3 s), which is the very cost the
ONNX path avoids. Token ids are identical (tests compare them on varied text).
"""

# Ported from open_clip/tokenizer.py (from openai/CLIP), MIT License, (c) 2021 OpenAI.

from __future__ import annotations

import gzip
import html
import importlib.util
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
DEFAULT_CONTEXT_LENGTH = 77
_N_MERGES = 49152 - 256 - 2  # the merges OpenAI CLIP's vocabulary was built from
_SPECIAL_TOKENS = ("<start_of_text>", "<end_of_text>")
_CACHE_LIMIT = 50_000  # open_clip's cache is unbounded; a long-running app clears ours


def default_vocab_path() -> Path:
    """open_clip's vocabulary file, located without importing open_clip (and so torch)."""
    # find_spec on a top-level package reads its location without executing __init__.py.
    spec = importlib.util.find_spec("open_clip")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / VOCAB_FILE
        if path.is_file():
            return path
    raise FileNotFoundError(f"{VOCAB_FILE} not found: is open-clip-torch installed?")


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """Each byte -> a printable character, so BPE never sees whitespace/control chars."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def get_pairs(word: tuple[str, ...]) -> set[tuple[str, str]]:
    """Adjacent symbol pairs of a word."""
    return set(zip(word, word[1:], strict=False))


class ClipTokenizer:
    """Text -> int64 token ids [n, context_length], as open_clip's default tokenizer."""

    def __init__(
        self, vocab_path: Path | None = None, context_length: int = DEFAULT_CONTEXT_LENGTH
    ) -> None:
        # Imported here: ~70 ms that a start which never tokenises need not pay.
        import ftfy
        import regex

        self._fix_text: Callable[[str], str] = ftfy.fix_text
        self.context_length = context_length
        self.byte_encoder = bytes_to_unicode()
        with gzip.open(vocab_path or default_vocab_path()) as f:
            lines = f.read().decode("utf-8").split("\n")
        merges = [tuple(line.split()) for line in lines[1 : _N_MERGES + 1]]
        vocab = list(self.byte_encoder.values())
        vocab += [v + "</w>" for v in vocab]
        vocab += ["".join(merge) for merge in merges]
        vocab += _SPECIAL_TOKENS
        self.encoder: dict[str, int] = {token: i for i, token in enumerate(vocab)}
        self.bpe_ranks: dict[tuple[str, ...], int] = {m: i for i, m in enumerate(merges)}
        self._special_cache = {t: t for t in _SPECIAL_TOKENS}
        self._cache: dict[str, str] = dict(self._special_cache)
        # Special tokens first, as open_clip: "<end_of_text>" typed in a query is one token.
        self._pat: Any = regex.compile(
            "|".join(_SPECIAL_TOKENS)
            + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE,
        )
        self.vocab_size = len(self.encoder)
        self.sot_token_id = self.encoder[_SPECIAL_TOKENS[0]]
        self.eot_token_id = self.encoder[_SPECIAL_TOKENS[1]]

    def clean(self, text: str) -> str:
        """open_clip's "lower" cleaning: ftfy, html unescape (twice), whitespace, lower case."""
        text = html.unescape(html.unescape(self._fix_text(text))).strip()
        return " ".join(text.split()).lower()

    def bpe(self, token: str) -> str:
        """Space-separated BPE symbols of one pre-token (memoised: queries repeat words)."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        word: tuple[str, ...] = (*token[:-1], token[-1] + "</w>")
        pairs = get_pairs(word)
        while pairs:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word: list[str] = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j
                if i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        result = " ".join(word)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache = dict(self._special_cache)
        self._cache[token] = result
        return result

    def encode(self, text: str) -> list[int]:
        """Token ids of one text, without start/end tokens or truncation."""
        ids: list[int] = []
        for token in self._pat.findall(self.clean(text)):
            chars = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[symbol] for symbol in self.bpe(chars).split(" "))
        return ids

    def __call__(self, texts: str | Sequence[str]) -> np.ndarray:
        """[sot] + ids + [eot], cut to context_length keeping eot last, zero padded."""
        if isinstance(texts, str):
            texts = [texts]
        result = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            tokens = [self.sot_token_id, *self.encode(text), self.eot_token_id]
            if len(tokens) > self.context_length:
                tokens = tokens[: self.context_length]
                tokens[-1] = self.eot_token_id
            result[row, : len(tokens)] = tokens
        return result
