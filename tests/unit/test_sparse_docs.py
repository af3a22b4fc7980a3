"""The example in docs/sparsity.md runs, and its N:M numbers are the hand-derived ones."""

import contextlib
import io
import re

from conftest import ROOT


def test_docs_example_runs(monkeypatch):
    text = (ROOT / "docs" / "sparsity.md").read_text()
    code = re.findall(r"```python\n(.+?)\n```", text, re.S)[0]
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/sparsity.md", "exec"), {})
    cycles, k_eff, meta = map(int, out.getvalue().splitlines()[0].split())
    # 2:4 on k = 2304: 1152 slots per column, 1152 x 256 slots x 2 bits = 73728 bytes of indices
    assert (k_eff, meta) == (1152, 73728)
    # ws 64x64, preload not modelled here: k_eff/64 = 18 row folds x 4 column folds of
    # r + c + R - 2 + T = 64 + 64 + 64 - 2 + 196 = 386 cycles
    assert cycles == 18 * 4 * 386
