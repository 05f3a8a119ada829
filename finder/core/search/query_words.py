"""A typed query as words, for the readers of its parts (understanding.py,
query_dates.py): each word is used by at most one of them, and what none used is the
meaning."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Word:
    typed: str  # as typed, quotes and punctuation included: what the meaning keeps
    text: str  # lower case, outer punctuation stripped: what the rules compare
    quoted: bool = False
    ends_clause: bool = False  # a comma or semicolon follows it
    used: bool = False


_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
OUTER_PUNCTUATION = ",;:.!?()[]"


def tokens(query: str) -> list[Word]:
    """The query's words; a "quoted phrase" (or -"one") is one word, always meaning."""
    out = []
    for typed in _TOKEN.findall(query):
        quoted = typed.lstrip("-").startswith('"')
        text = typed.lower() if quoted else typed.lower().strip(OUTER_PUNCTUATION)
        out.append(Word(typed, text, quoted, typed.rstrip(")").endswith((",", ";"))))
    return out


def free(words: list[Word], i: int) -> bool:
    """Word i is there, unused and not quoted: a reader may take it."""
    return 0 <= i < len(words) and not words[i].used and not words[i].quoted


def text_at(words: list[Word], i: int) -> str:
    return words[i].text if free(words, i) else ""


def use(words: list[Word], start: int, end: int) -> str:
    """Take words start..end; what they said, as typed."""
    for w in words[start:end]:
        w.used = True
    return " ".join(w.typed for w in words[start:end]).strip(OUTER_PUNCTUATION + " ")


# Words that only linked a filter to the rest ("sunset in", "dogs from"): dropped at the
# end of what is left. (At its start they belong to the meaning: "at the beach".)
_LINKS = frozenset(
    {"in", "at", "on", "of", "from", "during", "taken", "with", "and", "or", "near", "by"}
)


def leftover(words: list[Word]) -> str:
    """The words no reader used, tidied: the meaning."""
    left = [w for w in words if not w.used]
    while left and left[-1].text in _LINKS and not left[-1].quoted:
        left.pop()
    text = " ".join(w.typed for w in left)
    return re.sub(r"\s+", " ", text).strip(" ,;:-\u2013")
