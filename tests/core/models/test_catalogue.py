"""The catalogue: published figures copied from their sources, and the speeds measured on
this machine kept in the data dir."""

from __future__ import annotations

from pathlib import Path

from finder.core.models import catalogue
from finder.core.models.catalogue import MeasuredSpeed


def test_mobileclip2_figures_are_apples_published_ones() -> None:
    # apple/ml-mobileclip results/mobileclip2_*.jsonl @e15d36e (see the module's sources).
    s0, s2, b = (catalogue.get(n) for n in ("MobileCLIP2-S0", "MobileCLIP2-S2", "MobileCLIP2-B"))
    assert s0.key == "MobileCLIP2-S0@dfndr2b" and s0.imagenet == 0.7153
    assert (s0.flickr_r1, s0.coco_r1) == (0.6922, 0.4368)
    assert (s2.flickr_r5, s2.coco_r5) == (0.9294, 0.7375)
    assert (b.imagenet, b.flickr_r1, b.coco_r1) == (0.7941, 0.7650, 0.4990)
    # MobileCLIP2-S2 is MobileCLIP-S2's architecture, retrained: the same size.
    assert s2.params_m == catalogue.get("MobileCLIP-S2").params_m


def test_measured_speeds_are_kept_per_model_and_a_damaged_file_is_ignored(
    tmp_path: Path,
) -> None:
    first = MeasuredSpeed(12.5, 90.0, 2, 3.1, "fp32", "2026-12-02T07:00:00+00:00")
    second = MeasuredSpeed(18.1, 120.0, 2, 3.0, "fp32 onnxruntime", "2026-12-02T07:10:00+00:00")
    catalogue.record_speed(tmp_path, "ViT-B-32@laion2b_s34b_b79k", first)
    catalogue.record_speed(tmp_path, "MobileCLIP2-S0@dfndr2b", second)
    assert catalogue.measured_speeds(tmp_path) == {
        "ViT-B-32@laion2b_s34b_b79k": first,
        "MobileCLIP2-S0@dfndr2b": second,
    }
    (tmp_path / catalogue.SPEED_FILE).write_text("{not json", encoding="utf-8")
    assert catalogue.measured_speeds(tmp_path) == {}
