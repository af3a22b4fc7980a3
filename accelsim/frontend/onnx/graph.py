"""An ONNX model read, its symbolic dimensions bound and its shapes inferred, with lookups.

Shapes come from three passes, each filling what the previous one left unknown:

1. ``onnx.shape_inference`` (with data propagation);
2. onnxruntime's symbolic shape inference where onnxruntime is installed (it follows shape
   arithmetic that ONNX's inference leaves as ``unk__N``, and knows ``com.microsoft`` ops);
3. this module's own rules for the ``com.microsoft`` ops onnxruntime's quantizers write
   (:data:`CUSTOM_SHAPES`), after which ONNX inference runs again from their outputs.

Graph-input dimensions are bound before inference: axis 0 to the batch, symbolic ones by name.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import AccelsimError, Problem, WorkloadError, did_you_mean

log = logging.getLogger(__name__)

MS = "com.microsoft"
"""onnxruntime's contrib-op domain."""

Dims = tuple[int | str | None, ...]
"""A shape: per axis a fixed size, a symbolic name, or None (unknown)."""


def onnx_module():
    try:
        import onnx
    except ImportError:
        raise AccelsimError("reading ONNX models needs the onnx package: pip install accelsim[onnx]") from None
    return onnx


def op_key(node: Any) -> str:
    """``OpType`` for the standard domain, ``domain.OpType`` otherwise."""
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


def read_model(onnx, path: Path) -> Any:
    if not path.exists():
        raise WorkloadError(str(path), [Problem("", "no such file")])
    if path.is_dir():
        raise WorkloadError(str(path), [Problem("", "is a directory, expected a file")])
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf raises DecodeError, RuntimeWarning-like errors, ...
        raise WorkloadError(str(path), [Problem("", f"is not an ONNX model ({type(exc).__name__}: {exc})")]) from None
    if model.ir_version < 1 or not model.HasField("graph") or not model.graph.node:
        raise WorkloadError(str(path), [Problem("", "is not an ONNX model (no IR version or no graph nodes)")])
    if model.functions:  # exporters may wrap ops in model-local functions: read the ops they call
        try:
            from onnx import inliner

            model = inliner.inline_local_functions(model)
        except Exception as exc:  # noqa: BLE001 - the inliner's C++ errors
            raise WorkloadError(str(path), [Problem("functions", f"cannot inline the model's local functions "
                                                    f"({type(exc).__name__}: {exc})")]) from None
    return model


def _positive(key: str, value: Any) -> Problem | None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        return Problem(key, f"expected a positive integer, got {value!r}")
    return None


def bind_inputs(model: Any, source: str, batch: int | None, dims: Mapping[str, int] | None,
                seq_len: int | None) -> int:
    """Fix every graph-input dimension in ``model`` (edited in place); returns the batch.

    Axis 0 is the batch: ``batch``, else ``dims[its name]``, else the model's fixed batch when
    all inputs agree, else 1. Symbolic axes are bound by name from ``dims``; ``seq_len`` binds
    those whose name contains ``seq`` and axis 1 of 2-D inputs (token ids, attention masks).
    """
    dims = dict(dims or {})
    problems = [p for p in (_positive("batch", batch) if batch is not None else None,
                            _positive("seq_len", seq_len) if seq_len is not None else None,
                            *(_positive(f"dims.{k}", v) for k, v in dims.items())) if p]
    if problems:
        raise WorkloadError(source, problems)
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers and i.type.HasField("tensor_type")]
    shapes = [list(i.type.tensor_type.shape.dim) for i in inputs]
    params = {d.dim_param for s in shapes for d in s if d.dim_param}
    unknown = sorted(set(dims) - params)
    if unknown:
        listing = ", ".join(sorted(params)) or "none"
        raise WorkloadError(source, [Problem(f"dims.{name}", f"no graph input has a dimension named {name!r}"
                                             f"{did_you_mean(name, params)}; symbolic dimensions: {listing}")
                                     for name in unknown])
    firsts = [s[0] for s in shapes if s]
    if batch is None:
        named = {dims[d.dim_param] for d in firsts if d.dim_param in dims}
        fixed = {d.dim_value for d in firsts if d.HasField("dim_value")}
        batch = named.pop() if len(named) == 1 else (fixed.pop() if len(fixed) == 1 else 1)
    for d in firsts:
        if d.dim_param:
            dims.setdefault(d.dim_param, batch)
    if seq_len is not None:
        seq_names = {p for p in params if "seq" in p.lower()}
        seq_names |= {s[1].dim_param for s in shapes if len(s) == 2 and s[1].dim_param}
        if not seq_names:
            log.warning("%s: seq_len=%d ignored: no graph input has a symbolic sequence axis", source, seq_len)
        for name in seq_names:
            dims.setdefault(name, seq_len)
    problems = []
    for info, shape in zip(inputs, shapes):
        for axis, d in enumerate(shape):
            size = batch if axis == 0 else (dims.get(d.dim_param) if d.dim_param else
                                            (d.dim_value if d.HasField("dim_value") else None))
            if size is None:
                name = d.dim_param
                hint = (f"bind it with dims={{'{name}': N}} (accelsim import --dim {name}=N)" if name else
                        "it has no name to bind: export the model with this axis fixed or named")
                problems.append(Problem(f"input {info.name}", f"axis {axis} has no fixed size "
                                        f"({name or 'unnamed'}); {hint}"))
            elif size < 1:
                problems.append(Problem(f"input {info.name}", f"axis {axis} has size {size}; expected at least 1"))
            else:
                d.Clear()
                d.dim_value = int(size)
    if problems:
        raise WorkloadError(source, problems)
    for info in model.graph.output:  # declared output shapes: the same names bound, others left to inference
        for d in info.type.tensor_type.shape.dim if info.type.HasField("tensor_type") else ():
            if d.dim_param:
                size = dims.get(d.dim_param)
                d.Clear()
                if size is not None:
                    d.dim_value = int(size)
    return int(batch)


