from __future__ import annotations

from pathlib import Path

import pytest

from finder.core.ingest.budget import Budget
from finder.core.ingest.extract import read_document
from finder.core.ingest.html import html_text
from tests.core.ingest.bounded import finishes


def text(page: str) -> str:
    return html_text(page, Budget())


def test_visible_text_only() -> None:
    page = (
        "<!DOCTYPE html><html><head><title>Trip</title><style>p { color: red }</style>"
        "<script>var x = '<p>not text</p>';</script></head><body>"
        "<p>Sunset &amp; boats</p><!-- a comment --><noscript>enable js</noscript>"
        "<template><p>later</p></template><b>bold</b>end a < b</body></html>"
    )
    assert text(page) == "Trip Sunset & boats bold end a < b"


def test_tags_separate_words_and_case_does_not_matter() -> None:
    assert text("sun<b>set</b>") == "sun set"
    assert text("<SCRIPT>hidden</SCRIPT >shown<Style>x</style>") == "shown"


def test_markup_that_never_ends_hides_the_rest() -> None:
    assert text("<p>kept</p> also kept <a href='x") == "kept also kept"
    assert text("before <!-- never closed <p>hidden</p>") == "before"
    assert text("before <script>never closed <p>hidden</p>") == "before"


HOSTILE = {
    "open tags": lambda n: "<a " * (n // 3),
    "open comments": lambda n: "<!--" * (n // 4),
    "closed comments": lambda n: "<!---->x" * (n // 8),
    "nested tags": lambda n: "<div>" * (n // 10) + "deep" + "</div>" * (n // 10),
    "huge attribute": lambda n: '<a title="' + "x" * n + '">hi</a>',
    "open quote": lambda n: '<p>t</p><a title="' + "x>" * (n // 2),
    "script end tags without >": lambda n: "<script>" + "</script " * (n // 9),
    "many scripts": lambda n: "<script></script>" * (n // 17),
    "lone <": lambda n: "a < b " * (n // 6),
    "equals and quotes": lambda n: '<a =" ' * (n // 5),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_markup_is_linear(name: str) -> None:
    # 2 MB; HTMLParser took 45 s on 50 KB of "<a " (quadratic: hours at this size).
    page = HOSTILE[name](2_000_000)
    out = finishes(lambda: html_text(page, Budget()))
    assert len(out) <= len(page)


def test_a_small_html_file_of_open_tags_reads_at_once(tmp_path: Path) -> None:
    path = tmp_path / "a.html"
    path.write_text("<a " * 70_000)  # 210 KB: blocked its folder before
    assert finishes(lambda: read_document(path)) == []


def test_the_text_kept_is_capped() -> None:
    out = html_text("<p>" + "word " * 10_000 + "</p>", Budget(max_chars=100))
    assert 0 < len(out) <= 100
