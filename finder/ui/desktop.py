"""Acting on a result through the desktop: open it, show it in the file manager, copy
its path. Never touches the file itself."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

from finder.core.types import display_path

Opener = Callable[[QUrl], object]  # QDesktopServices.openUrl, or a test's recorder


def open_file(path: str, opener: Opener) -> bool:
    """Open it with its default application; False when it is no longer there."""
    if not Path(path).exists():
        return False
    opener(file_url(path))
    return True


def reveal(path: str, opener: Opener) -> None:
    """Select it in the file manager (else open its folder)."""
    if sys.platform == "darwin":
        subprocess.Popen(["open", "-R", path])
    elif sys.platform == "win32":
        subprocess.Popen(["explorer", "/select,", path])
    elif not _show_in_file_manager(path):
        opener(file_url(str(Path(path).parent)))


def file_url(path: str) -> QUrl:
    """The file's URL by its real name. A name that is not valid UTF-8 (surrogate escapes)
    is sent as its bytes, percent-encoded: QString, hence QUrl.fromLocalFile, would lose
    them."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        quoted = urllib.parse.quote_from_bytes(os.fsencode(os.path.abspath(path)))
        return QUrl.fromEncoded(b"file://" + quoted.encode("ascii"))
    return QUrl.fromLocalFile(path)


def copy_path(path: str) -> None:
    QGuiApplication.clipboard().setText(display_path(path))  # text holds no raw bytes


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
    url = file_url(path).toString(QUrl.ComponentFormattingOption.FullyEncoded)
    reply = iface.call("ShowItems", [url], "")
    return not reply.errorMessage()
