"""Every command the README and docs/ show runs, on the base install, and does what the text says.

The `accelsim ...` and `python ...` lines of fenced bash/console blocks are run in order, one
document at a time, in a scratch copy of the repository's data, with the optional extras
(onnx, onnxruntime, dask) made unimportable: a base install (`pip install -e .`). A command
whose success needs an extra must then stop with exit code 2 and the pip command to get it.
The fast test runs them on a reduced input (the zoo networks replaced by the tiny CNN); the
slow one runs them as written.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OPTIONAL = ("onnx", "onnxruntime", "dask", "distributed")   # extras, not in `pip install -e .`
NEEDS_EXTRA = {"accelsim import": "pip install 'accelsim[onnx]'"}
NOT_RUN = ("python -m pytest",)                             # the suite that runs this test
DATA = ("arch_configs", "workloads", "benchmarks", "tests/data")
BLOCKER = f"""import sys
for name in {OPTIONAL!r}:
    sys.modules[name] = None  # `import {OPTIONAL[0]}` raises ModuleNotFoundError, find_spec returns None
"""


@dataclass(frozen=True)
class Command:
    document: str
    line: str
    expected_output: tuple[str, ...]  # documented output lines that start with "error:" and follow it

    @property
    def argv(self) -> list[str]:
        words = shlex.split(self.line)
        return [sys.executable, "-m", "accelsim", *words[1:]] if words[0] == "accelsim" else [sys.executable,
                                                                                              *words[1:]]


def commands(path: Path) -> list[Command]:
    """The runnable lines of ``path``'s fenced bash/console blocks, continuations joined, comments cut."""
    found = []
    for block in re.findall(r"```(?:bash|console|sh)\n(.*?)```", path.read_text(), re.S):
        lines = re.sub(r"\\\n\s*", " ", block).splitlines()
        for index, line in enumerate(lines):
            line = line.strip().removeprefix("$ ")
            line = line.split(" && ")[-1]                    # `pip install -e . && accelsim run ...`
            line = re.split(r"\s+#", line)[0].strip()
            if not line.startswith(("accelsim ", "python ")) or line.startswith(NOT_RUN):
                continue
            output = []
            for following in lines[index + 1:]:
                if following.startswith("$ ") or not following.strip():
                    break
                output.append(following)
            errors = tuple(output) if output and output[0].startswith("error:") else ()
            found.append(Command(path.name, line, errors))
    return found


def test_the_docs_show_commands_to_run():
    names = {c.document for p in DOCUMENTS for c in commands(p)}
    assert {"README.md", "dse.md", "running.md", "workloads.md"} <= names
    readme = [c.line for c in commands(ROOT / "README.md")]
    assert any(line.startswith("accelsim sweep") for line in readme)
    assert any(line.startswith("accelsim plot") for line in readme)


def _sandbox(tmp_path: Path, reduced: bool) -> tuple[Path, dict]:
    work = tmp_path / "repo"
    for folder in DATA:
        shutil.copytree(ROOT / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (work / "docs").mkdir()
    if reduced:  # every zoo network becomes the tiny CNN: same commands, seconds instead of minutes
        tiny = (ROOT / "workloads" / "tiny_cnn.yaml").read_text()
        for path in (work / "workloads").glob("*.yaml"):
            path.write_text(tiny)
    site = tmp_path / "base_install"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "MPLBACKEND": "Agg"}
    return work, env


def _outputs(line: str) -> list[str]:
    """Files a command says it writes (-o/--plot/--out); a sweep's -o is a directory."""
    words = shlex.split(line)
    named = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-o", "--output", "--plot", "--out")]
    return [] if words[1] == "sweep" else [n for n in named if n != "-"]


def run_subprocess(command: Command, work: Path, env: dict) -> tuple[int, str, str]:
    done = subprocess.run(command.argv, cwd=work, env=env, capture_output=True, text=True, timeout=3600)
    return done.returncode, done.stdout, done.stderr