# ---- shape inference -------------------------------------------------------------------


def _dims_of(info: Any) -> Dims | None:
    tensor = info.type.tensor_type
    if not info.type.HasField("tensor_type") or not tensor.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor.shape.dim)


def _known(dims: Dims | None) -> bool:
    return dims is not None and all(isinstance(d, int) for d in dims)


def _value_infos(model: Any) -> dict[str, tuple[int, Dims | None]]:
    g = model.graph
    return {i.name: (i.type.tensor_type.elem_type, _dims_of(i)) for i in (*g.input, *g.value_info, *g.output)
            if i.type.HasField("tensor_type")}


def _onnx_inferred(onnx, model: Any, source: str) -> Any:
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
    except Exception as exc:
        raise WorkloadError(source, [Problem("", f"ONNX shape inference failed: {exc}")]) from None


def onnxruntime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def _onnxruntime_inferred(model: Any) -> Any | None:
    """onnxruntime's symbolic shape inference of ``model``, or None (not installed or it failed).

    Runs the steps of ``SymbolicShapeInference.infer_shapes`` without its failure path, which
    writes ``sym_shape_infer_temp.onnx`` into the working directory.
    """
    try:
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference
    except ImportError:
        return None
    try:
        inference = SymbolicShapeInference(2**31 - 1, True, False, 0)
        inference._preprocess(model)
        while inference.run_:
            inference._infer_impl()
        inference._update_output_from_vi()
        return inference.out_mp_
    except Exception as exc:  # its rules raise assorted errors on graphs it does not cover
        log.debug("onnxruntime symbolic shape inference failed: %s", exc)
        return None


def infer_shapes(onnx, model: Any, source: str) -> Any:
    """``model`` with every shape the three passes find in its ``value_info``."""
    model = _onnx_inferred(onnx, model, source)
    if not _all_known(model):
        ort = _onnxruntime_inferred(model)
        if ort is not None:
            _merge(onnx, model, _value_infos(ort))
            model = _onnx_inferred(onnx, model, source)
    for _ in range(len(model.graph.node)):
        found = _custom_shapes(onnx, model)
        if not found:
            break
        _merge(onnx, model, found)
        model = _onnx_inferred(onnx, model, source)
    return model


def _all_known(model: Any) -> bool:
    infos = _value_infos(model)
    return all(_known(infos.get(out, (0, None))[1]) for node in model.graph.node for out in node.output if out)


def _merge(onnx, model: Any, found: Mapping[str, tuple[int, Dims | None]]) -> None:
    """Write the fully known shapes of ``found`` into ``model``'s value_info where it lacks them."""
    have = _value_infos(model)
    new = {name: onnx.helper.make_tensor_value_info(name, elem or have.get(name, (0, None))[0], list(dims))
           for name, (elem, dims) in found.items() if _known(dims) and not _known(have.get(name, (0, None))[1])}
    for output in model.graph.output:
        if output.name in new:
            output.CopyFrom(new.pop(output.name))
    kept = [v for v in model.graph.value_info if v.name not in new]
    del model.graph.value_info[:]
    model.graph.value_info.extend([*kept, *new.values()])


def _broadcast(*shapes: Dims) -> Dims:
    return tuple(np.broadcast_shapes(*shapes))


