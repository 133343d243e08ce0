"""The mer-ser command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mer_ser.cli import main


def test_corpus_build_reports_the_corpus(quick_root, capsys):
    # A folder already holding this corpus is read back, not rebuilt.
    rc = main(["corpus", "build", "--profile", "quick", "--seed", "0", "--out", str(quick_root)])
    assert rc == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["clips"] == 94 and 0.4 < info["hours"] < 0.55


def test_mismatched_folder_is_a_clean_error(tmp_path, capsys):
    from mer_ser.corpora.synthetic import SyntheticConfig, build_corpus

    build_corpus(
        tmp_path, SyntheticConfig(profile="quick", parts=("music_static",)), progress=False
    )
    rc = main(["corpus", "build", "--profile", "quick", "--seed", "3", "--out", str(tmp_path)])
    assert rc == 2
    assert "mer-ser: error:" in capsys.readouterr().err


def test_unknown_notebook_number_is_a_clean_error(capsys):
    assert main(["figures", "--only", "42"]) == 2
    assert "no notebook numbered ['42']" in capsys.readouterr().err


def test_figures_passes_corpora_and_parameters_to_the_notebooks(monkeypatch):
    seen = {}
    monkeypatch.setattr("mer_ser.figures.run_all", lambda **kw: seen.update(kw))
    spec = '{"music": {"kind": "deam", "root": "/d"}, "speech": "recola:/r", "pools": []}'
    assert main(["figures", "--only", "04", "--corpora", spec, "--param", "sweep_levels=[]"]) == 0
    assert seen["jobs"] is None  # run_all's default: min(2, cores)
    assert seen["extra"] == {
        "corpora": {"music": {"kind": "deam", "root": "/d"}, "speech": "recola:/r", "pools": []},
        "sweep_levels": [],
    }
    with pytest.raises(SystemExit, match="--param seed: not JSON"):
        main(["figures", "--param", "seed=zero"])


@pytest.mark.parametrize(
    "args", [["--help"], ["corpus", "build", "--help"], ["bench", "features", "--help"]]
)
def test_console_script_is_installed(args):
    out = subprocess.run(
        [sys.executable, "-m", "mer_ser.cli", *args], capture_output=True, text=True
    )
    assert out.returncode == 0 and "usage: mer-ser" in out.stdout
