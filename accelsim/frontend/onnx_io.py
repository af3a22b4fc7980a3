"""The ONNX importer under its earlier module name: :func:`accelsim.frontend.onnx.load_onnx`."""

from accelsim.frontend.onnx import load_onnx

__all__ = ["load_onnx"]
