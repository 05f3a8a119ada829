"""Plain text of an RTF document, in one linear pass under the budget.

striprtf's rtf_to_text runs regexes that are quadratic on a long line (its hyperlink and
font-table patterns: 40 KB of font table took 16 s) before a loop that reads plain text
one character at a time. This is the same reading (striprtf's tables: destinations,
special characters, charsets) in one pass over tokens: plain text in runs, braces in
runs, nesting bounded, the deadline checked between chunks of tokens.
"""

# The token pattern and the state kept per group follow striprtf (BSD-3-Clause,
# (c) Joshy Cyriac), itself after https://gist.github.com/gilsondev/7c1d2d753ddb522e7bc22511cfb08676.

from __future__ import annotations

import codecs
import re

from striprtf.striprtf import charset_map, destinations, specialchars

from finder.core.ingest.budget import Budget
from finder.core.ingest.errors import ExtractError

_TOKEN = re.compile(
    r"\\([a-z]{1,32})(-?\d{1,10})?[ ]?"  # a control word and its argument
    r"|\\'([0-9a-f]{2})"  # a byte in the current font's code page
    r"|\\([^a-z])"  # a control symbol
    r"|(\{+|\}+)"  # group starts or ends
    r"|[\r\n]+"  # line breaks mean nothing in RTF
    r"|([^\\{}\r\n]+)",  # plain text
    re.IGNORECASE,
)
MAX_DEPTH = 256  # deeper groups are counted, not remembered (their state is the parent's)
_CHECK_EVERY = 4096  # tokens between budget checks


def rtf_text(rtf: str, budget: Budget) -> str:
    """The document's text; ExtractError if it is not RTF or its time is up."""
    if not rtf.lstrip().startswith("{\\rtf"):
        raise ExtractError("not an RTF document")
    reader = _Reader(budget)
    reader.read(rtf)
    return budget.take(reader.text())


class _Reader:
    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.out: list[str] = []
        self.size = 0
        # What a group inherits from its parent and gets back when it ends:
        self.ucskip = 1  # characters that stand in for each \u character
        self.ignorable = False  # a destination: nothing inside is text
        self.font_table = False
        self.font: str | None = None
        self.stack: list[tuple[int, bool, bool, str | None]] = []
        self.too_deep = 0  # groups past MAX_DEPTH still open
        self.skip = 0  # plain characters still to skip after a \u character
        self.pending: list[str] = []  # \'xx bytes, decoded together (multi-byte pages)
        self.encoding = "cp1252"
        self.fonts: dict[str, str] = {}  # font number -> its code page
        self.defining: str | None = None  # the font being defined in the font table
        self.started = False

    def read(self, rtf: str) -> None:
        at, end, count = 0, len(rtf), 0
        while at < end:
            token = _TOKEN.match(rtf, at)
            if token is None:
                break  # a lone backslash at the very end
            at = token.end()
            count += 1
            if count % _CHECK_EVERY == 0:
                self.budget.check()
                if self.size >= self.budget.max_chars - self.budget.chars:
                    break
            word, arg, byte, symbol, braces, plain = token.groups()
            if self.pending and byte is None:
                self._decode_pending()
            if braces is not None:
                if not self._braces(braces):
                    break  # the document's outer group ended: anything after is not text
            elif word is not None:
                at = self._word(word, arg, at, end)
            elif byte is not None:
                self._byte(byte)
            elif symbol is not None:
                self._symbol(symbol)
            elif plain is not None:
                self._plain(plain)
        if self.pending:
            self._decode_pending()

    def text(self) -> str:
        # \u gives UTF-16 halves for characters past U+FFFF: pair them, drop strays.
        joined = "".join(self.out)
        return joined.encode("utf-16", "surrogatepass").decode("utf-16", "replace")

    def _emit(self, text: str) -> None:
        if not self.ignorable and not self.font_table:
            self.out.append(text)
            self.size += len(text)

    def _braces(self, braces: str) -> bool:
        self.skip = 0
        for brace in braces:
            if brace == "{":
                self.started = True
                if len(self.stack) < MAX_DEPTH:
                    self.stack.append((self.ucskip, self.ignorable, self.font_table, self.font))
                else:
                    self.too_deep += 1
            elif self.too_deep:
                self.too_deep -= 1
            elif self.stack:
                self.ucskip, self.ignorable, self.font_table, self.font = self.stack.pop()
                if not self.stack and self.started:
                    return False
            else:
                self.ucskip, self.ignorable = 0, True
        return True

    def _word(self, word: str, arg: str | None, at: int, end: int) -> int:
        """Act on a control word; returns where reading goes on (\\bin skips its data)."""
        self.skip = 0
        if word == "bin" and arg is not None:
            return min(end, at + max(0, int(arg)))
        if word == "fonttbl":
            self.font_table = True
        elif self.font_table and word == "f":
            self.defining = arg
        elif self.font_table and word == "fcharset" and self.defining is not None:
            self.fonts[self.defining] = charset_map.get(int(arg or 0), self.encoding)
        elif word in destinations:
            self.ignorable = True
        elif word == "ansicpg":
            self.encoding = _code_page(f"cp{arg}")
        elif self.ignorable or self.font_table:
            pass
        elif word in specialchars:
            self._emit(specialchars[word])
        elif word == "uc":
            self.ucskip = int(arg or 0)
        elif word == "u":
            if arg is not None:
                code = int(arg) + (0x10000 if int(arg) < 0 else 0)
                if 0 <= code <= 0x10FFFF:
                    self._emit(chr(code))
            self.skip = self.ucskip
        elif word == "f":
            self.font = arg
        return at

    def _symbol(self, symbol: str) -> None:
        self.skip = 0
        if symbol == "*":
            self.ignorable = True
        elif symbol in specialchars:
            self._emit(specialchars[symbol])

    def _byte(self, byte: str) -> None:
        if self.skip > 0:
            self.skip -= 1
        elif not self.ignorable:
            self.pending.append(byte)

    def _plain(self, plain: str) -> None:
        if self.skip > 0:
            skipped = min(self.skip, len(plain))
            self.skip -= skipped
            plain = plain[skipped:]
        if plain:
            self._emit(plain)

    def _decode_pending(self) -> None:
        encoding = self.fonts.get(self.font or "", self.encoding)
        data = bytes.fromhex("".join(self.pending))
        self.pending = []
        self._emit(data.decode(_code_page(encoding), errors="replace"))


def _code_page(name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        return "cp1252"
    return name