def _attr(onnx, node: Any, name: str, default: Any) -> Any:
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _custom_shapes(onnx, model: Any) -> dict[str, tuple[int, Dims]]:
    """Output shapes of ``com.microsoft`` nodes whose inputs are known and outputs are not."""
    infos = _value_infos(model)
    for t in model.graph.initializer:
        infos[t.name] = (t.data_type, tuple(t.dims))
    found = {}
    for node in model.graph.node:
        rule = CUSTOM_SHAPES.get(op_key(node))
        if rule is None or not node.output or _known(infos.get(node.output[0], (0, None))[1]):
            continue
        ins = [infos.get(name, (0, None)) for name in node.input]
        if not ins or not _known(ins[0][1]):
            continue
        try:
            elem, dims = rule(onnx, node, ins)
        except (TypeError, ValueError, IndexError):
            continue
        if dims is not None and _known(dims):
            found[node.output[0]] = (elem, tuple(dims))
    return found


def _quantize_shape(onnx, node, ins):
    zero = ins[2][0] if len(ins) > 2 and node.input[2] else onnx.TensorProto.UINT8
    return zero, ins[0][1]


def _dequantize_shape(onnx, node, ins):
    return ins[1][0], ins[0][1]


def _same_shape(onnx, node, ins):
    return ins[0][0], ins[0][1]


def _qlinear_binary_shape(onnx, node, ins):
    return ins[0][0], _broadcast(ins[0][1], ins[3][1])


def _global_pool_shape(onnx, node, ins):
    x = ins[0][1]
    if _attr(onnx, node, "channels_last", 0):
        return ins[0][0], (x[0], *([1] * (len(x) - 2)), x[-1])
    return ins[0][0], (*x[:2], *([1] * (len(x) - 2)))


