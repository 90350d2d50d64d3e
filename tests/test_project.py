"""The project's promises about itself: set-up files agree, imports are light and harmless."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the check is the same on any version

ROOT = Path(__file__).resolve().parents[1]
# conda-forge spells a few packages differently from PyPI.
CONDA_TO_PYPI = {"pytorch": "torch"}


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~ \[;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pyproject = {requirement_name(s) for s in project["dependencies"] + project["optional-dependencies"]["test"]}

    conda = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        match = re.match(r"^\s+- ([A-Za-z0-9_.\-]+)", line)
        if match and match.group(1) not in ("pip", "python", "-e"):
            name = requirement_name(match.group(1))
            conda.add(CONDA_TO_PYPI.get(name, name))
    assert conda == pyproject


def test_pyproject_admits_the_torch_versions_ci_installs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds = {requirement_name(s): s for s in project["dependencies"]}
    for name, version in (("torch", (2, 14, 1)), ("torchvision", (0, 29, 1))):
        spec = bounds[name]
        assert "==" not in spec and "<" not in spec, f"{name} must be a lower bound only: {spec}"
        lower = tuple(int(part) for part in spec.split(">=")[1].split("."))
        assert lower <= version


def test_importing_leafdl_is_instant_and_touches_nothing(tmp_path):
    code = ("import sys, leafdl; "
            "assert 'torch' not in sys.modules, 'import leafdl must not import torch'; "
            "print(leafdl.__version__)")
    env = {**os.environ, "HOME": str(tmp_path), "TORCH_HOME": str(tmp_path / "torch")}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == __import__("leafdl").__version__


@pytest.mark.slow
def test_importing_every_module_writes_no_files(tmp_path):
    modules = sorted(p.stem for p in (ROOT / "leafdl").glob("*.py") if p.stem != "__init__")
    code = "import importlib\n" + "".join(f"importlib.import_module('leafdl.{m}')\n" for m in modules)
    env = {**os.environ, "HOME": str(tmp_path), "TORCH_HOME": str(tmp_path / "torch"),
           "MPLCONFIGDIR": str(tmp_path / "mpl"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(tmp_path / "mpl")]
    assert written == []   # (matplotlib may build its font cache in its own config folder)


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S).group(1).strip()
    assert command in ci.splitlines()
