"""OpenAI CLIP's BPE tokenizer without torch, for the ONNX Runtime path.

A port of open_clip 3.3.0's `SimpleTokenizer` with its defaults (clean="lower", plain
truncation): importing `open_clip` imports torch (~730 MB, ~3 s), which is the very cost the
ONNX path avoids. Token ids are identical (tests compare them on varied text).

Tokenising is linear in the input, unlike the reference: BPE merges through a heap (the
reference rescans the whole word per merge: a 60,000-letter word took minutes), encoding
stops once the context is full, and text past MAX_TOKENIZE_CHARS is never looked at.
`bound_text` bounds the input of any other tokenizer (open_clip's, on the torch path).
"""

# Ported from open_clip/tokenizer.py (from openai/CLIP), MIT License, (c) 2021 OpenAI.

from __future__ import annotations

import gzip
import heapq
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
# Text read per input, once runs of whitespace are collapsed: 77 tokens cover at most
# 77 x 33 characters (the longest BPE symbol is 32), so the rest could never be used.
MAX_TOKENIZE_CHARS = 8192
# For tokenizers whose BPE is quadratic in the length of one word (open_clip's): runs of
# letters or of punctuation longer than this are cut into pieces. Its cost per character
# is ~15 us at 32, ~40 us at 48, ~120 us at 100; the longest English words are ~45.
MAX_RUN_CHARS = 48


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


def collapse(text: str, max_chars: int = MAX_TOKENIZE_CHARS) -> str:
    """`text` itself when short; else its first `max_chars` characters once runs of
    whitespace are one space (what every tokenizer's cleaning does first anyway)."""
    if len(text) <= max_chars:
        return text
    return " ".join(text[: max_chars * 4].split())[:max_chars]


def bound_text(text: str, max_chars: int = MAX_TOKENIZE_CHARS) -> str:
    """`text` made cheap for any tokenizer: collapsed and cut to `max_chars`, and runs of
    letters or punctuation longer than MAX_RUN_CHARS split by spaces. Ordinary text
    comes back unchanged."""
    split = str(_long_runs().sub(lambda run: _pieces(run.group()), collapse(text, max_chars)))
    return split[:max_chars]


@lru_cache(maxsize=1)
def _long_runs() -> Any:
    import regex  # the tokenizer's own character classes (\p{L}, \p{N})

    longer = MAX_RUN_CHARS + 1
    return regex.compile(rf"[\p{{L}}]{{{longer},}}|[^\s\p{{L}}\p{{N}}]{{{longer},}}")


def _pieces(run: str) -> str:
    return " ".join(run[i : i + MAX_RUN_CHARS] for i in range(0, len(run), MAX_RUN_CHARS))


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
        path = vocab_path or default_vocab_path()
        # open_clip's gzipped vocabulary, or the same merges as a Hugging Face merges.txt
        # (the ready exports' textual/): one header line, then one merge a line.
        with gzip.open(path) if path.suffix == ".gz" else open(path, "rb") as f:
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
        result = " ".join(self._merge([*token[:-1], token[-1] + "</w>"]))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache = dict(self._special_cache)
        self._cache[token] = result
        return result

    def _merge(self, symbols: list[str]) -> list[str]:
        """Apply the merges to a word's symbols, lowest rank first, in O(n log n).

        The reference finds the lowest-ranked adjacent pair and merges all its
        occurrences left to right, then starts again over the whole word: O(n^2). A heap
        of (rank, position) pops the same merges in the same order: a merge's result only
        takes part in later-ranked merges, so all occurrences of one rank are merged, left
        to right, before any higher rank. Entries made stale by a merge are skipped.
        """
        ranks = self.bpe_ranks
        count = len(symbols)
        after = [*range(1, count), -1]  # linked list over the positions still in use
        before = list(range(-1, count - 1))
        heap = [
            (rank, i)
            for i in range(count - 1)
            if (rank := ranks.get((symbols[i], symbols[i + 1]))) is not None
        ]
        heapq.heapify(heap)
        while heap:
            rank, i = heapq.heappop(heap)
            j = after[i]
            if symbols[i] == "" or j < 0 or ranks.get((symbols[i], symbols[j])) != rank:
                continue  # this pair changed since it was pushed
            symbols[i] += symbols[j]
            symbols[j] = ""  # merged away
            k = after[i] = after[j]
            if k >= 0:
                before[k] = i
                right = ranks.get((symbols[i], symbols[k]))
                if right is not None:
                    heapq.heappush(heap, (right, i))
            if before[i] >= 0:
                left = ranks.get((symbols[before[i]], symbols[i]))
                if left is not None:
                    heapq.heappush(heap, (left, before[i]))
        return [symbol for symbol in symbols if symbol]

    def encode(self, text: str, limit: int | None = None) -> list[int]:
        """Token ids of one text (its first MAX_TOKENIZE_CHARS), without start/end tokens;
        only the first `limit` or more of them when a limit is given (the rest of the text
        is never tokenised)."""
        ids: list[int] = []
        for token in self._pat.finditer(self.clean(collapse(text))):
            chars = "".join(self.byte_encoder[b] for b in token.group().encode("utf-8"))
            ids.extend(self.encoder[symbol] for symbol in self.bpe(chars).split(" "))
            if limit is not None and len(ids) >= limit:
                break
        return ids

    def __call__(self, texts: str | Sequence[str]) -> np.ndarray:
        """[sot] + ids + [eot], cut to context_length keeping eot last, zero padded."""
        if isinstance(texts, str):
            texts = [texts]
        result = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            # Past context_length - 1 ids, the row is the same whatever follows.
            ids = self.encode(text, limit=self.context_length - 1)
            tokens = [self.sot_token_id, *ids, self.eot_token_id]
            if len(tokens) > self.context_length:
                tokens = tokens[: self.context_length]
                tokens[-1] = self.eot_token_id
            result[row, : len(tokens)] = tokens
        return result
