"""The bundle's sources in packaging/ (issue #19 item 4): the desktop entry, its install for
the user, the PyInstaller spec, the icons drawn for Windows and macOS. The bundle itself is
never built here (minutes); its smoke test runs only where `make package` has built it."""

from __future__ import annotations

import ast
import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication

from finder import app

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
BUNDLE = ROOT / "dist" / "finder"


def desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def test_the_desktop_entry_is_well_formed_and_names_the_apps_icon() -> None:
    entry = desktop_entry(PACKAGING / "finder.desktop")
    assert entry["Type"] == "Application"
    assert entry["Name"] == "finder"
    assert entry["Exec"] and entry["TryExec"]
    assert (app.RESOURCES / f"{entry['Icon']}.svg").is_file()
    assert entry["Categories"].endswith(";") and entry["Keywords"].endswith(";")
    assert entry["Terminal"] == "false"
    # The window's WM class is the app's desktop file name (app.create_application).
    assert entry["StartupWMClass"] == "finder"


@pytest.mark.skipif(sys.platform == "win32", reason="XDG desktops")
def test_install_desktop_puts_the_entry_and_icon_where_xdg_looks_and_uninstall_removes_them(
    tmp_path: Path,
) -> None:
    data = tmp_path / "share"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    exe = tmp_path / "my apps" / "finder"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    script = str(PACKAGING / "desktop.sh")
    subprocess.run(["sh", script, "install", str(exe)], env=env, check=True, capture_output=True)
    entry = data / "applications" / "finder.desktop"
    icon = data / "icons" / "hicolor" / "scalable" / "apps" / "finder.svg"
    assert icon.read_bytes() == (app.RESOURCES / "finder.svg").read_bytes()
    installed = desktop_entry(entry)
    assert installed["Exec"] == f'"{exe}"'  # quoted: the path has a space
    assert installed["TryExec"] == str(exe)
    assert installed["Icon"] == "finder"

    subprocess.run(["sh", script, "uninstall"], env=env, check=True, capture_output=True)
    assert not entry.exists() and not icon.exists()

    missing = subprocess.run(
        ["sh", script, "install", str(tmp_path / "nothing")], env=env, capture_output=True
    )
    assert missing.returncode != 0 and not entry.exists()


def test_the_spec_leaves_torch_out_and_starts_finders_main() -> None:
    source = (PACKAGING / "finder.spec").read_text(encoding="utf-8")
    tree = ast.parse(source)  # PyInstaller executes it as Python
    excludes = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "EXCLUDES" for t in node.targets)
    )
    excluded = set(ast.literal_eval(excludes))
    assert {"torch", "torchvision", "open_clip", "timm", "onnx"} <= excluded
    entry = (PACKAGING / "finder_entry.py").read_text(encoding="utf-8")
    assert "from finder.__main__ import main" in entry
    for icon in ("ico", "icns"):
        assert f'icons["{icon}"]' in source


def test_the_windows_and_macos_icons_are_drawn_from_the_svg(
    tmp_path: Path, qapp: QApplication
) -> None:
    # qapp: make_icons draws with the process's QApplication (pytest-qt's); left to
    # itself it would make a QGuiApplication, on which later widget tests abort.
    sys.path.insert(0, str(PACKAGING))
    try:
        from make_icons import ICNS_SIZES, ICO_SIZES, make_icons
    finally:
        sys.path.remove(str(PACKAGING))
    made = make_icons(tmp_path)
    ico = Image.open(made["ico"])
    assert ico.format == "ICO"
    assert {(s, s) for s in ICO_SIZES} <= set(ico.info["sizes"])
    icns = Image.open(made["icns"])
    assert icns.format == "ICNS"
    assert icns.size == (max(ICNS_SIZES), max(ICNS_SIZES))
    # Drawn, not blank: the icon's blue frame is there.
    png = Image.open(made["png"]).convert("RGBA")
    assert png.getextrema()[3][1] == 255


@pytest.mark.slow
@pytest.mark.skipif(
    not (BUNDLE / "finder").is_file(), reason="no bundle: `make package` builds dist/finder"
)
def test_the_built_bundle_passes_its_smoke_test() -> None:
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "smoke_test.py"), str(BUNDLE)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout + done.stderr
