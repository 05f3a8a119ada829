"""CLIP models: specs, the catalogue, weights on disk, runtimes (torch, ONNX), switching."""
