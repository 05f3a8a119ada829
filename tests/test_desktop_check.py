"""The desktop pre-flight: no display, or missing X libraries, is said in words, not a Qt abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from finder import desktop_check

LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibQt6Core.so.6 => /x/libQt6Core.so.6 (0x00007f)
"""


def test_no_display_says_how_to_use_the_command_line() -> None:
    problem = desktop_check.check(environ={}, platform="linux")
    assert problem is not None
    assert "no display" in problem.message
    assert "finder search" in problem.message


def test_missing_x_libraries_are_named_with_the_packages_to_install() -> None:
    problem = desktop_check.check(
        environ={"DISPLAY": ":0"},
        platform="linux",
        plugin_files=[Path("libqxcb.so")],
        ldd=lambda _: LDD_MISSING,
        find_library=lambda _: None,
    )
    assert problem is not None
    assert "libxcb-icccm.so.4" in problem.message
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0" in problem.message


def test_a_complete_system_passes() -> None:
    assert (
        desktop_check.check(
            environ={"DISPLAY": ":0"},
            platform="linux",
            plugin_files=[Path("libqxcb.so")],
            ldd=lambda _: "\tlibQt6Core.so.6 => /x/libQt6Core.so.6\n",
            find_library=lambda name: f"lib{name}.so.0",
        )
        is None
    )


def test_offscreen_wayland_and_other_systems_are_not_checked() -> None:
    assert desktop_check.check(environ={"QT_QPA_PLATFORM": "offscreen"}, platform="linux") is None
    assert desktop_check.check(environ={"WAYLAND_DISPLAY": "wayland-0"}, platform="linux") is None
    assert desktop_check.check(environ={}, platform="darwin") is None


def test_unknown_libraries_get_debian_style_package_names() -> None:
    assert desktop_check.install_hint(["libxcb-foo.so.2"]) == "sudo apt-get install libxcb-foo2"


def test_finder_without_a_display_says_so_instead_of_aborting_in_qt() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        [sys.executable, "-m", "finder"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "no display found" in done.stderr
    assert "finder search" in done.stderr
