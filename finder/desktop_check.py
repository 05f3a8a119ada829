"""Can the desktop app start here? Checked before Qt is touched, because a missing display
or a missing X library makes Qt abort the process (exit 134) with a message people cannot act
on. No Qt import here: `make run` and `finder` call this first.
"""

from __future__ import annotations

import ctypes.util
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Shared libraries Qt's X11 platform plugin needs, and the Debian/Ubuntu package of each.
# libxcb-cursor is loaded at run time (dlopen), so ldd does not list it: it is checked by name.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}
DLOPENED = ("libxcb-cursor.so.0",)
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.M)


@dataclass(frozen=True)
class DesktopProblem:
    """Why the window cannot open here, in words a person can act on."""

    message: str


def missing_x11_libraries(
    plugin_files: list[Path],
    ldd: Callable[[Path], str] | None = None,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> list[str]:
    """The shared libraries (sonames) the X11 platform plugin needs and cannot find."""
    ldd = ldd or _ldd
    missing: list[str] = []
    for plugin in plugin_files:
        for name in _NOT_FOUND.findall(ldd(plugin)):
            if name not in missing:
                missing.append(name)
    for soname in DLOPENED:
        stem = soname.removeprefix("lib").split(".so")[0]
        if find_library(stem) is None and soname not in missing:
            missing.append(soname)
    return missing


def install_hint(missing: list[str]) -> str:
    packages = [DEBIAN_PACKAGES.get(name, _guess_package(name)) for name in missing]
    return "sudo apt-get install " + " ".join(dict.fromkeys(packages))


def check(
    environ: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    plugin_files: list[Path] | None = None,
    ldd: Callable[[Path], str] | None = None,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> DesktopProblem | None:
    """None when the window can open; otherwise what is wrong and what to do."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen and not chosen.startswith("xcb"):
        return None  # offscreen, wayland, vnc...: Qt's own choice, not X11
    if not chosen and env.get("WAYLAND_DISPLAY"):
        return None
    if not env.get("DISPLAY"):
        return DesktopProblem(
            "finder: no display found (DISPLAY is not set), so the window cannot open.\n"
            "Start it from a desktop session, or use the command line: "
            '`finder index FOLDER`, `finder search "a dog on a beach"`, `finder --help`.'
        )
    plugins = _x11_plugin_files() if plugin_files is None else plugin_files
    missing = missing_x11_libraries(plugins, ldd, find_library)
    if missing:
        return DesktopProblem(
            "finder: Qt's X11 support needs libraries this system lacks: "
            + ", ".join(missing)
            + ".\nInstall them with:  "
            + install_hint(missing)
        )
    return None


def _x11_plugin_files() -> list[Path]:
    try:
        import PySide6  # only its location: loading Qt itself is what may abort
    except ImportError:
        return []
    qt = Path(PySide6.__file__).parent / "Qt"
    files = [
        qt / "plugins" / "platforms" / "libqxcb.so",
        *sorted((qt / "lib").glob("libQt6XcbQpa.so*")),
    ]
    return [f for f in files if f.exists()]


def _ldd(path: Path) -> str:
    try:
        done = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""  # no ldd (musl, macOS): let Qt say what it needs
    return done.stdout


def _guess_package(soname: str) -> str:
    # libfoo-bar.so.4 -> libfoo-bar4 (Debian's naming for most X libraries)
    stem, _, version = soname.partition(".so.")
    return stem + (version.split(".")[0] if version else "")


def main() -> int:
    """`python -m finder.desktop_check`: the same check, alone (`finder` runs it first)."""
    problem = check()
    if problem is None:
        return 0
    print(problem.message, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
