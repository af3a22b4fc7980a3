"""ONNX import: :func:`load_onnx` reads a model as onnx, onnxruntime's exporters and quantizers write it.

Modules: ``graph`` (reading, binding symbolic dimensions, shape inference, lookups), ``quant``
(element types, Q/DQ, QOperator and N-bit weights), ``fusion`` (decomposed GELU, LayerNorm,
RMSNorm, softmax), ``layers`` (node -> layer), ``edges`` (each layer's ``producers``: the layer
each operand's tensor comes from), ``load`` (the entry point: nothing is left out silently, what
is written is validated).
"""

from accelsim.frontend.onnx.load import load_onnx

__all__ = ["load_onnx"]
