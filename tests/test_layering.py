"""The package's layers, checked on the source so they keep holding as modules are added.

Every import in ``accelsim/`` (top-level and function-local, relative ones resolved) is parsed.
Each module belongs to one *unit* (``accelsim.<unit>...``; ``""`` is the package itself), and
the units sit in :data:`LAYERS`, bottom up. A module may import its own unit and units of lower
layers, nothing else: units that share a layer are independent of each other. The graph of
modules has no cycle, local imports included. There are no exemptions by name.

Other rules:

* ``accelsim.kernels`` import only numpy, numba, a few stdlib modules and their own package.
* Only ``accelsim/simulate.py`` and ``accelsim/engine/`` call kernels.
* Only ``accelsim/plot`` imports matplotlib.
* No ``print`` in the package outside the CLI; no bare ``@njit``/``@jit`` outside ``kernels/_jit.py``.
* Test reference models never import the kernels.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "accelsim"
SOURCES = sorted(PACKAGE.rglob("*.py"))
STDLIB_FOR_KERNELS = {"__future__", "math", "typing", "functools", "collections", "hashlib", "logging", "pathlib"}

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("units", "version"),
    ("spec",),                  # frozen dataclasses: what the user asks for
    ("hw",),                    # hardware rules: MAC throughput, N:M and formats, fold geometry
    ("vector", "compress"),     # vector-op programs; compression schemes, masks, quantizers
    ("frontend",),              # files of every kind -> specs
    ("lower",),                 # layers -> GEMMs -> tile schedules
    ("kernels",),               # numba: arrays in, int64 counters out
    ("engine",),                # per-fidelity drivers between schedules and kernels
    ("cost",),                  # energy and area of the counts
    ("mapper",),                # mapping search (prices candidates with cost)
    ("result",),
    ("simulate",),              # the one entry point
    ("analysis",),              # breakdowns of finished results
    ("dse",),                   # sweeps, stores, comparisons
    ("plot",),
    ("cli",),                   # the command line
    ("__main__", ""),           # ``python -m accelsim``; the package's public names
)
LAYER_OF = {unit: index for index, units in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SOURCES}


def imported_names(path: Path) -> list[tuple[int, str]]:
    """``(line, absolute name)`` of every import in ``path``, local ones included."""
    return imported_names_in(ast.parse(path.read_text(), str(path)), module_name(path), path.name == "__init__.py")


def imported_names_in(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    package = module if is_package else module.rpartition(".")[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names += [(node.lineno, f"{prefix}.{alias.name}") for alias in node.names]
    return names


def imports_of(path: Path) -> set[str]:
    return {name for _, name in imported_names(path)}


def target_module(name: str, modules=MODULES) -> str | None:
    """The module of ours that importing ``name`` loads (``accelsim.cost.layer_energy`` ->
    ``accelsim.cost``), or None for a third-party name."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def module_edges(sources: dict[str, tuple[ast.AST, bool]]) -> dict[str, set[tuple[int, str]]]:
    """``module -> {(line, imported module of ours)}`` over parsed ``sources``."""
    edges = {}
    for module, (tree, is_package) in sources.items():
        targets = ((line, target_module(name, sources)) for line, name in imported_names_in(tree, module, is_package))
        edges[module] = {(line, t) for line, t in targets if t is not None and t != module}
    return edges


