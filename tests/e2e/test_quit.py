"""Quitting the real app (a child process, tests/e2e/quit_child.py) in every state it can
be in: exit status 0, nothing on stderr, and the process gone soon after the window
closes (issue #16 item 1: `Fatal Python error: bool_dealloc` and a 7.8 s wait)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import TINY_CONFIG, draw_photo, write_pdf, write_text

REPO = Path(__file__).resolve().parents[2]
# The offscreen platform's own notices when a dialog is sized or raised; not finder's.
OFFSCREEN_NOTICES = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)
# The app ends itself within QUIT_WITHIN_MS (0.7 s) of the window closing (0.75 s, and
# gone at 1.3 s, measured on an idle machine); the margins are for a test machine busy
# with other work. Before the fix it lingered 8 to 46 s.
EXITS_WITHIN_S = 3.0
GONE_WITHIN_S = 6.0
# torch's ONNX exporter warns though export.py silences it: warnings.catch_warnings is
# not thread-safe, and indexing runs beside the export. Known, harmless; core's to fix.
EXPORTER_WARNING = ("torch/onnx/", "return opset9.index(")

STATES = ["loading", "idle", "export", "search", "paste", "indexing", "ocr", "compare"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("Pictures")
    colors = ["red", "green", "blue", "orange"]
    for i in range(60):
        draw_photo(root / f"photo-{i}.jpg", colors[i % 4], shape=("circle", "square")[i % 2])
    write_text(root / "receipt.txt", "receipt from the hardware store: nails, glue")
    write_pdf(root / "tax.pdf", ["tax return 2023", "second page"])
    return root


def quit_in(state: str, folder: Path, home: Path) -> tuple[int, str, list[dict], float]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "FINDER_DATA_DIR": str(home / "finder-data"),
        "FINDER_MODEL": str(TINY_CONFIG),
        "FINDER_PRETRAINED": "none",
        "HF_HUB_OFFLINE": "1",
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.quit_child", state, str(folder)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = child.communicate(timeout=240)
    ended = time.monotonic()  # the same clock as the child's (CLOCK_MONOTONIC)
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    closing = [e["t"] for e in events if e["event"] == "closing"]
    assert closing, f"{state}: the window was never closed: {out}\n{err}"
    return child.returncode, err, events, ended - closing[0]


def finder_stderr(err: str) -> str:
    return "\n".join(
        line
        for line in err.splitlines()
        if line.strip()
        and line not in OFFSCREEN_NOTICES
        and not any(part in line for part in EXPORTER_WARNING)
    )


# Ten quits: every state once, and twice the states where the crash was reported (after a
# search, after pasting an image). Each quit is a fresh app process (~15 s on 2 busy cores).
QUITS = [(state, 1) for state in STATES] + [("search", 2), ("paste", 2)]


@pytest.mark.parametrize(("state", "run"), QUITS)
def test_quit_is_clean_and_quick(state: str, run: int, folder: Path, tmp_path: Path) -> None:
    status, err, events, lingered = quit_in(state, folder, tmp_path)
    names = [e["event"] for e in events]
    assert status == 0, f"{state}: exit status {status}\n{err}"
    assert finder_stderr(err) == "", f"{state}: stderr:\n{err}"
    assert "timeout" not in names, f"{state}: the app did not quit: {names}"
    exited = [e["t"] for e in events if e["event"] == "exit"]
    closed = [e["t"] for e in events if e["event"] == "closing"]
    assert exited and exited[0] - closed[0] < EXITS_WITHIN_S, f"{state}: {events}"
    assert lingered < GONE_WITHIN_S, f"{state}: gone {lingered:.1f} s after the window closed"
