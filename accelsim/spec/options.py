"""Run options: how a simulation runs, as enums. Strings become members only at the edges
(the CLI, sweep specs, the public ``simulate``/``run_gemm`` signatures) through :func:`run_option`."""

from __future__ import annotations

import enum
from typing import TypeVar

from accelsim.errors import ConfigError, Problem, did_you_mean


class Fidelity(enum.Enum):
    """How closely the array is modelled (docs/fidelities.md)."""

    FOLD = "fold"    # per fold/tile, O(folds) per layer
    CYCLE = "cycle"  # every cycle, with SRAM ports and DRAM channels
    PE = "pe"        # every PE register, on synthetic operands; ideal memory


class MappingMode(enum.Enum):
    """How each array layer is mapped: SCALE-Sim's fixed mapping or the mapper's search (docs/mapper.md)."""

    FIXED = "fixed"
    SEARCH = "search"


class Objective(enum.Enum):
    """What the mapper minimises: cycles, energy (pJ) or their product (energy-delay product)."""

    CYCLES = "cycles"
    ENERGY = "energy"
    EDP = "edp"


_KEYS = {Fidelity: "fidelity", MappingMode: "mapping", Objective: "objective"}
Option = TypeVar("Option", Fidelity, MappingMode, Objective)


def run_option(kind: type[Option], value: Option | str, source: str = "run options") -> Option:
    """``value`` as a member of ``kind``; a string is looked up by its value.

    Raises ConfigError naming ``source``, the option and its valid values for anything else.
    """
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        choices = [member.value for member in kind]
        raise ConfigError(source, [Problem(_KEYS[kind], f"expected one of {', '.join(choices)}, got {value!r}"
                                                        f"{did_you_mean(str(value), choices)}")]) from None
