"""accelsim's ``scalesim`` timing against real SCALE-Sim 3.0.0 runs (tests/data/scalesim).

Each case's .cfg and topology .csv are loaded exactly as a user would, simulated, and every
reported number compared with SCALE-Sim's reports (``reference.csv``, written by
``tests/data/scalesim/generate.py`` from real runs; never from accelsim). A depthwise ("DP")
layer is one accelsim layer; SCALE-Sim reports it as one row per channel, so the test compares
sums. Rows of both bandwidth modes (CALC and USER, whose stalls and DRAM traffic come from
accelsim/kernels/scalesim_user.py) must match exactly.
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import ROOT
from scalesim_reference import cases, check_case

DATA = ROOT / "tests" / "data" / "scalesim"
REFERENCE = pd.read_csv(DATA / "reference.csv")


@pytest.mark.parametrize("case", cases(REFERENCE, "CALC") + cases(REFERENCE, "USER"))
def test_matches_scalesim_exactly(case):
    check_case(REFERENCE, DATA / "cases", case)


def test_user_rows_stall():
    """The USER reference rows exercise the stall paths (so the exact test above can fail)."""
    user = REFERENCE[REFERENCE.interface_bw == "USER"]
    assert (user.stall_cycles > 0).sum() >= 10
