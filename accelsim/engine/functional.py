"""``run_gemm``: one GEMM through the array at a chosen fidelity, with its output.

``fidelity="pe"`` computes ``A @ B`` with the simulated PE registers (int64 accumulation with
the arch's accumulator width and overflow rule, or float64). ``"cycle"`` and ``"fold"`` model
timing only: their ``out`` is numpy's exact ``A @ B`` (int64 or float64).
"""

from __future__ import annotations

import numpy as np

from accelsim.errors import ConfigError, Problem, UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate
from accelsim.spec.arch import ArchSpec
from accelsim.spec.options import Fidelity, run_option
from accelsim.spec.workload import Gemm


def _operands(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Both operands as int64 (integers, bools) or float64 (any float), checked."""
    problems = []
    arrays = []
    for name, value in (("A", a), ("B", b)):
        arr = np.asarray(value)
        if arr.ndim != 2 or 0 in arr.shape:
            problems.append(Problem(name, f"expected a non-empty 2-D array, got shape {arr.shape}"))
        elif arr.dtype.kind not in "biuf":
            problems.append(Problem(name, f"expected integer or float values, got dtype {arr.dtype}"))
        arrays.append(arr)
    if not problems and arrays[0].shape[1] != arrays[1].shape[0]:
        problems.append(Problem("B", f"A is {arrays[0].shape} so B needs {arrays[0].shape[1]} rows, "
                                     f"got shape {arrays[1].shape}"))
    if problems:
        raise ConfigError("run_gemm", problems)
    if any(arr.dtype.kind == "f" for arr in arrays):
        arrays = [arr.astype(np.float64) for arr in arrays]
        if not all(np.isfinite(arr).all() for arr in arrays):
            raise ConfigError("run_gemm", [Problem("A, B", "expected finite values (no inf or nan)")])
        return arrays[0], arrays[1]
    peaks = [int(np.abs(arr.astype(object)).max()) for arr in arrays]
    if peaks[0] * peaks[1] >= 2**63:
        raise ConfigError("run_gemm", [Problem("A, B", f"products up to {peaks[0]}*{peaks[1]} do not fit "
                                                       "in int64; use narrower integers")])
    return arrays[0].astype(np.int64), arrays[1].astype(np.int64)


def run_gemm(arch: ArchSpec, a, b, fidelity: Fidelity | str = Fidelity.PE, *,
             rate: ArrayRate = DENSE_RATE, max_steps: int | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """``A @ B`` on ``arch``'s array at ``fidelity``: ``(out, stats)``.

    Parameters
    ----------
    arch : ArchSpec
    a : (M, K) array of integers or floats
    b : (K, N) array of integers or floats
    fidelity : :class:`~accelsim.spec.options.Fidelity` or ``"pe"`` | ``"cycle"`` | ``"fold"``
    rate : ArrayRate
        Products per cycle, cycles per product and native N:M of the array
        (docs/timing_models.md); with N:M, ``B`` must be N:M sparse along ``K``.
    max_steps : int, optional
        ``cycle`` and ``pe``: refuse (:class:`accelsim.engine.work.WorkLimitError`, with the
        estimate and expected time) a GEMM that would step more cycles / PE-cycles than this
        (``None``: :data:`accelsim.engine.work.DEFAULT_MAX_STEPS`).

    Returns
    -------
    out : (M, N) ndarray
        ``pe``: computed by the simulated array (int64 wrapped or saturated to
        ``arch.mac.accumulator_bits``; float64 for float inputs). ``cycle``/``fold``: numpy's
        exact product.
    stats : dict
        The fields of a result row (``cycles``, ``compute_cycles``, ``stall_cycles``,
        ``utilization``, ``*_sram_reads``, ...) plus, for ``pe``, ``pe_updates`` and
        ``saturations``.
    """
    from accelsim.engine import fold, pe, work  # engines load numba kernels: import on use
    from accelsim.lower.gemm import lower_layer

    fidelity = run_option(Fidelity, fidelity, "run_gemm")
    if arch.arrays.count > 1:
        raise UnsupportedError(f"{arch.name}: run_gemm runs one array; simulate() divides a GEMM among "
                               f"the {arch.arrays.count} arrays (docs/multi_array.md)")
    a, b = _operands(a, b)
    layer = Gemm(name="run_gemm", m=a.shape[0], n=b.shape[1], k=a.shape[1])
    problem = lower_layer(layer, arch.timing_model)
    work.check_layer_range(problem, arch, rate, layer.name)
    if fidelity is not Fidelity.FOLD:
        columns = fold.counter_columns(fold.run_layer(layer, arch, rate)[None, :], arch.pes)
        steps = work.step_estimate(int(columns["cycles"][0]), int(columns["compute_cycles"][0]), arch, fidelity.value)
        work.check_steps(steps, problem, fidelity.value, max_steps, layer.name)
    extra: dict[str, int] = {}
    if fidelity is Fidelity.PE:
        out, extra = pe.run_pe_gemm(arch, a, b, rate)
        counters = pe.with_measured_cycles(fold.run_layer(layer, arch, rate), extra.pop("cycles"), arch)
    else:
        out = a @ b
        if fidelity is Fidelity.CYCLE:
            from accelsim.engine import cycle

            counters = cycle.run_layer(layer, arch, rate)
        else:
            counters = fold.run_layer(layer, arch, rate)
    stats = {name: column[0].item() for name, column in fold.counter_columns(counters[None, :], arch.pes).items()}
    return out, {"macs": layer.macs, **stats, **extra}
