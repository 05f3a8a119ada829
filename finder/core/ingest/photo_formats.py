"""Photo formats beyond Pillow's own: HEIC/HEIF (pillow-heif, registered once, on the
first such file), AVIF (Pillow reads it), and camera RAW (rawpy: the embedded JPEG
preview when there is one, else a half-size demosaic). And RAW+JPEG pairs: one shutter
press saved twice (same folder, same name) is one photo; the JPEG is read and shown, the
RAW is its companion.

Both libraries are imported on first use: pillow-heif costs ~0.15 s, rawpy ~0.3 s.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from finder.core.ingest.errors import ExtractError

HEIF_SUFFIXES = frozenset({".heic", ".heif", ".hif"})
AVIF_SUFFIXES = frozenset({".avif"})
RAW_SUFFIXES = frozenset({".cr2", ".cr3", ".nef", ".arw", ".dng", ".raf", ".orf", ".rw2"})
# The file of a RAW+JPEG pair that is read and shown (a camera writes JPEG; a phone that
# keeps RAW beside its HEIC does the same).
SHOWN_SUFFIXES = frozenset({".jpg", ".jpeg", *HEIF_SUFFIXES})
PHOTO_SUFFIXES = HEIF_SUFFIXES | AVIF_SUFFIXES | RAW_SUFFIXES
# rawpy reads a whole file into memory: medium-format RAWs are ~250 MB.
MAX_RAW_BYTES = 400 << 20

_register_lock = threading.Lock()
_heif_registered = False


def open_heif_support() -> None:
    """Teach Pillow HEIC/HEIF (once per process; the opener is then Pillow's own)."""
    global _heif_registered
    if _heif_registered:
        return
    with _register_lock:
        if not _heif_registered:
            try:
                import pillow_heif

                pillow_heif.register_heif_opener()
            except ImportError as exc:  # a broken install: one clear reason per file
                raise ExtractError("HEIC/HEIF support is not installed (pillow-heif)") from exc
            _heif_registered = True


def is_raw(path: Path | str) -> bool:
    return Path(path).suffix.lower() in RAW_SUFFIXES


def needs_heif(path: Path | str) -> bool:
    return Path(path).suffix.lower() in HEIF_SUFFIXES


# -- camera RAW ------------------------------------------------------------------------


def open_raw(path: Path | str, max_pixels: int) -> Image.Image:
    """A RAW file's picture: its embedded JPEG preview (what the camera showed), else a
    half-size demosaic. ExtractError saying why it cannot be read; a sensor larger than
    `max_pixels` is refused before demosaicing."""
    try:
        import rawpy
    except ImportError as exc:
        raise ExtractError("camera RAW support is not installed (rawpy)") from exc
    if os.path.getsize(path) > MAX_RAW_BYTES:
        raise ExtractError(f"RAW file too large (the limit is {MAX_RAW_BYTES >> 20} MB)")
    try:
        # Opened here, so a missing or unreadable file is the caller's usual OSError.
        with open(path, "rb") as f, rawpy.imread(f) as raw:
            preview = _preview(raw, rawpy)
            if preview is not None:
                return preview
            width, height = int(raw.sizes.width), int(raw.sizes.height)
            if width * height > max_pixels:
                raise ExtractError(
                    f"RAW image too large ({width}x{height} pixels; "
                    f"the limit is {max_pixels // 1_000_000} megapixels)"
                )
            pixels = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
            return Image.fromarray(pixels).convert("RGB")
    except ExtractError:
        raise
    except rawpy.LibRawFileUnsupportedError as exc:
        raise ExtractError("not a readable camera RAW file (unknown or corrupt format)") from exc
    except (rawpy.LibRawError, ValueError) as exc:
        raise ExtractError(f"corrupt or truncated camera RAW file ({exc})") from exc


def _preview(raw: Any, rawpy: Any) -> Image.Image | None:
    """The embedded preview, decoded; None when there is none (or it is unreadable)."""
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    except rawpy.LibRawError:
        return None  # a damaged preview: the sensor data may still be good
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            with Image.open(io.BytesIO(thumb.data)) as img:
                img.load()
                return ImageOps.exif_transpose(img).convert("RGB")
        if thumb.format == rawpy.ThumbFormat.BITMAP:
            return Image.fromarray(thumb.data).convert("RGB")
    except (OSError, ValueError, SyntaxError):
        return None
    return None


# -- RAW+JPEG pairs ----------------------------------------------------------------------


def paired_raws(paths: Iterable[str]) -> set[str]:
    """The RAW files among `paths` (one folder's files) that have a shown file beside them
    with the same name: not indexed on their own."""
    shown: set[tuple[str, str]] = set()
    raws: list[tuple[str, str, str]] = []
    for path in paths:
        folder, name = os.path.split(path)
        stem, suffix = os.path.splitext(name)
        suffix = suffix.lower()
        if suffix in SHOWN_SUFFIXES:
            shown.add((folder, stem.lower()))
        elif suffix in RAW_SUFFIXES:
            raws.append((path, folder, stem.lower()))
    return {path for path, folder, stem in raws if (folder, stem) in shown}


def shown_partner(raw_path: str) -> str | None:
    """The file shown for a RAW file of a pair (the JPEG beside it), or None."""
    return _sibling(raw_path, SHOWN_SUFFIXES)


def raw_companion(shown_path: str) -> str | None:
    """The RAW file beside a JPEG/HEIC of the same name (its pair), or None."""
    if Path(shown_path).suffix.lower() not in SHOWN_SUFFIXES:
        return None
    return _sibling(shown_path, RAW_SUFFIXES)


def _sibling(path: str, suffixes: frozenset[str]) -> str | None:
    """A file beside `path` with the same stem and one of `suffixes` (any case): a few
    stats, no folder listing (a folder may hold thousands of photos)."""
    stem = os.path.splitext(path)[0]
    for suffix in sorted(suffixes):
        for candidate in (stem + suffix, stem + suffix.upper()):
            if os.path.isfile(candidate):
                return candidate
    return None
