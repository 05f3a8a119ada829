"""Typed queries -> SQLite FTS5 expressions, and which of their words a text contains.

Words are split the way FTS5's unicode61 tokenizer splits them (letters and digits;
"_", "-", "." and "/" separate), so "invoice_4471.pdf" holds "invoice" and "4471".
A "quoted phrase" must match as a phrase; the last word also matches as a prefix, for
search as you type.

What a file holds of a query is weighed by where (`KeywordQuery.weight`): a word in its
text counts fully, a word only in its name or folder NAME_SHARE of that (a camera's
IMG_0042 says nothing, and "red" in red_square.jpg says little about "a red circle");
an exact part (a number, a code, a quoted phrase) counts fully wherever it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+")
_PHRASE = re.compile(r'"([^"]*)"')
# Words too common to say anything about a file; a query made only of them finds nothing.
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
    }
)
MAX_TERMS = 12
NAME_SHARE = 0.5  # what a word found only in a file's name or folder counts


@dataclass(frozen=True)
class KeywordQuery:
    terms: tuple[str, ...]  # single words, lower case
    phrases: tuple[tuple[str, ...], ...]  # quoted phrases, as their words
    prefix: str | None = None  # the last word, also matched as a prefix

    @property
    def size(self) -> int:
        return len(self.terms) + len(self.phrases) + (self.prefix is not None)

    @property
    def empty(self) -> bool:
        return self.size == 0

    def words(self) -> list[tuple[str, bool]]:
        """The single words: (word, matched as a prefix too)."""
        return [(t, False) for t in self.terms] + (
            [(self.prefix, True)] if self.prefix is not None else []
        )

    def match_expression(
        self,
        *,
        names_only: Collection[tuple[str, bool]] = (),
        left_out: Collection[tuple[str, bool]] = (),
    ) -> str:
        """The FTS5 MATCH expression: any term or phrase (BM25 ranks files with more).

        Words in `names_only` match only file and folder names, words in `left_out` not
        at all: for words in most of the library, which say little about a file and whose
        BM25 would be computed for every row holding them. "" when nothing is left."""
        parts = []
        for word in self.words():
            if word in left_out:
                continue
            term = _fts_term(*word)
            parts.append("{name folder}: " + term if word in names_only else term)
        parts += ['"' + " ".join(p) + '"' for p in self.phrases]
        return " OR ".join(dict.fromkeys(parts))

    def match_all_expression(self) -> str | None:
        """Every term and phrase at once, or None for a one-word query (the same as
        `match_expression`). Tried first: few rows hold them all, so it is cheap even when
        each word alone is in half the library, and those rows rank first anyway."""
        parts = [_fts_term(*word) for word in self.words()]
        parts += ['"' + " ".join(p) + '"' for p in self.phrases]
        parts = list(dict.fromkeys(parts))
        return " AND ".join(parts) if len(parts) > 1 else None

    def matched(self, text: str) -> list[str]:
        """The query's terms and phrases found in `text`, in query order."""
        words = tokens(text)
        present = set(words)
        out = [t for t in self.terms if t in present]
        if (
            self.prefix is not None
            and self.prefix not in out
            and any(w.startswith(self.prefix) for w in present)
        ):
            out.append(self.prefix)
        joined = " " + " ".join(words) + " "
        out += [" ".join(p) for p in self.phrases if " " + " ".join(p) + " " in joined]
        return out

    def weight(self, found: Collection[str], in_text: Collection[str]) -> float:
        """How much of the query a file holds, 0..1: the parts `found` (as `matched`
        names them), each counting fully when it is `in_text` (a passage, the words read
        in a picture) or exact (a number, a code, a quoted phrase), NAME_SHARE when it is
        only in the file's name or folder."""
        if self.empty:
            return 0.0
        exact = {" ".join(p) for p in self.phrases}
        counted = sum(
            1.0
            if part in in_text or part in exact or any(c.isdigit() for c in part)
            else NAME_SHARE
            for part in set(found)
        )
        return min(counted / self.size, 1.0)


def _fts_term(word: str, prefix: bool) -> str:
    return f'"{word}"' + ("*" if prefix else "")


def tokens(text: str) -> list[str]:
    """Lower-case words without diacritics, split like FTS5's unicode61."""
    plain = text.lower()
    if not plain.isascii():  # most text is: skip the per-character pass
        plain = unicodedata.normalize("NFKD", plain)
        plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _WORD.findall(plain)


def parse(query: str, *, typed: bool = True, max_terms: int = MAX_TERMS) -> KeywordQuery:
    """A typed query (`typed`: its last word may be half typed), or text read in a picture."""
    phrases = tuple(tuple(words) for p in _PHRASE.findall(query) if len(words := tokens(p)) > 0)
    rest = _PHRASE.sub(" ", query)
    words = [w for w in tokens(rest) if (len(w) > 1 or w.isdigit()) and w not in STOPWORDS]
    words = list(dict.fromkeys(words))[:max_terms]
    prefix = None
    # The last word may be half typed: match it as a prefix too (unless the query ends
    # with a space, a quote, or the word is a number, which should match exactly).
    if (
        typed
        and words
        and not query.endswith((" ", '"'))
        and not words[-1].isdigit()
        and len(words[-1]) >= 3
    ):
        prefix = words.pop()
    return KeywordQuery(tuple(words), phrases, prefix)
