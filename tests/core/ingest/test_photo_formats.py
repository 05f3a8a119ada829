"""HEIC/HEIF, AVIF and camera RAW: decoded like any photo, hostile ones refused with a
reason; a RAW+JPEG pair from one shutter press is one photo."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from PIL import Image

from finder.core.ingest.extract import ExtractError, kind_of, load_image
from finder.core.ingest.photo_formats import (
    RAW_SUFFIXES,
    open_heif_support,
    paired_raws,
    raw_companion,
    shown_partner,
)
from finder.core.ingest.scanner import scan, scan_subtree
from finder.core.library import Library
from finder.core.types import FileKind, FileStatus
from tests.core.ingest.raw_fixture import write_dng
from tests.helpers import draw_photo


def write_heic(path: Path, color: str = "red", size: tuple[int, int] = (96, 64)) -> Path:
    open_heif_support()
    Image.new("RGB", size, color).save(path, quality=90)
    return path


def test_heic_and_avif_are_photos_and_decode(tmp_path: Path) -> None:
    heic = write_heic(tmp_path / "IMG_0001.HEIC")
    avif = tmp_path / "pic.avif"
    Image.new("RGB", (96, 64), "blue").save(avif)
    for path in (heic, avif, tmp_path / "x.heif", tmp_path / "y.dng", tmp_path / "z.CR3"):
        assert kind_of(path) is FileKind.PHOTO
    red = load_image(heic)
    assert red.size == (96, 64)
    r, g, b = red.getpixel((10, 10))
    assert r > 200 and g < 60 and b < 60
    r, g, b = load_image(avif).getpixel((10, 10))
    assert b > 200 and r < 60


def test_heic_turned_upright(tmp_path: Path) -> None:
    open_heif_support()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees to display
    path = tmp_path / "turned.heic"
    Image.new("RGB", (80, 40), "red").save(path, exif=exif.tobytes())
    assert load_image(path).size == (40, 80)


def test_raw_dng_decodes_by_half_size_demosaic(tmp_path: Path) -> None:
    picture = load_image(write_dng(tmp_path / "shot.dng", 64, 48))
    assert picture.size == (32, 24)  # no embedded preview: half size
    r, g, b = picture.getpixel((5, 5))
    assert r > 200 and g < 80


@pytest.mark.parametrize("suffix", sorted({".heic", ".heif", ".avif", *RAW_SUFFIXES}))
def test_random_bytes_with_a_photo_extension_are_a_clear_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(random.Random(suffix).randbytes(65536))
    with pytest.raises(ExtractError, match="not a readable|corrupt or truncated"):
        load_image(path)


@pytest.mark.parametrize("name", ["cut.heic", "cut.avif", "cut.dng"])
def test_truncated_new_formats_are_a_clear_error(tmp_path: Path, name: str) -> None:
    whole = tmp_path / ("whole" + Path(name).suffix)
    if name.endswith(".heic"):
        write_heic(whole, size=(640, 480))
    elif name.endswith(".avif"):
        Image.effect_noise((640, 480), 64).convert("RGB").save(whole)
    else:
        write_dng(whole, 256, 192)
    data = whole.read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(ExtractError, match="not a readable|corrupt or truncated"):
        load_image(tmp_path / name)


def test_a_raw_file_that_vanished_is_the_usual_error(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="vanished"):
        load_image(tmp_path / "gone.nef")


def test_raw_jpeg_pairs(tmp_path: Path) -> None:
    jpeg = draw_photo(tmp_path / "DSC_0042.JPG", "red")
    raw = write_dng(tmp_path / "DSC_0042.dng")
    alone = write_dng(tmp_path / "DSC_0043.NEF")
    heic = write_heic(tmp_path / "IMG_7.heic")
    heic_raw = write_dng(tmp_path / "IMG_7.DNG")
    other_folder = tmp_path / "sub"
    other_folder.mkdir()
    write_dng(other_folder / "DSC_0042.dng")  # same name, another folder: not a pair
    assert paired_raws(map(str, (jpeg, raw, alone, heic, heic_raw))) == {str(raw), str(heic_raw)}
    found = {Path(f.path).relative_to(tmp_path).as_posix() for f in scan(tmp_path)}
    assert found == {"DSC_0042.JPG", "DSC_0043.NEF", "IMG_7.heic", "sub/DSC_0042.dng"}
    assert list(scan_subtree(tmp_path, raw)) == []  # a watcher's event for the RAW alone
    assert [f.path for f in scan_subtree(tmp_path, alone)] == [str(alone)]
    assert raw_companion(str(jpeg)) == str(raw)
    assert raw_companion(str(heic)) == str(heic_raw)
    assert raw_companion(str(alone)) is None
    assert shown_partner(str(raw)) == str(jpeg)
    assert shown_partner(str(alone)) is None


def test_a_raw_too_big_to_hold_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from finder.core.ingest import photo_formats

    path = write_dng(tmp_path / "big.dng")
    monkeypatch.setattr(photo_formats, "MAX_RAW_BYTES", 100)
    with pytest.raises(ExtractError, match="too large"):
        load_image(path)
    assert os.path.exists(path)


def test_index_records_each_hostile_new_format_and_keeps_the_good_ones(
    library: Library, tmp_path: Path
) -> None:
    root = tmp_path / "Photos"
    root.mkdir()
    good = [write_heic(root / "good.heic"), write_dng(root / "alone.dng")]
    Image.new("RGB", (96, 64), "green").save(root / "good.avif")
    good.append(root / "good.avif")
    data = good[0].read_bytes()
    (root / "cut.heic").write_bytes(data[: len(data) // 2])
    for suffix in (".heic", ".avif", ".cr2", ".nef", ".arw"):
        # (each its own name: noise.heic beside noise.nef would be a RAW+HEIC pair)
        (root / f"noise-{suffix[1:]}{suffix}").write_bytes(random.Random(suffix).randbytes(4096))
    library.add_folder(root)
    report = library.index()
    reasons = {Path(e.path).name: e.reason for e in report.errors}
    assert set(reasons) == {
        "cut.heic",
        *(f"noise-{s}.{s}" for s in ("heic", "avif", "cr2", "nef", "arw")),
    }
    assert all("not a readable" in r or "corrupt or truncated" in r for r in reasons.values())
    for path in good:
        record = library._catalog.file_by_path(str(path))
        assert record is not None and record.status is FileStatus.OK, path
