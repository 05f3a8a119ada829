"""How the image tower is best run on this CPU: images/s and CPU per image of one ONNX
image tower for several ways of running it, interleaved round after round.

A way is THREADSxRUNSxROWS[p]: ONNX Runtime intra-op threads per session run, runs side
by side (Python threads sharing one session), images per run; a trailing "p" keeps ONNX
Runtime's prepacked copy of the weights (finder turns it off for the image tower).
finder's default on a 2-core machine is 1x2x4 (finder/core/models/parallel_runs.py);
ONNX Runtime's usual is 2x1x32.

    python bench/tower_runs.py --model DATA_DIR/precision/*/visual-int8.onnx
    python bench/tower_runs.py --model M.onnx --ways 2x1x32,1x2x16,1x2x8,1x2x4,1x2x2
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any

import numpy as np
from _common import emit, machine


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="an image tower .onnx (fp32 or int8)")
    p.add_argument("--ways", default="2x1x32,1x2x16,1x2x8,1x2x4")
    p.add_argument("--seconds", type=float, default=8.0, help="per way and round")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--side", type=int, default=224, help="the tower's input side")
    args = p.parse_args()
    ways = [way(w) for w in args.ways.split(",")]
    figures: dict[str, list[dict[str, float]]] = {w: [] for w in args.ways.split(",")}
    for _ in range(args.rounds):
        for name, (threads, runs, rows, prepack) in zip(figures, ways, strict=True):
            figures[name].append(
                measure(args.model, threads, runs, rows, prepack, args.side, args.seconds)
            )
    emit(
        {
            "benchmark": "tower_runs",
            "machine": machine(),
            "model": args.model,
            "method": "median over rounds; ways interleaved",
            "images_per_s": {n: median(f, "images_per_s") for n, f in figures.items()},
            "cpu_ms_per_image": {n: median(f, "cpu_ms_per_image") for n, f in figures.items()},
            "each_round": figures,
        }
    )


def way(text: str) -> tuple[int, int, int, bool]:
    threads, runs, rows = text.rstrip("p").split("x")
    return int(threads), int(runs), int(rows), text.endswith("p")


def measure(
    model: str, threads: int, runs: int, rows: int, prepack: bool, side: int, seconds: float
) -> dict[str, float]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if not prepack:
        options.add_session_config_entry("session.disable_prepacking", "1")
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    batch = np.random.default_rng(0).random((rows, 3, side, side), dtype=np.float32)
    session.run(None, {name: batch})  # warm
    done = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def work() -> None:
        while time.perf_counter() < stop:
            session.run(None, {name: batch})
            with lock:
                done[0] += rows

    started, cpu = time.perf_counter(), time.process_time()
    workers = [threading.Thread(target=work) for _ in range(runs)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "images_per_s": round(done[0] / wall, 1),
        "cpu_ms_per_image": round(cpu / done[0] * 1000, 1),
    }


def median(rounds: list[dict[str, float]], key: str) -> Any:
    return round(statistics.median(r[key] for r in rounds), 1)


if __name__ == "__main__":
    main()
