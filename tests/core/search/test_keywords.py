"""Typed queries -> FTS5 expressions, and how much of a query a file holds (keywords.py)."""

from __future__ import annotations

import pytest

from finder.core.search.keywords import NAME_SHARE, parse


def test_keyword_queries_become_fts_expressions() -> None:
    q = parse('invoice 4471 "due date" Walr')
    assert q.terms == ("invoice", "4471") and q.phrases == (("due", "date"),)
    assert q.prefix == "walr"
    assert q.match_expression() == '"invoice" OR "4471" OR "walr"* OR "due date"'
    assert q.matched("Walrus Ltd invoice_4471.pdf; due date: May") == [
        "invoice",
        "4471",
        "walr",
        "due date",
    ]
    assert parse("the a of").empty and parse("r_d").empty
    assert parse('say "hi"').match_expression() == '"say" OR "hi"'  # quotes are escaped away


def test_rows_with_every_word_come_first_and_common_words_match_names_only() -> None:
    q = parse("invoice 4471 walr")
    assert q.match_all_expression() == '"invoice" AND "4471" AND "walr"*'
    assert parse("invoice").match_all_expression() is None  # one word: the OR pass says it
    assert q.match_expression(names_only={("invoice", False)}, left_out={("walr", True)}) == (
        '{name folder}: "invoice" OR "4471"'
    )
    assert parse("invoice ").match_expression(left_out={("invoice", False)}) == ""
    # Plain ASCII takes a shortcut; text with accents still loses them.
    assert parse("Café Zürich").matched("cafe in ZURICH") == ["cafe", "zurich"]


def test_a_word_counts_fully_in_a_text_and_less_in_a_name() -> None:
    q = parse("a red circle")  # "red", and "circle" as typed so far
    assert q.size == 2
    assert q.weight(["red"], in_text=[]) == pytest.approx(NAME_SHARE / 2)  # red_square.jpg
    assert q.weight(["red"], in_text=["red"]) == pytest.approx(0.5)
    assert q.weight(["red", "circle"], in_text=["red", "circle"]) == 1.0
    assert q.weight(["red", "circle"], in_text=[]) == pytest.approx(NAME_SHARE)
    # Numbers, codes and quoted phrases are exact: they count fully wherever they are.
    invoice = parse('invoice 4471 A7-X "due date" ')  # "x" alone says nothing: left out
    assert invoice.size == 4
    assert invoice.weight(["4471", "a7", "due date"], in_text=[]) == pytest.approx(3 / 4)
    assert invoice.weight(["invoice"], in_text=[]) == pytest.approx(NAME_SHARE / 4)
    assert parse("the of").weight([], in_text=[]) == 0.0
