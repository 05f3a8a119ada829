"""The app icon in each platform's format, drawn from finder/ui/resources/finder.svg at
build time (nothing binary is committed): PNGs (Qt renders the SVG), then a Windows .ico
and a macOS .icns written by Pillow, which writes both on any platform.

    python packaging/make_icons.py OUT_DIR    -> OUT_DIR/finder.ico, finder.icns, finder-*.png

The PyInstaller spec (packaging/finder.spec) calls `make_icons` itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "finder" / "ui" / "resources" / "finder.svg"
# Windows shows 16-48 in lists and 256 in large views; macOS wants 16-1024.
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render_png(svg: Path, size: int, out: Path) -> Path:
    """The SVG drawn at size x size pixels, on a transparent background."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    if QGuiApplication.instance() is None:  # QImage/QPainter need one, even offscreen
        QGuiApplication(["make_icons", "-platform", "offscreen"])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    if not image.save(str(out)):
        raise OSError(f"cannot write {out}")
    return out


def make_icons(out_dir: Path, svg: Path = SVG) -> dict[str, Path]:
    """Writes finder.ico and finder.icns (and the PNGs they are made of) into out_dir."""
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = sorted(set(ICO_SIZES) | set(ICNS_SIZES))
    pngs = {size: render_png(svg, size, out_dir / f"finder-{size}.png") for size in sizes}
    largest = Image.open(pngs[max(sizes)])
    ico = out_dir / "finder.ico"
    largest.save(ico, sizes=[(s, s) for s in ICO_SIZES])
    icns = out_dir / "finder.icns"
    # Pillow's ICNS writer takes the other sizes from append_images.
    largest.save(icns, append_images=[Image.open(pngs[s]) for s in ICNS_SIZES[:-1]])
    return {"ico": ico, "icns": icns, "png": pngs[256]}


if __name__ == "__main__":
    made = make_icons(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "icons")
    for kind, path in made.items():
        print(f"{kind}: {path}")
