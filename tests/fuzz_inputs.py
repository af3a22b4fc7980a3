"""Generated bad and extreme inputs (issue 16), run by ``tests/test_generated_inputs.py``.

A seeded generator mutates every shipped arch, workload, scheme and sweep spec, the SCALE-Sim
topology CSVs and a set of SCALE-Sim ``.cfg`` files: wrong types, flipped signs, magnitudes up
to 1e400, NaN and inf, missing and unknown keys, broken units, deep nesting, alias bombs, other
encodings and non-regular files. Each case goes through its loader and, when it loads, through
``simulate`` (fold fidelity; the cycle fidelity with a small ``max_steps``). The outcome must be
an accelsim error with a message, or a result whose invariants hold:

* every count is >= 0, utilizations are in [0, 1], energy is finite;
* ``stall_cycles <= cycles`` for array layers (vector layers pipelined with the array are
  fixed separately and not checked here).

Run as ``python tests/fuzz_inputs.py SEED CASES_PER_FILE`` under a memory limit; it prints one
JSON line per case (``ok``, ``error`` or ``bad`` with what went wrong) and runs each case under
a time limit (SIGALRM).
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import signal
import sys
import tempfile
import traceback
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accelsim import load_arch, load_workload, simulate  # noqa: E402
from accelsim.compress.scheme import apply_scheme, load_scheme  # noqa: E402
from accelsim.dse.sweep import check_sweep  # noqa: E402
from accelsim.errors import AccelsimError  # noqa: E402
from accelsim.lower.gemm import lower_layer  # noqa: E402

SECONDS_PER_CASE = 30
CFG_CASES = ("ws_4x4_conv", "os_gemm_8x8", "is_16x8_conv", "user_is_8x8_ifstall", "real_scale_cfg_alexnet")
SCALAR_MUTANTS = (
    "abc", "", True, None, [], {}, [1, 2], 0, -1, -7.5, 1e400, -1e400, float("nan"), "1e400", "-.inf", "nan",
    2**63, 2**64 + 1, -(2**63), 10**30, 99999999999999999999999, 1e18, 0.5, "64XiB", "-12.8GB/s", "1e400B",
    "5 cycles", "12.8GB/cycle/s", "2:0", "0:4", "int0", "fp7", "\u00e9\u00e8", "\x00",
)


def shipped_files() -> list[tuple[str, Path]]:
    """``(kind, path)`` of every shipped input the generator mutates."""
    files = [("arch", p) for p in sorted((ROOT / "arch_configs").glob("*.yaml"))]
    files += [("workload", p) for p in sorted((ROOT / "workloads").glob("*.yaml"))]
    files += [("scheme", p) for p in sorted((ROOT / "workloads" / "schemes").glob("*.yaml"))]
    files += [("sweep", p) for p in sorted((ROOT / "workloads" / "sweeps").glob("*.yaml"))]
    files += [("csv", p) for p in sorted((ROOT / "workloads" / "scalesim").glob("*.csv"))]
    cases = ROOT / "tests" / "data" / "scalesim" / "cases"
    files += [("cfg", cases / f"{name}.cfg") for name in CFG_CASES]
    return files


def _paths(data, prefix=()):
    """Every key path into nested dicts and lists."""
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, prefix + (index,))


def _set(data, path, value):
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def mutate_yaml(data: dict, rng: random.Random) -> tuple[str, str | bytes]:
    """``(description, text)`` of one mutation of a parsed YAML spec (bytes for another encoding)."""
    data = copy.deepcopy(data)
    paths = [p for p in _paths(data) if p]
    path = rng.choice(paths)
    what = rng.choice(("value", "value", "value", "delete", "unknown", "nest", "scale", "alias", "text"))
    if what == "value":
        value = rng.choice(SCALAR_MUTANTS)
        _set(data, path, value)
        return f"{path} = {value!r}", yaml.safe_dump(data, allow_unicode=True)
    if what == "scale":  # a number pushed out of range, or its sign flipped
        target = data
        for key in path[:-1]:
            target = target[key]
        old = target[path[-1]]
        if isinstance(old, (int, float)) and not isinstance(old, bool):
            new = rng.choice((-old, old * 10 ** rng.choice((3, 9, 18, 30)), old * 2**62 if old else 2**62))
            _set(data, path, new)
            return f"{path} = {new!r}", yaml.safe_dump(data)
        _set(data, path, rng.choice(SCALAR_MUTANTS))
        return f"{path} replaced", yaml.safe_dump(data, allow_unicode=True)
    if what == "delete":
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return f"{path} deleted", yaml.safe_dump(data)
    if what == "unknown":
        target = data
        for key in path[:-1]:
            target = target[key]
        if isinstance(target, dict):
            target["unknwn_key"] = 1
        else:
            target.append({"unknwn_key": 1})
        return f"unknown key under {path[:-1]}", yaml.safe_dump(data)
    if what == "nest":
        depth = rng.choice((70, 5000))
        return f"{path} nested {depth} deep", _with_value_text(data, path, "[" * depth + "1" + "]" * depth)
    if what == "alias":
        text = yaml.safe_dump(data)
        levels = ["lol0: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
        for index, level in enumerate("bcdefghi", start=1):
            prev = "abcdefghi"[index - 1]
            levels.append(f"lol{index}: &{level} [" + ", ".join([f"*{prev}"] * 9) + "]")
        return "billion laughs", text + "\n".join(levels) + "\n"
    text = yaml.safe_dump(data)
    choice = rng.choice(("utf16", "latin1", "nul", "huge_int", "truncate", "tabs"))
    if choice == "utf16":
        return "utf-16 encoded", text.encode("utf-16")
    if choice == "latin1":
        return "latin-1 byte", text + "# caf\xe9\n"
    if choice == "nul":
        return "NUL byte", text[: len(text) // 2] + "\x00" + text[len(text) // 2:]
    if choice == "huge_int":
        return "5000-digit integer", _with_value_text(data, path, "9" * 5000)
    if choice == "truncate":
        return "truncated", text[: rng.randrange(1, max(2, len(text)))]
    return "tab indentation", "\t" + text


def _with_value_text(data, path, raw: str) -> str:
    """The YAML text of ``data`` with the value at ``path`` replaced by ``raw`` YAML text."""
    marker = "MARKER_VALUE_7f3a"
    _set(data, path, marker)
    return yaml.safe_dump(data, width=10**9).replace(marker, raw, 1)


def mutate_csv(text: str, rng: random.Random) -> tuple[str, str]:
    """One mutation of a SCALE-Sim topology CSV."""
    lines = text.splitlines()
    row = rng.randrange(1, len(lines)) if len(lines) > 1 else 0
    cells = lines[row].split(",")
    column = rng.randrange(1, max(2, min(len(cells), 8)))
    value = rng.choice(("0", "-3", "1e3", "3.5", "abc", "", "1000000000", "99999999999999999999999",
                        "9" * 5000, "nan", "2:0", "4:2"))
    if column < len(cells):
        cells[column] = value
    lines[row] = ",".join(cells)
    return f"line {row + 1} column {column} = {value[:20]!r}", "\n".join(lines) + "\n"


def mutate_cfg(text: str, rng: random.Random) -> tuple[str, str]:
    """One mutation of a SCALE-Sim .cfg."""
    lines = text.splitlines()
    keyed = [i for i, line in enumerate(lines) if ":" in line or "=" in line]
    index = rng.choice(keyed)
    key = lines[index].replace("=", ":").split(":")[0].strip()
    value = rng.choice(("0", "-1", "99999999999999999999999", "9" * 5000, "abc", "%(foo)s", "1e400", "",
                        "nan", "USER", "CALC", "xs"))
    what = rng.choice(("value", "value", "delete", "duplicate"))
    if what == "value":
        lines[index] = f"{key} : {value}"
    elif what == "delete":
        del lines[index]
    else:
        lines.insert(index, lines[index])
    return f"{what} {key} {value[:20]!r}", "\n".join(lines) + "\n"


def check_result(result) -> list[str]:
    """Invariants of a simulate Result (empty when they hold)."""
    problems = []
    layers = result.layers
    for column in layers.columns:
        series = layers[column]
        if series.dtype.kind in "iu" or str(series.dtype) == "Int64":
            values = series.dropna().astype("int64")
            if column != "hidden_cycles" and (values < 0).any():
                problems.append(f"negative {column}")
    for column in ("utilization", "mapping_efficiency", "compute_utilization"):
        values = layers[column].dropna().to_numpy(dtype=float)
        if ((values < 0) | (values > 1 + 1e-9)).any():
            problems.append(f"{column} outside [0, 1]: {values[(values < 0) | (values > 1 + 1e-9)][:3]}")
    energy = layers["energy_pj"].dropna().to_numpy(dtype=float)
    if not np.isfinite(energy).all():
        problems.append("energy not finite")
    array = np.array([lower_layer(layer, result.arch.timing_model) is not None for layer in result.network.layers])
    costed = layers["costed"].to_numpy(dtype=bool)
    cycles = layers["cycles"].to_numpy(dtype=float)
    stalls = layers["stall_cycles"].to_numpy(dtype=float)
    rows = array & costed
    if (stalls[rows] > cycles[rows]).any():
        problems.append("stall_cycles > cycles in an array layer")
    return problems


def run_case(kind: str, path: Path, tmp: Path, reference: dict) -> tuple[str, str]:
    """``("ok" | "error" | "bad", detail)`` of loading ``path`` as ``kind`` and simulating it."""
    try:
        if kind == "arch":
            spec = load_arch(path)
            result = simulate(spec, reference["net"], "fold")
            problems = check_result(result)
            if not problems:
                problems = check_result(simulate(spec, reference["net"], "cycle", max_steps=2_000_000, progress=False))
        elif kind == "cfg":
            spec = load_arch(path)
            problems = check_result(simulate(spec, reference["small_net"], "fold"))
        elif kind in ("workload", "csv"):
            net = load_workload(path)
            problems = check_result(simulate(reference["arch"], net, "fold"))
        elif kind == "scheme":
            net = apply_scheme(reference["net"], load_scheme(path), mask_dir=tmp)
            problems = check_result(simulate(reference["arch"], net, "fold"))
        else:
            check_sweep(path)
            problems = []
    except AccelsimError as exc:
        message = str(exc).strip()
        return ("error", message.splitlines()[-1][:200]) if message else ("bad", "an accelsim error without a message")
    return ("bad", "; ".join(problems)) if problems else ("ok", "")


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def main(seed: int, per_file: int) -> None:
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(seed)
    reference = {"arch": load_arch(ROOT / "arch_configs" / "edge_32x32.yaml"),
                 "net": load_workload(ROOT / "workloads" / "tiny_cnn.yaml"),
                 "small_net": load_workload(ROOT / "tests" / "data" / "scalesim" / "cases" / "ws_4x4_conv.csv")}
    with tempfile.TemporaryDirectory(prefix="accelsim-fuzz-") as scratch:
        tmp = Path(scratch)
        fifo = tmp / "fifo.yaml"
        os.mkfifo(fifo)
        cases = [("arch", fifo, "a FIFO"), ("workload", tmp / "fifo.csv", "a FIFO .csv"),
                 ("cfg", tmp / "fifo.cfg", "a FIFO .cfg"), ("workload", tmp, "a directory")]
        os.mkfifo(tmp / "fifo.csv")
        os.mkfifo(tmp / "fifo.cfg")
        os.mkfifo(tmp / "fifo.onnx")
        cases.append(("workload", tmp / "fifo.onnx", "a FIFO .onnx"))
        unreadable = tmp / "unreadable.yaml"
        unreadable.write_text("name: x\n")
        unreadable.chmod(0)
        if not os.access(unreadable, os.R_OK):  # (root reads anything)
            cases.append(("arch", unreadable, "an unreadable file"))
        for index, (kind, source) in enumerate(shipped_files()):
            text = source.read_text()
            for number in range(per_file):
                if kind == "csv":
                    what, mutated = mutate_csv(text, rng)
                elif kind == "cfg":
                    what, mutated = mutate_cfg(text, rng)
                else:
                    what, mutated = mutate_yaml(yaml.safe_load(text), rng)
                # a sweep spec keeps its folder, so that its relative paths still resolve
                name = f".fuzz-{os.getpid()}-{index}-{number}{source.suffix}"
                target = source.with_name(name) if kind == "sweep" else tmp / name
                target.write_bytes(mutated if isinstance(mutated, bytes) else mutated.encode("utf-8"))
                cases.append((kind, target, f"{source.relative_to(ROOT)}: {what}"))
        try:
            for kind, path, what in cases:
                signal.alarm(SECONDS_PER_CASE)
                try:
                    status, detail = run_case(kind, path, tmp, reference)
                except _Timeout:
                    status, detail = "bad", f"no answer within {SECONDS_PER_CASE} s"
                except BaseException as exc:  # a traceback: exactly what must not happen
                    status = "bad"
                    detail = f"{type(exc).__name__}: {str(exc)[:200]} at {traceback.extract_tb(exc.__traceback__)[-1]}"
                finally:
                    signal.alarm(0)
                print(json.dumps({"case": what, "kind": kind, "status": status, "detail": detail}), flush=True)
        finally:
            for kind, path, _ in cases:
                if kind == "sweep" and path.name.startswith(".fuzz-"):
                    path.unlink(missing_ok=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
