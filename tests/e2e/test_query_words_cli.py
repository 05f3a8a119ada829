"""`finder search` understands when and where in the typed words (issue #17 item 4):
--parse shows it without searching or a model, --literal turns it off, and the results
are narrowed by it (photos with EXIF dates and GPS positions the tests write)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import run_cli
from tests.exif_photos import exif_for, write_photo

LISBON, PARIS = (38.7223, -9.1393), (48.8566, 2.3522)


def parse(*args: str, data: Path) -> dict[str, object]:
    code, out, err = run_cli("search", *args, "--parse", data_dir=data)
    assert code == 0, err
    parsed: dict[str, object] = json.loads(out)
    assert set(parsed) == {"meaning", "after", "before", "place", "kind", "exclude"}
    return parsed


def test_parse_needs_no_model_and_no_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert parse("a red circle 2019", data=data) == {
        "meaning": "a red circle",
        "after": "2019-01-01",
        "before": "2019-12-31",
        "place": None,
        "kind": None,
        "exclude": [],
    }
    assert parse("in Lisbon", data=data)["place"] == "Lisbon"  # the world's places
    got = parse("at the beach in Portugal summer 2019 -dogs", data=data)
    assert (got["meaning"], got["place"], got["after"], got["before"], got["exclude"]) == (
        "at the beach",
        "Portugal",
        "2019-06-01",
        "2019-08-31",
        ["dogs"],
    )
    assert parse("screenshots without people", data=data)["kind"] == "photos"
    assert parse("pdfs 2018-2020", data=data)["kind"] == "docs"


def test_flags_win_and_literal_reads_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    got = parse("beach 2019 -dogs", "--after", "2019-06", data=data)
    assert (got["after"], got["before"], got["exclude"]) == ("2019-06-01", "2019-12-31", ["dogs"])
    got = parse("beach screenshots", "--kind", "docs", data=data)
    assert got["kind"] == "docs"
    assert parse("tax return 2023", "--kind", "docs", data=data)["meaning"] == "tax return 2023"
    assert parse("a red circle 2019 in Lisbon -dogs", "--literal", data=data) == {
        "meaning": "a red circle 2019 in Lisbon -dogs",
        "after": None,
        "before": None,
        "place": None,
        "kind": None,
        "exclude": [],
    }
    code, _, err = run_cli("search", "--image", "x.png", "--parse", data_dir=data)
    assert code == 2 and "--parse" in err


@pytest.fixture
def dated(tmp_path: Path) -> Path:
    photos, data = tmp_path / "Photos", tmp_path / "data"
    write_photo(photos / "IMG_0001.jpg", "red", exif_for("2019:07:14 10:00:00", gps=LISBON))
    write_photo(photos / "IMG_0002.jpg", "red", exif_for("2021:03:02 10:00:00", gps=PARIS))
    write_photo(photos / "IMG_0003.jpg", "blue", exif_for("2019:12:30 10:00:00", gps=PARIS))
    code, _, err = run_cli("index", str(photos), "--no-ocr", data_dir=data)
    assert code == 0, err
    return data


def _names(data: Path, *args: str) -> set[str]:
    code, out, err = run_cli("search", *args, "--json", "--all", "-k", "10", data_dir=data)
    assert code == 0, err
    results = json.loads(out)
    assert isinstance(results, list)  # the results JSON keeps its shape
    return {Path(r["path"]).name for r in results}


def test_typed_words_narrow_the_search(dated: Path) -> None:
    assert _names(dated, "a red circle 2019") == {"IMG_0001.jpg", "IMG_0003.jpg"}
    assert _names(dated, "in Lisbon") == {"IMG_0001.jpg"}
    assert _names(dated, "a red circle in lisbon") == {"IMG_0001.jpg"}  # the library's place
    assert _names(dated, "march 2021") == {"IMG_0002.jpg"}
    assert _names(dated, "a circle from 2018 to 2020 in Paris") == {"IMG_0003.jpg"}
    assert _names(dated, "a red circle 2019", "--literal") == {
        "IMG_0001.jpg",
        "IMG_0002.jpg",
        "IMG_0003.jpg",
    }
    assert _names(dated, "a red circle -dogs") == {"IMG_0001.jpg", "IMG_0002.jpg", "IMG_0003.jpg"}
