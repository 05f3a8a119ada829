"""Acting on a result through the desktop: open it, show it in the file manager, copy
its path. Never touches the file itself."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

Opener = Callable[[QUrl], object]  # QDesktopServices.openUrl, or a test's recorder


def open_file(path: str, opener: Opener) -> bool:
    """Open it with its default application; False when it is no longer there."""
    if not Path(path).exists():
        return False
    opener(QUrl.fromLocalFile(path))
    return True


def reveal(path: str, opener: Opener) -> None:
    """Select it in the file manager (else open its folder)."""
    if sys.platform == "darwin":
        subprocess.Popen(["open", "-R", path])
    elif sys.platform == "win32":
        subprocess.Popen(["explorer", "/select,", path])
    elif not _show_in_file_manager(path):
        opener(QUrl.fromLocalFile(str(Path(path).parent)))


def copy_path(path: str) -> None:
    QGuiApplication.clipboard().setText(path)


def _show_in_file_manager(path: str) -> bool:
    """Ask the desktop's file manager to select the file (freedesktop FileManager1)."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusInterface
    except ImportError:
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    iface = QDBusInterface(
        "org.freedesktop.FileManager1",
        "/org/freedesktop/FileManager1",
        "org.freedesktop.FileManager1",
        bus,
    )
    if not iface.isValid():
        return False
    reply = iface.call("ShowItems", [QUrl.fromLocalFile(path).toString()], "")
    return not reply.errorMessage()
