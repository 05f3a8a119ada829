"""Where a torch model runs (torch_placement.py): the GPU torch offers, the CPU for good
after the GPU fails to take the model or to run it. No GPU here: models are fakes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from finder.core.models.providers import CPU_IMAGE_BATCH, GPU_IMAGE_BATCH, Device
from finder.core.models.torch_placement import TorchPlacement, torch_label


def fake_torch(*, cuda: bool = False, mps: bool = False, hip: str | None = None) -> Any:
    return SimpleNamespace(
        cuda=SimpleNamespace(is_available=lambda: cuda),
        backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)),
        version=SimpleNamespace(hip=hip),
    )


class FakeModel:
    """Moves in place, as a torch module does; `refuse` lists devices it cannot go to."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.on = "cpu"
        self.refuse = refuse

    def to(self, device: str) -> FakeModel:
        if device in self.refuse:
            raise RuntimeError(f"CUDA out of memory. Tried to allocate 2.00 GiB\n{'trace ' * 50}")
        self.on = device
        return self


def never() -> Any:
    raise AssertionError("the model needed no rebuilding")


def test_no_gpu_is_the_cpu_path() -> None:
    placement = TorchPlacement()
    model = placement.place(fake_torch(), FakeModel(), never)
    assert model.on == "cpu" and placement.current == "cpu"
    assert placement.describe(None) == Device("the CPU", "", False)
    assert placement.run(lambda device: device, never) == "cpu"


@pytest.mark.parametrize(
    ("torch", "device", "name"),
    [
        (fake_torch(cuda=True, mps=True), "cuda", "the NVIDIA GPU (CUDA)"),
        (fake_torch(cuda=True, hip="6.0"), "cuda", "the AMD GPU (ROCm)"),
        (fake_torch(mps=True), "mps", "the Apple GPU (mps)"),
    ],
)
def test_the_model_goes_to_the_gpu(torch: Any, device: str, name: str) -> None:
    placement = TorchPlacement()
    assert placement.describe(torch) == Device(name, "", True)  # before it is placed
    model = placement.place(torch, FakeModel(), never)
    assert model.on == device and placement.describe(None) == Device(name, "", True)
    assert placement.describe(None).image_batch == GPU_IMAGE_BATCH > CPU_IMAGE_BATCH
    assert placement.run(lambda on: on, never) == device
    assert torch_label(torch, device) == name


def test_cpu_keeps_the_model_on_the_cpu() -> None:
    placement = TorchPlacement("cpu")
    assert placement.place(fake_torch(cuda=True), FakeModel(), never).on == "cpu"


def test_a_gpu_that_cannot_take_the_model_leaves_it_on_the_cpu() -> None:
    placement = TorchPlacement()
    model = placement.place(fake_torch(cuda=True), FakeModel(refuse=("cuda",)), never)
    device = placement.describe(None)
    assert model.on == "cpu" and not device.gpu and device.name == "the CPU"
    assert device.fell_back.startswith("the NVIDIA GPU (CUDA) failed: CUDA out of memory")
    assert len(device.fell_back) <= 160 and "trace" not in device.fell_back  # one short line
    assert placement.planned(fake_torch(cuda=True)) == "cpu"  # for good


def test_a_gpu_that_cannot_give_the_model_back_has_it_built_again() -> None:
    class Stuck(FakeModel):
        def to(self, device: str) -> FakeModel:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")

    rebuilt = FakeModel()
    placement = TorchPlacement()
    assert placement.place(fake_torch(cuda=True), Stuck(), lambda: rebuilt) is rebuilt
    assert "illegal memory access" in placement.fell_back


def test_a_failed_run_on_the_gpu_moves_the_model_to_the_cpu_for_good() -> None:
    placement = TorchPlacement()
    model = placement.place(fake_torch(cuda=True), FakeModel(), never)
    runs: list[str] = []

    def work(device: str) -> str:
        runs.append(device)
        if device == "cuda":
            raise RuntimeError("CUDA out of memory")
        return device

    assert placement.run(work, lambda: model.to("cpu") and None) == "cpu"
    assert model.on == "cpu" and runs == ["cuda", "cpu"]
    assert placement.describe(None).fell_back == "the NVIDIA GPU (CUDA) failed: CUDA out of memory"
    assert placement.run(work, never) == "cpu" and runs == ["cuda", "cpu", "cpu"]  # once


def test_a_failure_on_the_cpu_is_the_callers() -> None:
    placement = TorchPlacement()
    placement.place(fake_torch(), FakeModel(), never)

    def work(device: str) -> str:
        raise ValueError("a bad input")

    with pytest.raises(ValueError, match="a bad input"):
        placement.run(work, never)
    assert placement.fell_back == ""


def test_settling_on_the_cpu_is_no_fallback() -> None:
    placement = TorchPlacement()
    model = placement.place(fake_torch(cuda=True), FakeModel(), never)
    placement.settle_on_cpu(lambda: model.to("cpu") and None)
    assert model.on == "cpu" and placement.describe(None) == Device()
    assert placement.planned(fake_torch(cuda=True)) == "cpu"
