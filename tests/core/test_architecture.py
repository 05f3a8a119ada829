"""finder.core runs headless: importing all of it must not pull in Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import finder.core

CORE = Path(finder.core.__file__).parent


def test_core_imports_no_qt() -> None:
    modules = [m.name for m in pkgutil.walk_packages([str(CORE)], "finder.core.")]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "import finder.cli\n"
        "qt = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', "
        "'shiboken6')]\n"
        "print(','.join(qt))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    assert len(modules) >= 8


def test_core_source_never_mentions_qt_imports() -> None:
    for source in CORE.rglob("*.py"):
        for line in source.read_text().splitlines():
            stripped = line.strip()
            assert not stripped.startswith(
                ("import PySide", "from PySide", "import PyQt", "from PyQt")
            ), f"{source}: {line}"


def test_importing_the_cli_does_not_load_torch() -> None:
    # Heavy things load lazily: `finder status` and the app window must not wait for torch.
    script = (
        "import sys, finder.cli; print(*(name in sys.modules for name in ('torch', "
        "'open_clip', 'onnxruntime', 'rapidocr_onnxruntime', 'cv2')))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"] * 5
