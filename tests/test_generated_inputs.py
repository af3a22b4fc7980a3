"""Generated bad and extreme inputs end in a clear error or a result whose invariants hold (issue 16).

``tests/fuzz_inputs.py`` (a seeded generator) mutates every shipped arch, workload, scheme, sweep
spec, SCALE-Sim topology and a set of SCALE-Sim configs, and runs the loaders and ``simulate`` on
each case in one subprocess under a memory limit (``RLIMIT_AS``) and a per-case time limit. Any
traceback, hang or broken invariant is reported with the case that caused it. The default run
makes 2 cases per file; the slow profile 3 seeds x 12.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMORY_LIMIT = 6 * 2**30  # address space of the worker (numba's JIT included)


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_generated(seed: int, per_file: int, timeout: float) -> list[dict]:
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "fuzz_inputs.py"), str(seed), str(per_file)],
                          capture_output=True, text=True, timeout=timeout, preexec_fn=_limit_memory, cwd=ROOT)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0, f"worker died after {len(rows)} cases: {done.stderr[-2000:]}"
    return rows


def check(rows: list[dict]) -> None:
    bad = [f"{r['kind']} {r['case']}: {r['detail']}" for r in rows if r["status"] == "bad"]
    assert not bad, "\n".join(bad)
    statuses = {r["status"] for r in rows}
    assert statuses == {"ok", "error"}, statuses  # the generator produces both valid and invalid inputs


def test_generated_inputs():
    rows = run_generated(seed=16, per_file=2, timeout=300)
    assert len(rows) > 60
    check(rows)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_inputs_large(seed):
    check(run_generated(seed=seed, per_file=12, timeout=1800))
