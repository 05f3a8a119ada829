"""Metadata read at index time: dates (EXIF with offset, other EXIF dates, the document's,
the file's), GPS and its place name offline, camera, size, the author's words."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from PIL import Image

from finder.core.ingest.document_dates import parse_pdf_date
from finder.core.ingest.metadata import camera_name, read_metadata
from finder.core.ingest.places import Gazetteer
from finder.core.types import FileKind
from tests.core.ingest.raw_fixture import write_dng
from tests.exif_photos import LISBON, PARIS, TOKYO, exif_for, write_photo, xmp_packet
from tests.helpers import draw_photo, write_docx, write_pdf, write_text


def meta_of(path: Path, kind: FileKind = FileKind.PHOTO):  # type: ignore[no-untyped-def]
    return read_metadata(str(path), kind, os.stat(path).st_mtime_ns)


def test_exif_date_with_offset_gps_place_camera_and_words(tmp_path: Path) -> None:
    path = write_photo(
        tmp_path / "tram.jpg",
        exif=exif_for(
            "2019:07:14 10:11:12",
            offset="+01:00",
            gps=LISBON,
            make="Canon",
            model="Canon EOS R5",
            description="Tram 28 going up",
        ),
        xmp=xmp_packet("Alfama at dusk", ["tram", "yellow"]),
    )
    meta = meta_of(path)
    assert meta.taken == "2019-07-14T10:11:12+01:00"
    assert meta.taken_source == "exif"
    assert meta.taken_utc == 1563095472.0  # 09:11:12 UTC
    assert meta.lat is not None and meta.lon is not None
    assert abs(meta.lat - 38.72) < 1e-3 and abs(meta.lon + 9.14) < 1e-3
    assert meta.place == "Lisbon, Portugal"
    assert meta.camera == "Canon EOS R5"
    assert (meta.width, meta.height) == (320, 240)
    for word in ("Tram 28 going up", "Alfama at dusk", "tram", "yellow"):
        assert word in meta.words


def test_heic_from_pillow_heif_keeps_its_exif(tmp_path: Path) -> None:
    path = write_photo(
        tmp_path / "IMG_0001.HEIC",
        exif=exif_for("2021:03:05 18:00:00", gps=TOKYO, make="Apple", model="iPhone 13"),
    )
    meta = meta_of(path)
    assert meta.taken == "2021-03-05T18:00:00"  # no offset written: local time as is
    assert meta.place == "Tokyo, Japan"
    assert meta.camera == "Apple iPhone 13"


def test_date_fallbacks(tmp_path: Path) -> None:
    only_datetime = write_photo(
        tmp_path / "a.jpg", exif=exif_for("2015:01:02 03:04:05", only_datetime=True)
    )
    assert meta_of(only_datetime).taken == "2015-01-02T03:04:05"
    assert meta_of(only_datetime).taken_source == "exif"
    bare = draw_photo(tmp_path / "bare.png")
    os.utime(bare, (1_600_000_000, 1_600_000_000))
    meta = meta_of(bare)
    assert meta.taken_source == "file" and meta.taken_utc == 1_600_000_000
    assert meta.taken is not None and meta.taken.startswith("2020-09-1")
    assert meta.lat is None and meta.place is None and meta.camera is None
    broken = write_photo(tmp_path / "zero.jpg", exif=exif_for("0000:00:00 00:00:00"))
    assert meta_of(broken).taken_source == "file"


def test_unreadable_or_missing_files_get_their_mtime(tmp_path: Path) -> None:
    noise = tmp_path / "noise.jpg"
    noise.write_bytes(b"not a picture at all")
    assert meta_of(noise).taken_source == "file"
    meta = read_metadata(str(tmp_path / "gone.jpg"), FileKind.PHOTO, 10**18)
    assert meta.taken_source == "file" and meta.taken_utc == 1e9
    raw = write_dng(tmp_path / "shot.dng")
    assert meta_of(raw).taken_source == "file"


def test_turned_photo_has_its_upright_size(tmp_path: Path) -> None:
    exif = exif_for()
    exif[0x0112] = 6
    meta = meta_of(write_photo(tmp_path / "turned.jpg", exif=exif, size=(400, 300)))
    assert meta.orientation == 6 and (meta.width, meta.height) == (300, 400)


def test_raw_companion_of_a_pair(tmp_path: Path) -> None:
    jpeg = write_photo(tmp_path / "DSC_0042.JPG", exif=exif_for())
    raw = write_dng(tmp_path / "DSC_0042.dng")
    assert meta_of(jpeg).companion == str(raw)


def test_camera_names() -> None:
    assert camera_name("Canon", "Canon EOS 5D Mark IV") == "Canon EOS 5D Mark IV"
    assert camera_name("NIKON CORPORATION", "NIKON D750") == "NIKON D750"
    assert camera_name("Apple", "iPhone 13 Pro") == "Apple iPhone 13 Pro"
    assert camera_name("FUJIFILM\x00", "X-T4  ") == "FUJIFILM X-T4"
    assert camera_name(None, None) is None
    assert camera_name("Sony", None) == "Sony"


def test_gazetteer_places_cities_and_not_the_open_sea() -> None:
    gazetteer = Gazetteer()
    assert gazetteer.place(*PARIS) == "Paris, France"
    assert gazetteer.place(*LISBON) == "Lisbon, Portugal"
    assert gazetteer.place(-30.0, -140.0) is None  # the middle of the Pacific
    # A big city's districts are named after the city, as people remember them.
    assert gazetteer.place(52.52, 13.405) == "Berlin, Germany"  # not "Mitte"
    assert gazetteer.place(41.3851, 2.1734) == "Barcelona, Spain"  # not "Ciutat Vella"
    assert gazetteer.place(35.6762, 139.6503) == "Tokyo, Japan"  # not one of its wards
    assert gazetteer.place(38.8029, -9.3817) == "Sintra, Portugal"  # 25 km from Lisbon
    assert gazetteer.place(-23.5505, -46.6333) == "Sao Paulo, Brazil"  # as GeoNames spells
    assert gazetteer.place(47.3769, 8.5417) == "Zurich, Switzerland"  # its cities


def test_document_dates(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plain.pdf", ["hello"])
    assert meta_of(pdf, FileKind.DOCUMENT).taken_source == "file"  # no info dictionary
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(pdf).pages:
        writer.add_page(page)
    writer.add_metadata({"/CreationDate": "D:20180305101500+02'00'"})
    dated = tmp_path / "dated.pdf"
    with open(dated, "wb") as f:
        writer.write(f)
    meta = meta_of(dated, FileKind.DOCUMENT)
    assert meta.taken == "2018-03-05T10:15:00+02:00" and meta.taken_source == "document"
    docx = write_docx(tmp_path / "letter.docx", ["Dear you"])
    with zipfile.ZipFile(docx, "a") as z:
        z.writestr(
            "docProps/core.xml",
            '<cp:coreProperties xmlns:cp="x" xmlns:dcterms="http://purl.org/dc/terms/">'
            '<dcterms:created xsi:type="dcterms:W3CDTF">2017-11-20T08:30:00Z</dcterms:created>'
            "</cp:coreProperties>",
        )
    meta = meta_of(docx, FileKind.DOCUMENT)
    assert meta.taken == "2017-11-20T08:30:00+00:00" and meta.taken_source == "document"
    note = write_text(tmp_path / "note.txt", "a note")
    assert meta_of(note, FileKind.DOCUMENT).taken_source == "file"


def test_pdf_date_forms() -> None:
    assert str(parse_pdf_date("D:2019")) == "2019-01-01 00:00:00"
    assert str(parse_pdf_date("D:20190714101112Z")) == "2019-07-14 10:11:12+00:00"
    assert str(parse_pdf_date("D:20190714101112-05'00'")) == "2019-07-14 10:11:12-05:00"
    assert parse_pdf_date("yesterday") is None
    assert parse_pdf_date("D:20191345") is None


def test_camera_boilerplate_is_not_a_description(tmp_path: Path) -> None:
    exif = exif_for(description="OLYMPUS DIGITAL CAMERA")
    assert meta_of(write_photo(tmp_path / "o.jpg", exif=exif)).words == ""
    img = Image.new("RGB", (8, 8))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00sunset over the river"
    img.save(tmp_path / "c.jpg", exif=exif.tobytes())
    assert meta_of(tmp_path / "c.jpg").words == "sunset over the river"


def test_a_photo_s_bytes_already_read_give_the_same_metadata(tmp_path: Path) -> None:
    exif = exif_for("2019:07:14 10:11:12", offset="+01:00", gps=LISBON, make="Canon")
    path = write_photo(tmp_path / "tram.jpg", exif=exif, xmp=xmp_packet("Alfama", ["tram"]))
    stat = path.stat()
    from_path = read_metadata(str(path), FileKind.PHOTO, stat.st_mtime_ns)
    from_bytes = read_metadata(str(path), FileKind.PHOTO, stat.st_mtime_ns, data=path.read_bytes())
    assert from_bytes == from_path and from_bytes.place == "Lisbon, Portugal"
