"""finder's settings, read at the edge and passed in: the environment (the only place
that reads FINDER_* and the Hugging Face variables) and the desktop app's user settings
(a small versioned JSON file in the config dir)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from finder import paths
from finder.core.models.weights import DEFAULT_ENDPOINT, Hub

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
SETTINGS_FILE = "settings.json"


# Values of a yes/no variable that mean yes (huggingface_hub's own list).
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class Environment:
    """What the environment says about the model. None: not set (a flag or the built-in
    default decides). A command-line flag wins over these; they win over the defaults."""

    model: str | None = None  # FINDER_MODEL
    pretrained: str | None = None  # FINDER_PRETRAINED
    precision: str | None = None  # FINDER_PRECISION
    backend: str | None = None  # FINDER_BACKEND
    hub: Hub = field(default_factory=Hub)  # HF_ENDPOINT, HF_HUB_CACHE..., HF_HUB_OFFLINE

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Environment:
        return cls(
            model=environ.get("FINDER_MODEL") or None,
            pretrained=environ.get("FINDER_PRETRAINED") or None,
            precision=environ.get("FINDER_PRECISION") or None,
            backend=environ.get("FINDER_BACKEND") or None,
            hub=hub_from_environ(environ),
        )


def hub_from_environ(environ: Mapping[str, str]) -> Hub:
    """The Hugging Face hub and cache as huggingface_hub itself reads them."""
    if environ.get("HF_HUB_CACHE"):
        cache = Path(environ["HF_HUB_CACHE"])
    else:
        home = environ.get("HF_HOME") or os.path.join(
            environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface"
        )
        cache = Path(home) / "hub"
    return Hub(
        endpoint=(environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/"),
        cache_dir=cache,
        offline=environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE,
    )


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