def find_cycle(edges: dict[str, set[tuple[int, str]]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for _, nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def layer_violations(edges: dict[str, set[tuple[int, str]]]) -> list[str]:
    """Imports that go sideways or up the declared layers."""
    bad = []
    for module, targets in sorted(edges.items()):
        unit = unit_of(module)
        for line, target in sorted(targets):
            other = unit_of(target)
            if other != unit and not LAYER_OF[other] < LAYER_OF[unit]:
                bad.append(f"{module}:{line} imports {target} ({other or 'accelsim'}, layer {LAYER_OF[other]}) "
                           f"from {unit or 'accelsim'} (layer {LAYER_OF[unit]})")
    return bad


def parsed_package() -> dict[str, tuple[ast.AST, bool]]:
    return {module_name(p): (ast.parse(p.read_text(), str(p)), p.name == "__init__.py") for p in SOURCES}


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_every_module_is_in_a_declared_layer():
    undeclared = sorted({unit_of(m) for m in MODULES} - set(LAYER_OF))
    assert not undeclared, f"add these units of accelsim/ to LAYERS: {undeclared}"
    missing = sorted(set(LAYER_OF) - {unit_of(m) for m in MODULES})
    assert not missing, f"LAYERS names units that do not exist: {missing}"


def test_imports_follow_the_layers():
    bad = layer_violations(module_edges(parsed_package()))
    assert not bad, "\n".join(bad)


def test_module_graph_is_acyclic():
    cycle = find_cycle(module_edges(parsed_package()))
    assert cycle is None, " -> ".join(cycle)


def _synthetic(files: dict[str, str]) -> dict[str, tuple[ast.AST, bool]]:
    return {name: (ast.parse(text), False) for name, text in files.items()}


def test_checker_sees_local_imports_cycles_and_upward_imports():
    """The checks above catch what they claim to: a cycle closed by a function-local import, an
    upward import and a sideways one (fixtures written by hand, not read from the package)."""
    sources = _synthetic({
        "accelsim.cost.energy": "def f():\n    from accelsim.engine.vector import op_slots\n",
        "accelsim.engine.vector": "from accelsim.cost.energy import f\n",
        "accelsim.vector.program": "from accelsim.compress import masks\n",
        "accelsim.compress": "", "accelsim.compress.masks": "x = 1\n",
    })
    edges = module_edges(sources)
    assert (2, "accelsim.engine.vector") in edges["accelsim.cost.energy"]
    assert (1, "accelsim.compress.masks") in edges["accelsim.vector.program"]
    assert find_cycle(edges) in (["accelsim.cost.energy", "accelsim.engine.vector", "accelsim.cost.energy"],
                                 ["accelsim.engine.vector", "accelsim.cost.energy", "accelsim.engine.vector"])
    bad = layer_violations(edges)
    assert len(bad) == 2, bad  # engine -> cost goes up; vector -> compress goes sideways
    assert bad[0].startswith("accelsim.engine.vector:1 imports accelsim.cost.energy")
    assert bad[1].startswith("accelsim.vector.program:1 imports accelsim.compress.masks")
    assert find_cycle(module_edges(_synthetic({"accelsim.a": "import accelsim.b\n", "accelsim.b": ""}))) is None


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

    for prefix, enum in (("DATAFLOW_", arch.Dataflow), ("SPARSITY_", arch.SparsityMode), ("SYNC_", arch.SyncGroup)):
        for index, member in enumerate(enum):
            if enum is arch.SyncGroup and member is arch.SyncGroup.AUTO:
                assert not hasattr(codes, "SYNC_AUTO")  # resolved before kernels
                continue
            assert getattr(codes, prefix + member.name) == index, f"{prefix}{member.name}"


def test_each_kernel_family_has_its_own_counter_indices():
    """Counter indices carry their family's prefix and run 0..COUNT-1 without gaps or repeats."""
    from accelsim.kernels import codes

    for family in ("FOLD", "PE", "SPARSE", "VECTOR"):
        indices = sorted(v for k, v in vars(codes).items() if k.startswith(f"{family}_STAT_") and not k.endswith("_COUNT"))
        assert indices == list(range(getattr(codes, f"{family}_STAT_COUNT"))), family
    assert not [k for k in vars(codes) if k.startswith("STAT_") or k == "N_STATS"]


def test_no_build_artefacts_tracked():
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "accelsim/simulate.py" in out.splitlines()  # the listing is of this repository
    junk = [f for f in out.splitlines() if f.endswith((".pyc", ".nbi", ".nbc", ".whl")) or "__pycache__" in f]
    assert not junk, junk
