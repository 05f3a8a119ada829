"""Typed queries -> SQLite FTS5 expressions, and which of their words a text contains.

Words are split the way FTS5's unicode61 tokenizer splits them (letters and digits;
"_", "-", "." and "/" separate), so "invoice_4471.pdf" holds "invoice" and "4471".
A "quoted phrase" must match as a phrase; the last word also matches as a prefix, for
search as you type.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+")
_PHRASE = re.compile(r'"([^"]*)"')
# Words too common to say anything about a file; a query made only of them finds nothing.
STOPWORDS = frozenset({"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in",
                       "is", "it", "of", "on", "or", "the", "to", "with"})
MAX_TERMS = 12


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

    def match_expression(self) -> str:
        """The FTS5 MATCH expression: any term or phrase (BM25 ranks files with more)."""
        parts = [f'"{t}"' for t in self.terms]
        if self.prefix is not None:
            parts.append(f'"{self.prefix}"*')
        parts += ['"' + " ".join(p) + '"' for p in self.phrases]
        return " OR ".join(dict.fromkeys(parts))

    def matched(self, text: str) -> list[str]:
        """The query's terms and phrases found in `text`, in query order."""
        words = tokens(text)
        present = set(words)
        out = [t for t in self.terms if t in present]
        if (self.prefix is not None and self.prefix not in out
                and any(w.startswith(self.prefix) for w in present)):
            out.append(self.prefix)
        joined = " " + " ".join(words) + " "
        out += [" ".join(p) for p in self.phrases if " " + " ".join(p) + " " in joined]
        return out


def tokens(text: str) -> list[str]:
    """Lower-case words without diacritics, split like FTS5's unicode61."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _WORD.findall(plain)


def parse(query: str, *, typed: bool = True, max_terms: int = MAX_TERMS) -> KeywordQuery:
    """A typed query (`typed`: its last word may be half typed), or text read in a picture."""
    phrases = tuple(tuple(words) for p in _PHRASE.findall(query)
                    if len(words := tokens(p)) > 0)
    rest = _PHRASE.sub(" ", query)
    words = [w for w in tokens(rest) if (len(w) > 1 or w.isdigit()) and w not in STOPWORDS]
    words = list(dict.fromkeys(words))[:max_terms]
    prefix = None
    # The last word may be half typed: match it as a prefix too (unless the query ends
    # with a space, a quote, or the word is a number, which should match exactly).
    if typed and words and not query.endswith((" ", '"')) and not words[-1].isdigit() and \
            len(words[-1]) >= 3:
        prefix = words.pop()
    return KeywordQuery(tuple(words), phrases, prefix)
