"""README's quickstart commands are the ones CI and users run."""

import re

from conftest import ROOT


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
