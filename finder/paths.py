"""Where finder keeps its own data. Never inside the user's folders."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "finder"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data dir: explicit override, then $FINDER_DATA_DIR, then the per-user data dir."""
    chosen = override or os.environ.get("FINDER_DATA_DIR")
    if chosen:
        return Path(chosen).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def not_a_folder(path: Path) -> str:
    """Why `path` cannot be a data dir ("" when it can): a file in its place."""
    if path.exists() and not path.is_dir():
        return (
            f"{path} is a file, not a folder: --data-dir (or FINDER_DATA_DIR) must name a "
            "folder finder can keep its index in"
        )
    return ""
