"""The visible text of an HTML page, in linear time whatever the markup.

The stdlib's HTMLParser re-scans to the end of the input for every unclosed `<a ` or
`<!--` (quadratic: 50 KB of `<a ` took 45 s). Here each comment, script or style is
skipped with one forward search, markup that never ends hides the rest of the page (as
in a browser), and the remaining tags are removed by one regex pass in which every match
succeeds where it starts, so no character is looked at more than a few times.
"""

from __future__ import annotations

import html
import re

from finder.core.ingest.budget import Budget

# What hides text up to its end: a comment, and elements whose content is not text to
# index (script/style are raw text; noscript/template hold markup that is skipped).
_HIDING_START = re.compile(r"<!--|<(script|style|noscript|template)(?=[\s/>])", re.IGNORECASE)
_HIDING_END = {
    tag: re.compile(rf"</{tag}\s*>", re.IGNORECASE)
    for tag in ("script", "style", "noscript", "template")
}
_MARKUP_START = re.compile(r"<[a-zA-Z/!?]")  # any other '<' ("a < b") is text
_MARKUP = re.compile(r"<[a-zA-Z/!?][^>]*>")
_CHECK_EVERY = 256  # hidden parts between budget checks


def html_text(page: str, budget: Budget) -> str:
    """Text outside tags, comments, scripts and styles; entities decoded."""
    shown = " ".join(_shown_parts(page, budget))
    # Markup that starts after the last '>' never ends: it hides the rest. Every other
    # tag start then has a '>' after it, so each match of _MARKUP succeeds at once.
    unclosed = _MARKUP_START.search(shown, shown.rfind(">") + 1)
    if unclosed is not None:
        shown = shown[: unclosed.start()]
    budget.check()
    text = _MARKUP.sub(" ", shown)
    return budget.take(" ".join(html.unescape(text).split()))


def _shown_parts(page: str, budget: Budget) -> list[str]:
    """The page without its comments, scripts, styles, noscripts and templates."""
    parts: list[str] = []
    at = 0
    for count, hiding in enumerate(_HIDING_START.finditer(page)):
        if hiding.start() < at:
            continue  # inside a part already hidden
        if count % _CHECK_EVERY == 0:
            budget.check()
        parts.append(page[at : hiding.start()])
        if hiding.group(1) is None:
            close = page.find("-->", hiding.end())
            at = -1 if close < 0 else close + 3
        else:
            end = _HIDING_END[hiding.group(1).lower()].search(page, hiding.end())
            at = -1 if end is None else end.end()
        if at < 0:
            return parts  # never closed: the rest of the page is inside it
    parts.append(page[at:])
    return parts
