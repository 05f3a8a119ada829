"""The perceptual fingerprint: stable under resizing and recompression, apart for other
pictures (other colours, other shapes)."""

from __future__ import annotations

import io

from PIL import Image

from finder.core.ingest.perceptual import (
    Fingerprint,
    colour_distance,
    fingerprint,
    hash_distance,
)
from finder.core.search.near import NearRule
from tests.helpers import draw_photo


def _reloaded(img: Image.Image, fmt: str, **options: object) -> Image.Image:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _picture(tmp_path, colour: str = "red", shape: str = "circle") -> Image.Image:
    return Image.open(draw_photo(tmp_path / f"{colour}-{shape}.png", colour, shape=shape))


def test_copies_keep_the_fingerprint(tmp_path) -> None:
    original = _picture(tmp_path)
    copies = [
        original.resize((160, 120), Image.Resampling.LANCZOS),
        _reloaded(original, "JPEG", quality=40),
        _reloaded(original.resize((640, 480)), "PNG"),
    ]
    rule = NearRule()
    for copy in copies:
        a, b = fingerprint(original), fingerprint(copy)
        assert hash_distance(a, b) <= rule.copy_bits
        assert colour_distance(a, b) <= rule.copy_colour


def test_other_colours_and_shapes_are_far_in_colour(tmp_path) -> None:
    red = fingerprint(_picture(tmp_path, "red"))
    rule = NearRule()
    for other in (
        fingerprint(_picture(tmp_path, "blue")),
        fingerprint(_picture(tmp_path, "green")),
        fingerprint(_picture(tmp_path, "red", "rectangle")),
    ):
        assert colour_distance(red, other) > rule.copy_colour


def test_text_round_trip_and_malformed_text() -> None:
    print_ = Fingerprint(0xF0F0_0000_1234_ABCD, bytes(range(48)))
    assert Fingerprint.parse(print_.text()) == print_
    assert len(print_.text()) == 16 + 96
    assert Fingerprint.parse(None) is None
    assert Fingerprint.parse("") is None
    assert Fingerprint.parse("zz" * 56) is None
    assert Fingerprint.parse("00") is None


def test_any_mode_and_size(tmp_path) -> None:
    grey = Image.new("L", (3, 2), 128)
    palette = Image.new("P", (50, 1000))
    assert fingerprint(grey).dhash == 0
    assert len(fingerprint(palette).colours) == 48
