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
