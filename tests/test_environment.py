"""environment.yml and pyproject.toml pin the same packages; the CI script runs `make test`."""

from __future__ import annotations

import tomllib

import yaml

from mer_ser._io import repo_root

ROOT = repo_root()


def _pins(specs):
    out = {}
    for s in specs:
        name, _, version = s.partition("==")
        assert version, f"{s!r} is not pinned with =="
        out[name.strip().lower()] = version.strip()
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip
    assert _pins([p for p in pip if p != "-e ."]) == wanted


def test_lock_file_agrees_with_the_direct_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    lines = (ROOT / "requirements-lock.txt").read_text().splitlines()
    lock = _pins([ln for ln in lines if ln and not ln.startswith("#")])
    for name, version in wanted.items():
        assert lock.get(name.replace("_", "-")) == version or lock.get(name) == version, name


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make figures" in readme and "make test" in readme
