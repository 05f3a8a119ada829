"""The base install without torch (issue #19), end to end: tools/check_torch_free.sh makes
a fresh virtual environment, `pip install .` (not editable, no extras), checks torch is
absent, `finder --version` and the icon, and indexes and searches with a model folder
written by `finder models export`. Minutes and a package index: run it with
FINDER_TEST_TORCH_FREE=1."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("FINDER_TEST_TORCH_FREE") != "1",
    reason="builds a fresh venv (minutes, needs a package index): FINDER_TEST_TORCH_FREE=1",
)
def test_the_base_install_indexes_and_searches_without_torch(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(ROOT / "tools" / "check_torch_free.sh"), str(tmp_path / "venv")],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "ok: torch is not installed" in done.stdout and "PASS" in done.stdout
