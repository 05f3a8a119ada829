"""An installed wheel has what the app loads at run time (its icon is package data)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import finder
from finder import app

ROOT = Path(__file__).resolve().parent.parent


def test_the_icon_lives_inside_the_package_and_is_shipped_as_package_data() -> None:
    icon = app.RESOURCES / "finder.svg"
    assert icon.is_file()
    package = Path(finder.__file__).resolve().parent
    assert icon.resolve().is_relative_to(package)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = config["tool"]["setuptools"]["package-data"]["finder.ui"]
    assert any(icon.match(f"finder/ui/{pattern}") for pattern in shipped)
