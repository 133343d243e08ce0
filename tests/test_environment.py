"""Packaging: ranges in pyproject.toml, exact pins in the lock file and environment.yml, the
import layers, the console script, and the CI script running the README's test command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import mer_ser
from mer_ser._io import repo_root

ROOT = repo_root()
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _lock(file: str = "requirements-lock.txt") -> dict[str, str]:
    out = {}
    for line in (ROOT / file).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"{file}: {line!r} is not pinned with =="
            out[canonicalize_name(name)] = version.strip()
    return out


def _direct(extras=("dev", "bench")) -> list[Requirement]:
    specs = PROJECT["dependencies"] + [
        s for e in extras for s in PROJECT["optional-dependencies"][e]
    ]
    return [Requirement(s) for s in specs]


def test_every_locked_version_lies_in_the_projects_ranges():
    lock = _lock()
    for req in _direct(extras=("dev",)):
        locked = lock.get(canonicalize_name(req.name))
        assert locked, f"{req.name} is a dependency but not in requirements-lock.txt"
        assert req.specifier.contains(locked, prereleases=True), f"{req} excludes locked {locked}"


def test_the_extras_lock_pins_what_the_optional_extras_add_within_their_ranges():
    base, extra = _lock(), _lock("requirements-extras-lock.txt")
    assert not set(base) & set(extra), "a package is pinned in both lock files"
    for e in ("bench", "ssl"):
        for spec in PROJECT["optional-dependencies"][e]:
            req = Requirement(spec)
            locked = extra.get(canonicalize_name(req.name))
            assert locked, f"{req.name} (extra {e}) is not in requirements-extras-lock.txt"
            assert req.specifier.contains(locked), f"{req} excludes locked {locked}"


def test_runtime_dependencies_are_ranges_not_exact_pins():
    exact = [s for s in PROJECT["dependencies"] if "==" in s]
    assert not exact, f"give compatible ranges, pin in requirements-lock.txt: {exact}"


def test_environment_yml_has_exactly_the_lock_files_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e .[dev]" in pip
    pins = {}
    for p in pip:
        if p != "-e .[dev]":
            name, _, version = p.partition("==")
            pins[canonicalize_name(name)] = version
    assert pins == _lock()


def _installed_tree(root: str, extras: set[str]) -> set[str]:
    """Canonical names of every distribution ``root[extras]`` needs, transitively."""
    seen, todo = set(), [(root, frozenset(extras))]
    while todo:
        name, want = todo.pop()
        for spec in metadata.requires(name) or ():
            req = Requirement(spec)
            envs = [{"extra": e} for e in want] or [{"extra": ""}]
            if req.marker and not any(req.marker.evaluate(env) for env in envs):
                continue
            key = canonicalize_name(req.name)
            if key not in seen:
                seen.add(key)
                todo.append((req.name, frozenset(req.extras)))
    return seen


def test_the_lock_file_pins_the_whole_installed_tree():
    lock = _lock()
    for name in sorted(_installed_tree("mer_ser", {"dev"})):
        assert name in lock, f"{name} is installed for mer_ser[dev] but not locked"
        assert metadata.version(name) == lock[name], f"{name}: installed != locked"


def test_the_ssl_extra_where_installed_is_the_locked_tree():
    pytest.importorskip("transformers", reason="the optional `ssl` extra is not installed")
    lock = _lock() | _lock("requirements-extras-lock.txt")
    for name in sorted(_installed_tree("mer_ser", {"dev", "ssl"})):
        assert name in lock, f"{name} is installed for mer_ser[ssl] but not locked"
        installed = Version(metadata.version(name)).public  # torch's "+cpu" build label aside
        assert installed == lock[name], f"{name}: installed {installed} != locked {lock[name]}"


def test_the_import_layers_hold():
    out = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_an_upward_import_inside_a_function_breaks_the_layers(tmp_path):
    """The contract is not vacuous: a model importing the experiments, even lazily, is caught."""
    shutil.copytree(ROOT / "mer_ser", tmp_path / "mer_ser", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "mer_ser" / "models" / "lstm.py", "a") as f:
        f.write("\n\ndef _sneaky():\n    from mer_ser.experiments import coutinho2017  # noqa\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tmp_path, capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    assert out.returncode == 1, out.stdout + out.stderr
    assert "mer_ser.models.lstm -> mer_ser.experiments.coutinho2017" in out.stdout


@pytest.mark.slow
def test_the_console_script_runs_the_cli():
    script = Path(sys.executable).with_name("mer-ser")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"mer-ser {mer_ser.__version__}"
    assert mer_ser.__version__ == PROJECT["version"]
    help_ = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    for command in ("corpus", "figures", "sweep", "screenshot", "bench"):
        assert re.search(rf"^\s+{command}\s+\S", help_.stdout, re.MULTILINE), command


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make figures" in readme and "make test" in readme and "make test-fast" in readme
