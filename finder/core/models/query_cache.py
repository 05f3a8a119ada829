"""Recent single-text (query) embeddings: typing, paging and tab switches repeat them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

QUERY_CACHE_SIZE = 256  # recent single-text (query) embeddings kept per embedder


class QueryCache:
    """A small thread-safe LRU of one-text embeddings, shared by every runtime."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(
        self, texts: Sequence[str], encode: Callable[[Sequence[str]], np.ndarray]
    ) -> np.ndarray:
        """`encode(texts)`, answered from the cache when it is one text seen recently."""
        if len(texts) != 1 or self._size <= 0:
            return encode(texts)
        with self._lock:
            cached = self._entries.get(texts[0])
            if cached is not None:
                self._entries.move_to_end(texts[0])
                return cached.copy()
        out = encode(texts)
        with self._lock:
            self._entries[texts[0]] = out.copy()
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return out

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def texts(self) -> list[str]:
        """The cached texts, least recently used first."""
        with self._lock:
            return list(self._entries)
