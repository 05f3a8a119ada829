"""Time from launch to the window on screen and to the model ready; memory when idle.

Each run starts a fresh Python process that builds the real app (finder.app.build)
with a fresh data dir, shows the window and waits for the model, the way `finder`
does; the parent measures wall time from before the process starts. Prints JSON.

    python bench/startup.py                     # ViT-B-32, random weights (timing only)
    python bench/startup.py --runs 5 --model tests/models/tiny-random.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import bench_embedder, emit, machine

CHILD = r"""
import json, os, sys, time
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

def say(event, **extra):
    print(json.dumps({"event": event, **extra}), flush=True)

app = QApplication(sys.argv[:1])
from finder.app import build
from finder.config import Settings
from finder.ui.controller import ModelPhase

window, controller, _ = build(Settings(model=sys.argv[1], pretrained=sys.argv[2]),
                              Path(sys.argv[3]))
window.show()
QTimer.singleShot(0, lambda: say("window_shown"))

def rss_mb():
    with open("/proc/self/statm") as f:
        return round(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)

def after_an_image():
    # What indexing or an image query adds (ONNX Runtime loads the image tower then).
    from PIL import Image
    embedder = controller.library.embedder
    embedder.encode_images([embedder.preprocess(Image.new("RGB", (640, 480), "gray"))])
    say("after_image", rss_mb=rss_mb(), torch="torch" in sys.modules)
    window.close()
    app.quit()

def on_state(state, message):
    say("model_" + state.value, message=message)
    QTimer.singleShot(1500, lambda: (say("idle", rss_mb=rss_mb()), after_an_image()))

controller.model_phase_changed.connect(on_state)
QTimer.singleShot(0, controller.start)
app.exec()
"""


def one_run(model: str, pretrained: str, backend: str, export: Path | None) -> dict[str, Any]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "FINDER_BACKEND": backend,
    }  # torch: no background export during the run
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as data:
        env["XDG_CONFIG_HOME"] = str(Path(data) / "config")  # no settings of the user's
        if export is not None:  # the model as exported before, shared by every run
            (Path(data) / "onnx").symlink_to(export / "onnx")
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, model, pretrained, data],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=root,
        )
        out: dict[str, Any] = {}
        assert child.stdout is not None
        for line in child.stdout:
            event = json.loads(line)
            at = round((time.perf_counter() - started) * 1000)
            if event["event"] == "window_shown":
                out["window_shown_ms"] = at
            elif event["event"].startswith("model_"):
                out["model_" + ("ready_ms" if event["event"] == "model_ready" else "failed")] = (
                    at if event["event"] == "model_ready" else event["message"]
                )
            elif event["event"] == "idle":
                out["idle_rss_mb"] = event["rss_mb"]
            elif event["event"] == "after_image":
                out["after_an_image_rss_mb"] = event["rss_mb"]
                out["torch_imported"] = event["torch"]
        child.wait(timeout=120)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="ViT-B-32")
    parser.add_argument("--pretrained", default="none")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--backend",
        default="torch",
        help="torch | onnx (the model exported once before the runs, as a second start finds it)",
    )
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "finder-bench"))
    args = parser.parse_args()
    export = None
    runtime: dict[str, Any] = {"backend": "torch"}
    if args.backend == "onnx":
        from finder.core.models.spec import resolve_model_spec

        _, runtime = bench_embedder(
            resolve_model_spec(args.model, args.pretrained), "fp32", "onnx", Path(args.workdir)
        )
        export = Path(args.workdir) / "export-data"
    runs = [one_run(args.model, args.pretrained, args.backend, export) for _ in range(args.runs)]
    summary: dict[str, Any] = {
        "benchmark": "startup",
        "machine": machine(),
        "runtime": runtime,
        "model": f"{args.model} ({args.pretrained})",
        "runs": runs,
    }
    for key in ("window_shown_ms", "model_ready_ms", "idle_rss_mb", "after_an_image_rss_mb"):
        values = sorted(r[key] for r in runs if key in r)
        if values:
            summary[f"median_{key}"] = values[len(values) // 2]
    emit(summary)


if __name__ == "__main__":
    main()
