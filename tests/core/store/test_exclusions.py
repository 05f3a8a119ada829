"""The exclusions table (finder.core.store.exclusions) through the Catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from finder.core.ingest.exclusions import Exclusion, ExclusionError
from finder.core.store.catalog import Catalog


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.db")
    (tmp_path / "photos").mkdir()
    (tmp_path / "work").mkdir()
    catalog.add_root(str(tmp_path / "photos"))
    catalog.add_root(str(tmp_path / "work"))
    return catalog


def test_add_list_remove(catalog: Catalog, tmp_path: Path) -> None:
    photos = str(tmp_path / "photos")
    assert catalog.exclusions() == []
    assert catalog.add_exclusion("node_modules/") == (Exclusion("node_modules"), True)
    assert catalog.add_exclusion("raw", photos) == (Exclusion("raw", photos), True)
    assert catalog.add_exclusion("*.tmp", photos + "/") == (Exclusion("*.tmp", photos), True)
    # Once each: the same pattern again (for every folder too, NULL root) is no new one.
    assert catalog.add_exclusion("node_modules") == (Exclusion("node_modules"), False)
    assert catalog.add_exclusion("raw", photos)[1] is False
    assert catalog.exclusions() == [
        Exclusion("node_modules"),
        Exclusion("*.tmp", photos),
        Exclusion("raw", photos),
    ]
    assert catalog.remove_exclusion("raw") is False  # that one is for photos only
    assert catalog.remove_exclusion("raw", photos) is True
    assert catalog.remove_exclusion("raw", photos) is False
    assert catalog.remove_exclusion("node_modules/") is True
    assert catalog.exclusions() == [Exclusion("*.tmp", photos)]


def test_an_absolute_path_is_kept_absolute(catalog: Catalog, tmp_path: Path) -> None:
    private = str(tmp_path / "photos" / "private")
    exclusion, _ = catalog.add_exclusion(private + "/")
    assert exclusion == Exclusion(private)
    assert catalog.excluded_paths().hides(private + "/a.jpg")


def test_errors(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(ExclusionError, match="not a watched folder"):
        catalog.add_exclusion("raw", str(tmp_path / "elsewhere"))
    with pytest.raises(ExclusionError, match="not inside"):
        catalog.add_exclusion(str(tmp_path / "work" / "x"), str(tmp_path / "photos"))
    with pytest.raises(ExclusionError):
        catalog.add_exclusion("  ")
    assert catalog.exclusions() == []


def test_forgetting_a_folder_forgets_its_exclusions(catalog: Catalog, tmp_path: Path) -> None:
    photos = str(tmp_path / "photos")
    catalog.add_exclusion("raw", photos)
    catalog.add_exclusion("tmp")
    root = next(r for r in catalog.roots() if r.path == photos)
    catalog.remove_root(root.id)
    assert catalog.exclusions() == [Exclusion("tmp")]


def test_excluded_paths_know_the_roots(catalog: Catalog, tmp_path: Path) -> None:
    catalog.add_exclusion("2019/raw")
    excluded = catalog.excluded_paths()
    assert excluded.hides(str(tmp_path / "work" / "2019" / "raw" / "a.dng"))
    assert not excluded.hides(str(tmp_path / "work" / "2019" / "a.dng"))
