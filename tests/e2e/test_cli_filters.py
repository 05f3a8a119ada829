"""`finder search --after/--before/--place/--camera/--folder/--sort`, end to end on photos
with EXIF dates and GPS positions of real cities (JPEG and HEIC), on a fresh data dir."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from finder.cli.filter_flags import add_filter_flags, filters_from_args, first_day, last_day
from finder.core.search.filters import Filters, Sort
from tests.e2e.test_cli import run_cli
from tests.exif_photos import LISBON, PARIS, TOKYO, exif_for, write_photo
from tests.helpers import TINY_CONFIG


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cli-filters")
    photos = tmp / "Pictures"
    write_photo(
        photos / "lisbon.jpg",
        "red",
        exif_for("2019:07:14 10:11:12", "+01:00", LISBON, "Canon", "Canon EOS R5"),
        seed=1,
    )
    write_photo(
        photos / "summer" / "paris.heic",
        "red",
        exif_for("2021:08:05 18:00:00", "+02:00", PARIS, "Apple", "iPhone 13"),
        seed=2,
    )
    write_photo(photos / "tokyo.jpg", "blue", exif_for("2018:03:01 09:00:00", None, TOKYO), seed=3)
    plain = write_photo(photos / "plain.png", "red", seed=4)
    os.utime(plain, (1_270_000_000, 1_270_000_000))  # 2010, from the file
    data = tmp / "data"
    code, out, err = run_cli("index", str(photos), data_dir=data)
    assert code == 0 and "4 added" in out, (out, err)
    return photos, data


def search(data: Path, *flags: str) -> list[dict[str, object]]:
    code, out, err = run_cli("search", "a red circle", "--json", "-k", "10", *flags, data_dir=data)
    assert code == 0, err
    results: list[dict[str, object]] = json.loads(out)
    return results


def names(results: list[dict[str, object]]) -> set[str]:
    return {Path(str(r["path"])).name for r in results}


def test_dates(indexed: tuple[Path, Path]) -> None:
    _, data = indexed
    assert names(search(data, "--after", "2019", "--before", "2019")) == {"lisbon.jpg"}
    assert names(search(data, "--after", "2019-07-14", "--before", "2019-07-14")) == {"lisbon.jpg"}
    assert names(search(data, "--after", "2019-08")) == {"paris.heic"}
    assert names(search(data, "--before", "2018-12")) == {"tokyo.jpg", "plain.png"}
    assert names(search(data, "--after", "2018", "--before", "2021")) == {
        "lisbon.jpg",
        "paris.heic",
        "tokyo.jpg",
    }
    assert search(data, "--after", "2030") == []


def test_place_camera_folder(indexed: tuple[Path, Path]) -> None:
    photos, data = indexed
    assert names(search(data, "--place", "Lisbon")) == {"lisbon.jpg"}
    assert names(search(data, "--place", "portugal")) == {"lisbon.jpg"}
    assert names(search(data, "--place", "France", "--after", "2021")) == {"paris.heic"}
    assert names(search(data, "--camera", "canon")) == {"lisbon.jpg"}
    assert names(search(data, "--folder", str(photos / "summer"))) == {"paris.heic"}


def test_json_fields_and_date_sort(indexed: tuple[Path, Path]) -> None:
    _, data = indexed
    newest = search(data, "--sort", "date")
    assert [Path(str(r["path"])).name for r in newest] == [
        "paris.heic",
        "lisbon.jpg",
        "tokyo.jpg",
        "plain.png",
    ]
    assert [Path(str(r["path"])).name for r in search(data, "--sort", "date-asc")] == [
        "plain.png",
        "tokyo.jpg",
        "lisbon.jpg",
        "paris.heic",
    ]
    by_name = {Path(str(r["path"])).name: r for r in newest}
    lisbon = by_name["lisbon.jpg"]
    assert lisbon["taken"] == "2019-07-14T10:11:12+01:00" and lisbon["taken_source"] == "exif"
    assert lisbon["place"] == "Lisbon, Portugal" and lisbon["camera"] == "Canon EOS R5"
    assert by_name["paris.heic"]["place"] == "Paris, France"
    assert by_name["paris.heic"]["camera"] == "Apple iPhone 13"
    assert by_name["tokyo.jpg"]["taken"] == "2018-03-01T09:00:00"
    plain = by_name["plain.png"]
    assert plain["taken_source"] == "file" and str(plain["taken"]).startswith("2010-03-3")
    assert "place" not in plain and "camera" not in plain


@pytest.mark.parametrize("flag, value", [("--after", "2019-13"), ("--before", "yesterday")])
def test_a_bad_date_is_a_usage_error(
    indexed: tuple[Path, Path], flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, data = indexed
    code, _, _ = run_cli("search", "x", flag, value, data_dir=data)
    assert code == 2 and "is not a date" in capsys.readouterr().err  # (argparse's own stderr)


def test_finder_command_end_to_end(indexed: tuple[Path, Path]) -> None:
    """The installed command line, as a person (or a script) runs it."""
    _, data = indexed
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "finder",
            "search",
            "a red circle",
            "--data-dir",
            str(data),
            "--model",
            str(TINY_CONFIG),
            "--pretrained",
            "none",
            "--place",
            "Lisbon",
            "--after",
            "2019",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [Path(r["path"]).name for r in results] == ["lisbon.jpg"]
    assert results[0]["place"] == "Lisbon, Portugal"


def test_text_output_shows_date_place_and_camera(indexed: tuple[Path, Path]) -> None:
    _, data = indexed
    code, out, err = run_cli("search", "a red circle", "--place", "lisbon", data_dir=data)
    assert code == 0, err
    assert "lisbon.jpg" in out and "2019-07-14 \u00b7 Lisbon, Portugal \u00b7 Canon EOS R5" in out


def test_periods_and_flags_to_filters() -> None:
    assert first_day("2019") == date(2019, 1, 1) and last_day("2019") == date(2019, 12, 31)
    assert first_day("2020-02") == date(2020, 2, 1) and last_day("2020-02") == date(2020, 2, 29)
    assert last_day("2021-02") == date(2021, 2, 28) and last_day("2021-2-3") == date(2021, 2, 3)
    for bad in ("19", "2019-00", "2019-02-30", "last year"):
        with pytest.raises(argparse.ArgumentTypeError):
            first_day(bad)
    parser = argparse.ArgumentParser()
    add_filter_flags(parser)
    args = parser.parse_args(["--after", "2019", "--place", "  new   york ", "--sort", "date"])
    filters = filters_from_args(args)
    assert filters.after == date(2019, 1, 1) and filters.before is None
    assert filters.place == "new york" and filters.sort is Sort.DATE
    assert filters_from_args(parser.parse_args([])) == Filters()
