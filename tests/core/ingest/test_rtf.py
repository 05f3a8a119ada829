from __future__ import annotations

from pathlib import Path

import pytest
from striprtf.striprtf import rtf_to_text

from finder.core.ingest.budget import Budget
from finder.core.ingest.errors import ExtractError
from finder.core.ingest.extract import read_document
from finder.core.ingest.rtf import rtf_text
from tests.core.ingest.bounded import finishes

ORDINARY = [
    r"{\rtf1\ansi\f0 Memo about {\b tulips}.\par}",
    r"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0\fswiss\fcharset0 Arial;}{\f1\fcharset204 Times;}}"
    r"{\colortbl;\red0\green0\blue0;}\f0 Caf\'e9 cr\'e8me\par \f1 \'cf\'f0\'e8\'e2\'e5\'f2\par"
    r"\uc1\u8364?uro\tab end\line x\~y}",
    r"{\rtf1{\*\generator Riched20;}{\info{\title T}}Hello {\field{\*\fldinst HYPERLINK x}"
    r"{\fldrslt link}} world\par\pard\plain\fs20 \bullet  item\par}after the end",
]


@pytest.mark.parametrize("rtf", ORDINARY)
def test_the_same_text_as_striprtf(rtf: str) -> None:
    assert rtf_text(rtf, Budget()) == rtf_to_text(rtf, errors="ignore")


def test_characters_past_the_basic_plane_and_binary_data() -> None:
    # \u gives UTF-16 halves for an emoji; \binN is N bytes of data, braces included.
    rtf = r"{\rtf1 smile \u-10179?\u-8704? {\pict\bin4 }{}x}done}"
    assert rtf_text(rtf, Budget()) == "smile \U0001f600 done"


def test_not_rtf_and_over_budget() -> None:
    with pytest.raises(ExtractError, match="not an RTF document"):
        rtf_text("plain words", Budget())
    with pytest.raises(ExtractError, match="took longer than"):
        rtf_text("{\\rtf1 " + "{x}" * 10_000 + "}", Budget(seconds=-1))
    assert len(rtf_text("{\\rtf1 " + "word " * 1000 + "}", Budget(max_chars=50))) == 50


HOSTILE = {
    # striprtf took 16 s on 40 KB of font table and 2 s on 40 KB of field starts
    # (quadratic regexes on one line): minutes at these sizes.
    "font table": lambda: "{\\rtf1{\\fonttbl" + "\\f1 " * 25_000 + "}}",
    "field starts": lambda: "{\\rtf1 " + "{\\field{\\*\\fldinst{" * 20_000 + "}",
    "open groups": lambda: "{\\rtf1 " + "{x" * 200_000,
    "groups": lambda: "{\\rtf1 " + "{x}" * 130_000 + "}",
    "bytes": lambda: "{\\rtf1 " + "\\'e9" * 100_000 + "}",
    "formatting": lambda: "{\\rtf1 " + "\\b\\i0\\fs20 " * 30_000 + "}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_rtf_is_linear(tmp_path: Path, name: str) -> None:
    path = tmp_path / "hostile.rtf"
    path.write_text(HOSTILE[name]())
    finishes(lambda: read_document(path), within_s=60)
