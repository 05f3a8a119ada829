"""Photos with the metadata cameras and phones write (EXIF dates and offset, GPS, make
and model, description; XMP keywords), made with Pillow / pillow-heif for the tests."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw, TiffImagePlugin

from finder.core.ingest.photo_formats import open_heif_support

LISBON = (38.72, -9.14)
PARIS = (48.8566, 2.3522)
TOKYO = (35.6895, 139.6917)


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction((value - degrees - minutes / 60) * 3600).limit_denominator(10000)
    return (
        TiffImagePlugin.IFDRational(degrees, 1),
        TiffImagePlugin.IFDRational(minutes, 1),
        TiffImagePlugin.IFDRational(seconds.numerator, seconds.denominator),
    )


def exif_for(
    taken: str | None = "2019:07:14 10:11:12",
    offset: str | None = None,
    gps: tuple[float, float] | None = None,
    make: str | None = None,
    model: str | None = None,
    description: str | None = None,
    *,
    only_datetime: bool = False,
) -> Image.Exif:
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if description:
        exif[0x010E] = description
    if taken and only_datetime:
        exif[0x0132] = taken
    elif taken:
        details = exif.get_ifd(0x8769)
        details[0x9003] = taken
        if offset:
            details[0x9011] = offset
    if gps is not None:
        lat, lon = gps
        exif[0x8825] = {
            1: "N" if lat >= 0 else "S",
            2: _dms(lat),
            3: "E" if lon >= 0 else "W",
            4: _dms(lon),
        }
    return exif


def write_photo(
    path: Path,
    color: str = "red",
    exif: Image.Exif | None = None,
    size: tuple[int, int] = (320, 240),
    xmp: bytes | None = None,
    seed: int | None = None,
) -> Path:
    """A coloured circle (JPEG, HEIC, PNG... by the suffix) carrying `exif`; with `seed`,
    random boxes around it, so that photos of different seeds are not near-duplicates."""
    if path.suffix.lower() in (".heic", ".heif"):
        open_heif_support()
    img = Image.new("RGB", size, (235, 235, 225))
    w, h = size
    draw = ImageDraw.Draw(img)
    if seed is not None:
        rng = random.Random(seed)
        for _ in range(12):
            x, y = rng.randrange(w), rng.randrange(h)
            shade = tuple(rng.randrange(256) for _ in range(3))
            draw.rectangle(
                (x, y, x + rng.randrange(20, w // 2), y + rng.randrange(20, h // 2)), fill=shade
            )
    draw.ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=color)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, object] = {}
    if exif is not None:
        extra["exif"] = exif.tobytes()
    if xmp is not None:
        extra["xmp"] = xmp
    img.save(path, **extra)
    return path


def xmp_packet(title: str, keywords: list[str]) -> bytes:
    items = "".join(f"<rdf:li>{k}</rdf:li>" for k in keywords)
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description rdf:about="">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()
