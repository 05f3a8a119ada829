"""Where a torch model runs: the GPU torch offers (providers.torch_device: cuda, then mps),
else the CPU. When the GPU cannot take the model or a run on it fails (CUDA out of
memory, a driver error, an operator mps lacks), the model moves to the CPU for good,
logged once, as providers.FallbackSession does for ONNX Runtime: a GPU problem costs
speed, never the index. A machine without a GPU never leaves the CPU path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from finder.core.models.providers import Device, short_reason, torch_device

log = logging.getLogger(__name__)

CPU = "cpu"
T = TypeVar("T")


def torch_label(torch: Any, device: str) -> str:
    """A torch device in words, as `finder status` shows it."""
    if device == "cuda":
        rocm = getattr(getattr(torch, "version", None), "hip", None)
        return "the AMD GPU (ROCm)" if rocm else "the NVIDIA GPU (CUDA)"
    if device == "mps":
        return "the Apple GPU (mps)"
    return Device().name if device == CPU else f"torch's {device} device"


class TorchPlacement:
    """One model's device: chosen when the model is placed, the CPU for good after the
    GPU fails once. `device`: None chooses (cuda, mps, cpu); "cpu" keeps it on the CPU.
    `choose` picks the device from the torch module (tests pass a fake)."""

    def __init__(
        self, device: str | None = None, choose: Callable[[Any], str] = torch_device
    ) -> None:
        self._wanted = device
        self._choose = choose
        self._lock = threading.Lock()
        self.current: str | None = None  # the device the model is on, once placed
        self._label = Device().name
        self.fell_back = ""  # why the model left the GPU ("" while it has not)

    def planned(self, torch: Any) -> str:
        """The device a model placed now would go to."""
        if self.fell_back:
            return CPU
        return self._wanted or self._choose(torch)

    def describe(self, torch: Any | None) -> Device:
        """Where the model runs (where it would, before it is placed; the CPU without torch)."""
        if self.current is not None:
            device = self.current
        else:
            device = CPU if torch is None else self.planned(torch)
        name = self._label if self.current is not None else torch_label(torch, device)
        return Device(name, self.fell_back, device != CPU)

    def place(self, torch: Any, model: Any, rebuild: Callable[[], Any]) -> Any:
        """`model` (built on the CPU) on the chosen device; on the CPU when the GPU cannot
        take it (moved back, or `rebuild` on the CPU when the GPU cannot give it back)."""
        device = self.planned(torch)
        if device != CPU:
            try:
                placed = model.to(device)
            except Exception as exc:  # noqa: BLE001 - driver and memory errors have many types
                self._leave_gpu(torch_label(torch, device), exc)
                try:
                    model = model.to(CPU)  # what had moved comes back
                except Exception:  # noqa: BLE001 - a GPU in a broken state keeps it
                    model = rebuild()
            else:
                self.current, self._label = device, torch_label(torch, device)
                return placed
        self.current, self._label = CPU, torch_label(torch, CPU)
        return model

    def run(self, work: Callable[[str], T], to_cpu: Callable[[], None]) -> T:
        """`work(device)` on the model's device. When it fails on the GPU, `to_cpu` moves
        the model to the CPU (once, whichever thread saw the failure first) and the work
        runs again there; a failure on the CPU is the caller's."""
        device = self.current or CPU
        try:
            return work(device)
        except Exception as exc:  # noqa: BLE001 - driver and memory errors have many types
            if device == CPU:
                raise
            with self._lock:
                if self.current == device:
                    self._leave_gpu(self._label, exc)
                    to_cpu()
                    self.current, self._label = CPU, Device().name
        return work(CPU)

    def settle_on_cpu(self, to_cpu: Callable[[], None]) -> None:
        """The model on the CPU for good without a failure (the ONNX export traces it
        there; the exported model takes over from it)."""
        with self._lock:
            self._wanted = CPU  # first: a model built again in to_cpu stays on the CPU
            if self.current not in (None, CPU):
                to_cpu()
            self.current, self._label = CPU, Device().name

    def _leave_gpu(self, gpu: str, exc: Exception) -> None:
        log.warning("the model on %s failed (%s): it runs on the CPU from now on", gpu, exc)
        self.fell_back = f"{gpu} failed: {short_reason(exc)}"
