"""User settings of the desktop app: a small versioned JSON file in the config dir."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from finder import paths

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
SETTINGS_FILE = "settings.json"


@dataclass
class Settings:
    model: str | None = None  # None: FINDER_MODEL, else the default model
    pretrained: str | None = None
    last_query: str = ""
    search_kind: str = "all"
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    query_history: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, directory: Path | None = None) -> Settings:
        path = (directory or paths.config_dir()) / SETTINGS_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable settings %s: %s", path, exc)
            return cls()
        if not isinstance(raw, dict) or raw.get("version", 0) > SETTINGS_VERSION:
            log.warning("ignoring settings %s written by a newer finder", path)
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def save(self, directory: Path | None = None) -> None:
        folder = directory or paths.config_dir()
        path = folder / SETTINGS_FILE
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(
                json.dumps({"version": SETTINGS_VERSION, **asdict(self)}, indent=2),
                encoding="utf-8",
            )
            os.replace(tmp, path)
        except OSError as exc:  # settings are a convenience: never fail the app over them
            log.warning("cannot save settings %s: %s", path, exc)
