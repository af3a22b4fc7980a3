"""The cost tables (``accelsim/cost/tables/*.yaml``) and the power-law fits drawn through them.

Every figure in a table carries its ``source``. Where a table lists points (operand widths,
SRAM capacities), accelsim fits ``y = c * x**p`` by least squares in log-log space (exact for
two points) and evaluates the fit, so a model is always "fitted to these published points".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from accelsim.errors import ConfigError, Problem, did_you_mean


@functools.cache
def load_table(name: str) -> Mapping[str, Any]:
    """The parsed table ``accelsim/cost/tables/<name>.yaml`` (cached; treat as read-only)."""
    text = (resources.files("accelsim.cost") / "tables" / f"{name}.yaml").read_text()
    return yaml.safe_load(text)


@dataclass(frozen=True)
class PowerLaw:
    """``y = coefficient * x**exponent``."""

    coefficient: float
    exponent: float

    def __call__(self, x: float) -> float:
        return self.coefficient * x**self.exponent


def fit_power_law(xs: Sequence[float], ys: Sequence[float]) -> PowerLaw:
    """Least-squares fit of ``log y = log c + p log x`` through at least two points."""
    if len(xs) != len(ys) or len(xs) < 2:
        raise ValueError("a power-law fit needs at least two (x, y) points")
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    slope = sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)
    return PowerLaw(math.exp(my - slope * mx), slope)


def apply_overrides(defaults: Mapping[str, float], overrides: Mapping[str, float], section: str,
                    source: str) -> dict[str, float]:
    """``defaults`` with the user's ``overrides`` replacing entries of the same name.

    Raises
    ------
    ConfigError
        For every override naming no entry, with the dotted key (``energy.mac_in8``), a
        did-you-mean and the valid entries.
    """
    unknown = [key for key in overrides if key not in defaults]
    if unknown:
        valid = ", ".join(sorted(defaults))
        raise ConfigError(source, [
            Problem(f"{section}.{key}", f"unknown {section} table entry{did_you_mean(key, defaults)}; "
                    f"this design's entries are: {valid}")
            for key in unknown
        ])
    return {**defaults, **overrides}