def run_in_process(command: Command, work: Path, env: dict) -> tuple[int, str, str]:
    """The same command in this process (no interpreter start-up per command); the caller blocks the extras."""
    from accelsim import cli

    words = shlex.split(command.line)
    out, err = io.StringIO(), io.StringIO()
    argv, cwd = sys.argv, os.getcwd()
    os.chdir(work)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                if words[0] == "accelsim":
                    code = cli.main(words[1:])
                elif words[1] == "-m":
                    sys.argv = [words[2], *words[3:]]
                    with warnings.catch_warnings():  # the module was imported before: harmless here
                        warnings.filterwarnings("ignore", "'.*' found in sys.modules", RuntimeWarning)
                        runpy.run_module(words[2], run_name="__main__", alter_sys=True)
                    code = 0
                else:
                    sys.argv = words[1:]
                    runpy.run_path(words[1], run_name="__main__")
                    code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else 1
            except Exception:  # noqa: BLE001 - reported like a subprocess's traceback
                traceback.print_exc(file=err)
                code = 1
    finally:
        sys.argv = argv
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


def run_document(path: Path, tmp_path: Path, reduced: bool, runner=run_subprocess, skip: tuple[str, ...] = ()
                 ) -> list[str]:
    """Run every command of ``path`` with ``runner``; the lines run."""
    work, env = _sandbox(tmp_path, reduced)
    ran = []
    for command in commands(path):
        if command.line.startswith(skip):
            continue
        code, stdout, stderr = runner(command, work, env)
        shown = f"{path.name}: {command.line}\n{stdout[-2000:]}\n{stderr[-2000:]}"
        assert "Traceback" not in stderr, shown
        extra = next((msg for prefix, msg in NEEDS_EXTRA.items() if command.line.startswith(prefix)), None)
        if extra:
            assert code == 2 and extra in stderr, shown
        elif command.expected_output:
            assert code == 2, shown
            for expected in command.expected_output:
                assert expected in stderr.splitlines(), shown
        else:
            assert code == 0, shown
            for written in _outputs(command.line):
                target = work / written
                assert target.exists() or target.with_name(target.name + ".png").exists(), shown
        ran.append(command.line)
    return ran


SLOW_ONLY = ("python benchmarks/",)  # runs every zoo transformer under six implementations: minutes


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_documented_command_runs_on_the_base_install(path, tmp_path, monkeypatch):
    """The commands as written, in this process, on the tiny CNN instead of the zoo networks."""
    for name in OPTIONAL:
        monkeypatch.setitem(sys.modules, name, None)
    ran = run_document(path, tmp_path, reduced=True, runner=run_in_process, skip=SLOW_ONLY)
    assert len(ran) == len([c for c in commands(path) if not c.line.startswith(SLOW_ONLY)])


@pytest.mark.slow
@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_documented_command_runs_as_written_on_the_base_install(path, tmp_path):
    """Each command in a fresh interpreter that cannot import the extras, on the real inputs."""
    run_document(path, tmp_path, reduced=False)


def test_without_pyarrow_parquet_outputs_stop_before_work(tmp_path):
    """Not part of a base install any more, but a user may remove it: a clear error, no traceback."""
    work, env = _sandbox(tmp_path, reduced=True)
    (tmp_path / "base_install" / "sitecustomize.py").write_text(BLOCKER.replace(repr(OPTIONAL),
                                                                                repr((*OPTIONAL, "pyarrow"))))
    for argv in (["run", "arch_configs/edge_32x32.yaml", "workloads/resnet18.yaml", "-o", "x.parquet"],
                 ["sweep", "workloads/sweeps/resnet50_array_x_sram.yaml", "-o", "results/r50"]):
        done = subprocess.run([sys.executable, "-m", "accelsim", *argv], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 2 and "pip install pyarrow" in done.stderr and "Traceback" not in done.stderr
    assert not (work / "results").exists()


def quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_has_run_and_test_commands():
    run, test = quickstart_commands()[:2]
    assert run.startswith("pip install") and "accelsim " in run
    assert test.startswith("pip install") and "pytest" in test


def test_ci_runs_the_readme_test_command():
    test = quickstart_commands()[1]
    assert test in (ROOT / ".ci" / "run").read_text()
