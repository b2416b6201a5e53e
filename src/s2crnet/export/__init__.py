"""Exports of S2CRNet to other runtimes (ONNX)."""
