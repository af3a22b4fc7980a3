"""Errors a user can act on: which file, which key, what was expected.

Every problem found while loading a file is collected as a :class:`Problem` and
raised together in one :class:`ConfigError`, so a user fixes a config in one pass.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from collections.abc import Iterable


class AccelsimError(Exception):
    """Base of every error accelsim raises on purpose (the CLI exits with code 2)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a user's input.

    ``path`` is the dotted key path (``buffers.ifmap.size``, ``layers[3].stride``);
    empty for the document as a whole.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class ConfigError(AccelsimError):
    """A file (or in-memory dict) that does not describe a valid spec."""

    def __init__(self, source: str, problems: Iterable[Problem]):
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{source}: {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class WorkloadError(ConfigError):
    """A workload (YAML, CSV or ONNX) that cannot be turned into a Network."""


class UnsupportedError(AccelsimError):
    """A valid request that the selected hardware model cannot serve (names what can)."""


class NotAvailableError(AccelsimError):
    """A request for a model or an optional dependency this installation does not have."""
