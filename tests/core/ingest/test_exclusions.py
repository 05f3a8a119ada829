"""What an exclusion pattern leaves out (finder.core.ingest.exclusions): pure."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from finder.core.ingest.exclusions import (
    ExcludedPaths,
    Exclusion,
    ExclusionError,
    normalise,
)

ROOT = "/photos"
OTHER = "/work"


def left_out(patterns: list[Exclusion], path: str, root: str = ROOT) -> bool:
    return ExcludedPaths(patterns, [ROOT, OTHER]).excludes(path, root)


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        # a name or glob: at any depth, a folder with all below it, any case
        ("node_modules", "/photos/site/node_modules/a/b.png", True),
        ("node_modules", "/photos/site/node_modules", True),
        ("node_modules", "/photos/site/node_modules_old/b.png", False),
        ("*.tmp", "/photos/a/b.tmp", True),
        ("*.tmp", "/photos/a.tmp/b.png", True),  # a folder of that name
        ("*.tmp", "/photos/a/b.png", False),
        ("screenshots", "/photos/2019/Screenshots/s.png", True),
        ("Private*", "/photos/private stuff/x.jpg", True),
        ("draft?", "/photos/draft1.pdf", False),  # the name is draft1.pdf
        ("draft?.pdf", "/photos/draft1.pdf", True),
        # a relative path or glob: below the watched folder
        ("2019/raw", "/photos/2019/raw/x.dng", True),
        ("2019/raw", "/photos/2019/x.dng", False),
        ("2019/raw", "/photos/old/2019/raw/x.dng", False),
        ("*/cache", "/photos/a/b/cache/x.png", True),  # "*" crosses "/"
        ("clients/*/invoices", "/photos/clients/acme/invoices/1.pdf", True),
        ("clients/*/invoices", "/photos/clients/acme/quotes/1.pdf", False),
        # an absolute path: that folder or file
        ("/photos/private", "/photos/private/a.jpg", True),
        ("/photos/private", "/photos/private", True),
        ("/photos/private", "/photos/private2/a.jpg", False),
        ("/photos/a.jpg", "/photos/a.jpg", True),
        ("/photos/a.jpg", "/photos/a.jpeg", False),
    ],
)
def test_patterns(pattern: str, path: str, excluded: bool) -> None:
    assert left_out([Exclusion(normalise(pattern))], path) is excluded


def test_an_exclusion_for_one_folder_leaves_the_others_alone() -> None:
    only_photos = [Exclusion("tmp", ROOT)]
    assert left_out(only_photos, "/photos/tmp/a.png")
    assert not left_out(only_photos, "/work/tmp/a.png", OTHER)
    everywhere = [Exclusion("tmp")]
    assert left_out(everywhere, "/work/tmp/a.png", OTHER)


def test_a_relative_pattern_for_one_folder_is_below_it() -> None:
    patterns = [Exclusion("raw", "/photos/2019")]  # a folder inside a watched one
    assert left_out(patterns, "/photos/2019/raw/a.dng")
    assert not left_out(patterns, "/photos/2020/raw/a.dng")


def test_paths_outside_the_root_and_no_exclusions() -> None:
    assert not left_out([Exclusion("a.png")], "/elsewhere/a.png")
    assert not ExcludedPaths().excludes("/photos/a.png", ROOT)
    assert not ExcludedPaths()
    assert ExcludedPaths([Exclusion("x")])


def test_hides_finds_the_root() -> None:
    excluded = ExcludedPaths([Exclusion("2019/raw")], [ROOT, OTHER])
    assert excluded.hides("/photos/2019/raw/a.dng")
    assert excluded.hides("/work/2019/raw/a.dng")
    assert not excluded.hides("/photos/2019/a.dng")
    assert not excluded.hides("/elsewhere/2019/raw/a.dng")


@dataclass(frozen=True)
class Found:
    path: str


def test_kept_and_visible() -> None:
    excluded = ExcludedPaths([Exclusion("secret")], [ROOT])
    found = [Found("/photos/a.png"), Found("/photos/secret/b.png"), Found("/photos/c/d.png")]
    assert list(excluded.kept(found, ROOT)) == [found[0], found[2]]
    rows = {1: found[0], 2: found[1]}
    assert excluded.visible(rows) == {1: found[0]}
    assert ExcludedPaths().visible(rows) is rows


def test_entry_rule_for_a_pruning_walk() -> None:
    excluded = ExcludedPaths([Exclusion("secret", ROOT)], [ROOT, OTHER])
    rule = excluded.entry_rule(ROOT)
    assert rule is not None
    assert rule("/photos/a/secret")
    assert not rule("/photos/a/secret.txt")
    assert excluded.entry_rule(OTHER) is None  # nothing excluded there: no checks


def test_normalise() -> None:
    assert normalise("  node_modules/ ") == "node_modules"
    assert normalise("./2019/raw") == "2019/raw"
    assert normalise("/photos/private/") == "/photos/private"
    assert normalise("/photos/a/../b") == "/photos/b"
    assert normalise("~/x") == os.path.join(os.path.expanduser("~"), "x")
    assert normalise("/photos/private", ROOT) == "/photos/private"
    for bad in ("", "  ", ".", "..", "./"):
        with pytest.raises(ExclusionError):
            normalise(bad)
    with pytest.raises(ExclusionError, match="not inside"):
        normalise("/work/x", ROOT)
