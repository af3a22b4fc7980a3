"""ONNX graph pieces shared by the importer's tests."""

from onnx import helper as h


def attention_core(merge: str, w_o: str, out_name: str, residual: str) -> list:
    """Nodes of multi-head attention from the per-head ``q_t``/``k_t``/``v_t`` to the residual add:
    scores, scaling by ``scale``, softmax, context, heads merged by the shape ``merge``, the
    output projection ``w_o`` (node ``out_name``) and ``x`` added back into ``residual``."""
    return [
        h.make_node("MatMul", ["q_t", "k_t"], ["scores"], name="attn.qk"),
        h.make_node("Div", ["scores", "scale"], ["scaled"], name="attn.scale"),
        h.make_node("Softmax", ["scaled"], ["probs"], name="attn.softmax", axis=-1),
        h.make_node("MatMul", ["probs", "v_t"], ["ctx"], name="attn.av"),
        h.make_node("Transpose", ["ctx"], ["ctx_t"], perm=[0, 2, 1, 3]),
        h.make_node("Reshape", ["ctx_t", merge], ["ctx_m"]),
        h.make_node("MatMul", ["ctx_m", w_o], ["o"], name=out_name),
        h.make_node("Add", ["o", "x"], [residual], name="attn.residual"),
    ]
