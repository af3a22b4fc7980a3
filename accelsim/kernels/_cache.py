"""Numba's on-disk kernel cache, kept in step with the kernel sources.

Numba revalidates a cached kernel against its own source file only. A kernel that calls
kernels in other files (``systolic.run_fold_scalesim`` calls ``scalesim_calc.calc_ifmap_reads``) keeps
their old compiled code after only those files change. :func:`drop_stale` deletes every cached
kernel of this package when the package's sources differ from those the cache was built from.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from numba.core import caching

STAMP = "accelsim-kernel-sources.sha1"
log = logging.getLogger(__name__)


def sources_digest(folder: Path) -> str:
    """SHA-1 of every ``*.py`` file in ``folder`` (names and contents, in name order)."""
    digest = hashlib.sha1()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_folder(folder: Path) -> Path | None:
    """Where numba caches the kernels defined in ``folder`` (by numba's own locator rules: the
    ``__pycache__`` next to them, ``NUMBA_CACHE_DIR``, or the user-wide cache), or ``None``."""
    probe = str(folder / "_jit.py")
    for locator_class in caching.CacheImpl._locator_classes:
        locator = locator_class.from_function(cache_folder, probe)
        if locator is not None:
            return Path(locator.get_cache_path())
    return None


def drop_stale(folder: Path, cache: Path) -> bool:
    """Delete numba's cached kernels in ``cache`` unless built from ``folder``'s current sources.

    Returns True if it deleted (the next call of each kernel compiles again).
    """
    digest = sources_digest(folder)
    stamp = cache / STAMP
    if stamp.is_file() and stamp.read_text() == digest:
        return False
    for path in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
        path.unlink(missing_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest)
    return True


def refresh(folder: Path) -> None:
    """:func:`drop_stale` on numba's cache folder for ``folder``; a cache numba cannot locate or
    we cannot write is left alone (numba then compiles in memory or uses what it finds)."""
    try:
        cache = cache_folder(folder)
        if cache is not None and drop_stale(folder, cache):
            log.info("kernel sources changed: cleared numba's cache in %s", cache)
    except (OSError, AttributeError) as error:  # AttributeError: numba's locator API moved
        log.debug("numba cache not checked: %s", error)


def cached_kernel_names(folder: Path) -> set[str]:
    """The ``module.function`` names of the kernels numba's on-disk cache holds for ``folder``
    (its index files are ``module.function-line.pyXY.nbi``); empty when the cache cannot be located."""
    try:
        cache = cache_folder(folder)
    except (OSError, AttributeError):
        return set()
    if cache is None or not cache.is_dir():
        return set()
    return {path.name.split("-")[0] for path in cache.glob("*.nbi")}
