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
    r"((?:\\[a-z]{1,32}(?:-?\d{1,10})?[ ]?)+)"  # control words, each with its argument
    r"|\\'([0-9a-f]{2})"  # a byte in the current font's code page
    r"|\\([^a-z])"  # a control symbol
    r"|(\{[^\\}]*)"  # groups starting, with the text between them
    r"|(\}[^\\{]*)"  # groups ending, with the text between them
    r"|([^\\{}]+)",  # plain text (line breaks in it mean nothing)
    re.IGNORECASE,
)
_WORD = re.compile(r"\\([a-z]{1,32})(-?\d{1,10})?[ ]?", re.IGNORECASE)
# A run of control words none of which is one of these changes no text (formatting:
# \b\fs20\cf1...): it is passed over at once.
_TEXT_WORDS = frozenset(
    {*destinations, *specialchars, "bin", "fonttbl", "f", "fcharset", "ansicpg", "uc", "u"}
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
            count += 1
            if count % _CHECK_EVERY == 0:
                self.budget.check()
                if self.size >= self.budget.max_chars - self.budget.chars:
                    break
            token = _TOKEN.match(rtf, at)
            if token is None:
                break  # a lone backslash at the very end
            at = token.end()
            words, byte, symbol, opening, closing, plain = token.groups()
            if self.pending and byte is None:
                self._decode_pending()
            if opening is not None:
                self._open(opening)
            elif closing is not None:
                if not self._close(closing):
                    break  # the document's outer group ended: anything after is not text
            elif words is not None:
                at = self._words(words, token.start(), at, end)
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

    def _open(self, block: str) -> None:
        """Groups starting ('{'), with plain text between them: no state changes inside."""
        self.skip = 0
        self.started = True
        if len(block) == 1 and len(self.stack) < MAX_DEPTH:  # the usual '{'
            self.stack.append((self.ucskip, self.ignorable, self.font_table, self.font))
            return
        opened = block.count("{")
        kept = max(0, min(opened, MAX_DEPTH - len(self.stack)))
        self.stack += [(self.ucskip, self.ignorable, self.font_table, self.font)] * kept
        self.too_deep += opened - kept
        self._text(block.replace("{", ""))

    def _close(self, block: str) -> bool:
        """Groups ending ('}'), with the text after each; False once the document's own
        group has ended."""
        self.skip = 0
        if len(block) == 1 and not self.too_deep and len(self.stack) > 1:  # the usual '}'
            self.ucskip, self.ignorable, self.font_table, self.font = self.stack.pop()
            return True
        after = block.split("}")[1:]  # the text after each '}'
        deep = min(self.too_deep, len(after))
        if deep:  # groups past MAX_DEPTH: the state stays the parent's
            self.too_deep -= deep
            self._text("".join(after[:deep]))
        for text in after[deep:]:
            if self.stack:
                self.ucskip, self.ignorable, self.font_table, self.font = self.stack.pop()
                if not self.stack and self.started:
                    return False
            else:
                self.ucskip, self.ignorable = 0, True
            self._text(text)
        return True

    def _text(self, text: str) -> None:
        if "\n" in text or "\r" in text:
            text = text.replace("\r", "").replace("\n", "")
        if text:
            self._emit(text)

    def _words(self, words: str, start: int, at: int, end: int) -> int:
        """Act on a run of control words; returns where reading goes on."""
        self.skip = 0
        found = _WORD.findall(words)
        if _TEXT_WORDS.isdisjoint(name for name, _ in found):
            return at
        for word in _WORD.finditer(words):
            name, arg = word.group(1), word.group(2)
            if name == "bin" and arg is not None:  # binary data follows: skip it
                return min(end, start + word.end() + max(0, int(arg)))
            self._word(name, arg)
        return at

    def _word(self, word: str, arg: str | None) -> None:
        """Act on one control word."""
        self.skip = 0
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
        plain = plain.replace("\r", "").replace("\n", "")
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
