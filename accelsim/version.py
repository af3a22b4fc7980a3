"""The package version (also in pyproject.toml) and a fingerprint of its model: both are part of
every sweep result key, so a stored result is reused only by the code and tables that made it."""

import functools
import hashlib
from pathlib import Path

__version__ = "0.1.0"

_PACKAGE = Path(__file__).resolve().parent
_MODEL_SUFFIXES = (".py", ".yaml", ".cfg")


def model_fingerprint(root: Path = _PACKAGE) -> str:
    """SHA-256 (hex) of every source and table file under ``root`` (``.py``, ``.yaml``, ``.cfg``:
    the timing models, cost tables and defaults), by relative path and content. Any change to the
    model changes it, a version number or not. Memoized for the installed package (~250 files)."""
    return _fingerprint(root) if root != _PACKAGE else _package_fingerprint()


@functools.cache
def _package_fingerprint() -> str:
    return _fingerprint(_PACKAGE)


def _fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.suffix in _MODEL_SUFFIXES and "__pycache__" not in p.parts)
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