def _average_pool_shape(onnx, node, ins):
    """QLinearAveragePool: AveragePool's output size (pads, strides, ceil_mode, auto_pad)."""
    x, last = ins[0][1], _attr(onnx, node, "channels_last", 0)
    size = x[1:-1] if last else x[2:]
    kernel = _attr(onnx, node, "kernel_shape", None)
    strides = _attr(onnx, node, "strides", [1] * len(size))
    pads = _attr(onnx, node, "pads", [0] * 2 * len(size))
    auto = _attr(onnx, node, "auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    rounding = math.ceil if _attr(onnx, node, "ceil_mode", 0) else math.floor
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        out = [math.ceil(n / s) for n, s in zip(size, strides)]
    else:
        begin, end = (pads[:len(size)], pads[len(size):]) if auto != "VALID" else ([0] * len(size),) * 2
        out = [rounding((n + b + e - k) / s) + 1 for n, b, e, k, s in zip(size, begin, end, kernel, strides)]
    return ins[0][0], ((x[0], *out, x[-1]) if last else (*x[:2], *out))


def _qgemm_shape(onnx, node, ins):
    a, b = ins[0][1], ins[3][1]
    m = a[1] if _attr(onnx, node, "transA", 0) else a[0]
    n = b[0] if _attr(onnx, node, "transB", 0) else b[1]
    out_type = ins[7][0] if len(ins) > 7 and node.input[7] else onnx.TensorProto.FLOAT
    return out_type, (m, n)


def _nbits_shape(onnx, node, ins):
    return ins[0][0], (*ins[0][1][:-1], _attr(onnx, node, "N", None))


def _dynamic_matmul_shape(onnx, node, ins):
    return onnx.TensorProto.FLOAT, _matmul_dims(ins[0][1], ins[1][1])


def _matmul_dims(a: Dims, b: Dims) -> Dims:
    if len(b) == 1:
        return a[:-1]
    a2 = (1, *a) if len(a) == 1 else a
    out = (*_broadcast(a2[:-2], b[:-2]), a2[-2], b[-1])
    return out[:-2] + out[-1:] if len(a) == 1 else out


CUSTOM_SHAPES = {
    f"{MS}.QuantizeLinear": _quantize_shape, f"{MS}.DequantizeLinear": _dequantize_shape,
    f"{MS}.QLinearAdd": _qlinear_binary_shape, f"{MS}.QLinearMul": _qlinear_binary_shape,
    f"{MS}.QLinearSigmoid": _same_shape, f"{MS}.QLinearLeakyRelu": _same_shape, f"{MS}.QLinearSoftmax": _same_shape,
    f"{MS}.QLinearGlobalAveragePool": _global_pool_shape, f"{MS}.QLinearAveragePool": _average_pool_shape,
    f"{MS}.QGemm": _qgemm_shape,
    f"{MS}.MatMulNBits": _nbits_shape, f"{MS}.DynamicQuantizeMatMul": _dynamic_matmul_shape,
    f"{MS}.Gelu": _same_shape, f"{MS}.FastGelu": _same_shape, f"{MS}.QuickGelu": _same_shape,
}
"""Output (element type, shape) of the contrib ops onnxruntime's quantizers and exporters write."""


# ---- the inferred graph ------------------------------------------------------------------


class UnknownShape(Exception):
    """A tensor whose shape the inference passes left (partly) unknown: ``missing`` names the
    unknown dimensions (``unk__0``, a symbolic name, ``?`` for an unnamed one or no shape)."""

    def __init__(self, tensor: str, dims: Dims | None):
        self.tensor = tensor
        self.missing = ("?",) if dims is None else tuple(
            str(d) if d else "?" for d in dims if not isinstance(d, int) or d == 0)
        super().__init__(f"shape of {tensor} unknown ({', '.join(self.missing)})")


class Graph:
    """Shapes, element types, constants, producers and consumers of an inferred ONNX graph."""

    def __init__(self, onnx, model: Any, source: str):
        self.onnx = onnx
        self.source = source
        g = model.graph
        self.nodes = list(g.node)
        self.infos = _value_infos(model)
        self.constants: dict[str, Any] = {t.name: t for t in g.initializer}
        for t in g.initializer:
            self.infos[t.name] = (t.data_type, tuple(t.dims))
        for node in self.nodes:
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                tensor = node.attribute[0].t
                self.constants[node.output[0]] = tensor
                self.infos[node.output[0]] = (tensor.data_type, tuple(tensor.dims))
        self.graph_outputs = {o.name for o in g.output}
        self._link()

    def _link(self) -> None:
        self.producer: dict[str, Any] = {out: node for node in self.nodes for out in node.output}
        self.consumers: dict[str, list[Any]] = {}
        for node in self.nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.static = self._static_tensors()

    def rewired(self, nodes: list[Any], constants: dict[str, Any], infos: dict[str, tuple]) -> Graph:
        """This graph with ``nodes``, ``constants`` and ``infos`` in place of its own (same outputs)."""
        view = copy.copy(self)
        view.nodes, view.constants, view.infos = nodes, constants, infos
        view._link()
        return view

    def _static_tensors(self) -> set[str]:
        """Tensors known before the model runs: constants, shapes, and what is computed only from them."""
        static = set(self.constants)
        for node in self.nodes:
            inputs = [name for name in node.input if name]
            shape_of = node.op_type in ("Shape", "Size") and _known(self.infos.get(inputs[0], (0, None))[1])
            if shape_of or all(name in static for name in inputs):
                static.update(out for out in node.output if out)
        return static

    def is_static(self, node: Any) -> bool:
        return all(out in self.static for out in node.output if out)

    def shape(self, name: str) -> tuple[int, ...]:
        dims = self.infos.get(name, (0, None))[1]
        if not _known(dims) or any(d == 0 for d in dims):
            raise UnknownShape(name, dims)
        return dims  # type: ignore[return-value]

    def origin(self, dim: str) -> tuple[Any, str] | None:
        """The first node (and its output) whose shape has the unknown dimension ``dim`` (``?``: unnamed)."""
        for node in self.nodes:
            for out in node.output:
                dims = self.infos.get(out, (0, None))[1]
                if out and ((dim == "?" and (dims is None or None in dims)) or (dims is not None and dim in dims)):
                    return node, out
        return None

    def elem_type(self, name: str) -> int:
        return self.infos.get(name, (0, None))[0]

    def attrs(self, node: Any) -> dict[str, Any]:
        return {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}

    def array(self, name: str) -> np.ndarray:
        """Values of a constant tensor (integers as int64, low-precision floats as float64)."""
        values = self.onnx.numpy_helper.to_array(self.constants[name])
        if values.dtype.kind in "iub":
            return values.astype(np.int64)
        return values if values.dtype.kind == "f" else values.astype(np.float64)  # int4, float8, ... (ml_dtypes)

    def only_consumer(self, name: str) -> Any | None:
        """The one node reading ``name`` (None if several, none, or it is a graph output)."""
        readers = self.consumers.get(name, [])
        return readers[0] if len(readers) == 1 and name not in self.graph_outputs else None

    def dynamic_inputs(self, node: Any) -> list[str]:
        return [name for name in node.input if name and name not in self.static]


def graph_name(model: Any, path: Path) -> str:
    """The graph's name unless it is an exporter default, else the file's stem."""
    name = model.graph.name.strip()
    return path.stem if not name or name in EXPORTER_DEFAULT_NAMES else name


EXPORTER_DEFAULT_NAMES = frozenset({"main_graph", "torch_jit", "torch-jit-export"})
"""Graph names torch's exporters write for every model (dynamo; legacy in recent and older versions)."""


def prod(dims: tuple[int, ...]) -> int:
    return math.prod(dims) if dims else 1
