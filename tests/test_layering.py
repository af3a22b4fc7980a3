"""The import rules of DESIGN.md, checked on the source so they keep holding as modules are added.

* ``accelsim.spec`` imports nothing of ours but ``errors``, ``units`` and itself.
* ``accelsim.kernels`` import only numpy, numba, a few stdlib modules and their own package.
* Only ``accelsim/simulate.py`` and ``accelsim/engine/`` call kernels.
* ``dse``, ``plot`` and ``cli`` sit on top: nothing below imports them.
* Only ``accelsim/plot`` imports matplotlib.
* No ``print`` in the package outside the CLI; no bare ``@njit``/``@jit`` outside ``kernels/_jit.py``.
* Test reference models never import the kernels.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "accelsim"
SOURCES = sorted(PACKAGE.rglob("*.py"))
STDLIB_FOR_KERNELS = {"__future__", "math", "typing", "functools", "collections", "hashlib", "logging", "pathlib"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names.update(f"{prefix}.{alias.name}" for alias in node.names)
    return names


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def ours(names: set[str]) -> set[str]:
    return {n for n in names if n == "accelsim" or n.startswith("accelsim.")}


def test_package_has_sources():
    assert len(SOURCES) >= 10


@pytest.mark.parametrize("path", [p for p in SOURCES if "/spec/" in rel(p)], ids=rel)
def test_spec_imports_only_errors_units_and_itself(path):
    allowed = ("accelsim.errors", "accelsim.units", "accelsim.spec")
    bad = {n for n in ours(imports_of(path)) if not n.startswith(allowed)}
    # The loader reaches the SCALE-Sim and ONNX front ends lazily, for .cfg/.csv/.onnx files.
    if path.name == "load.py":
        bad = {n for n in bad if not n.startswith("accelsim.frontend")}
    assert not bad, f"{rel(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", [p for p in SOURCES if "/kernels/" in rel(p)], ids=rel)
def test_kernels_import_only_numpy_numba_and_their_own(path):
    bad = set()
    for name in imports_of(path):
        top = name.split(".")[0]
        if top in ("numpy", "numba") or top in STDLIB_FOR_KERNELS or name.startswith("accelsim.kernels"):
            continue
        bad.add(name)
    assert not bad, f"{rel(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", SOURCES, ids=rel)
def test_only_simulate_and_engine_call_kernels(path):
    if "/kernels/" in rel(path) or rel(path) == "accelsim/simulate.py" or "/engine/" in rel(path):
        return
    assert not any(n.startswith("accelsim.kernels") for n in imports_of(path)), rel(path)


@pytest.mark.parametrize("path", SOURCES, ids=rel)
def test_top_layers_are_not_imported_from_below(path):
    top = ("accelsim.dse", "accelsim.plot", "accelsim.cli")
    if rel(path).startswith(("accelsim/dse", "accelsim/plot", "accelsim/cli", "accelsim/__main__")):
        return
    bad = {n for n in imports_of(path) if n.startswith(top)}
    assert not bad, f"{rel(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", SOURCES, ids=rel)
def test_matplotlib_only_in_plot(path):
    if rel(path).startswith("accelsim/plot"):
        return
    assert not any(n.split(".")[0] == "matplotlib" for n in imports_of(path)), rel(path)


@pytest.mark.parametrize("path", SOURCES, ids=rel)
def test_no_print_in_package(path):
    if rel(path) == "accelsim/cli.py":
        return
    tree = ast.parse(path.read_text())
    calls = [n.lineno for n in ast.walk(tree)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"]
    assert not calls, f"print() at {rel(path)} lines {calls}: use logging or return data"


@pytest.mark.parametrize("path", SOURCES, ids=rel)
def test_no_bare_njit(path):
    if rel(path) == "accelsim/kernels/_jit.py":
        return
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                assert name not in ("njit", "jit"), f"{rel(path)}:{node.lineno} uses @{name}; use kernels._jit.kernel"


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "reference").rglob("*.py")), ids=rel)
def test_references_never_import_kernels(path):
    assert not any(n.startswith("accelsim.kernels") for n in imports_of(path)), rel(path)


def test_kernel_codes_match_enums():
    from accelsim.kernels import codes
    from accelsim.spec import arch

    for prefix, enum in (("DATAFLOW_", arch.Dataflow), ("TIMING_", arch.TimingModel)):
        for index, member in enumerate(enum):
            assert getattr(codes, prefix + member.name) == index, f"{prefix}{member.name}"


def test_no_build_artefacts_tracked():
    import subprocess

    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False).stdout
    junk = [f for f in out.splitlines() if f.endswith((".pyc", ".nbi", ".nbc", ".whl")) or "__pycache__" in f]
    assert not junk, junk
