"""The mer-ser command line."""

from __future__ import annotations

import argparse
import json

import pytest
from sweep_tasks import NAME as TASK

from mer_ser import cli
from mer_ser.cli import main


@pytest.mark.slow
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


SWEEP = ["sweep", TASK, "--store", "{tmp}/store"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*SWEEP, "--grid", '{"seed": 3}'], "grid axis 'seed' must be a non-empty list"),
        ([*SWEEP, "--grid", "[1]"], "--grid must be a JSON object"),
        ([*SWEEP, "--grid", '{"seed": [0]}', "--base", "[1]"], "--base must be a JSON object"),
        ([*SWEEP, "--grid", "{bad"], "--grid: not JSON"),
        (
            ["sweep", TASK, "--grid", '{"seed": [0]}', "--store", "{tmp}/file"],
            "file: exists and is not a folder",
        ),
        (
            [*SWEEP, "--grid", '{"seed": [0]}', "--base", '{"learning_rate": 0.01}', "--cluster",
             "local:abc"],
            "local:N needs a positive number of workers",
        ),
        ([*SWEEP, "--grid", '{"seed": [0]}'], "needs the config keys ['learning_rate']"),
        (
            ["corpus", "build", "--profile", "quick", "--out", "{tmp}/file"],
            "file: exists and is not a folder",
        ),
        (
            ["corpus", "build", "--profile", "quick", "--shared-code", "5", "--out", "{tmp}/c"],
            "shared_code must lie in [0, 1], got 5",
        ),
        (["figures", "--only", "00", "--corpora", "{bad"], "--corpora corpora: not JSON"),
        (["figures", "--param", "seed=zero"], "--param seed: not JSON"),
        (["figures", "--only", "00", "--param", "nosuch=1"], "'nosuch': not a parameter"),
        (
            ["figures", "--only", "00", "--param", '__import__("os").getcwd();x=1'],
            "not a parameter of the selected notebooks",
        ),
    ],
)  # fmt: skip
def test_a_users_mistake_is_one_error_line_not_a_traceback(tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("x")
    rc = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("mer-ser: error:") and message in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "c").exists() and not (tmp_path / "store" / "units").exists()


def _parsers(p, path=("mer-ser",)):
    yield path, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_command_and_option_says_what_it_does():
    top = cli.parser()
    for path, p in _parsers(top):
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing = {c.dest for c in action._choices_actions if not c.help}
                assert len(action._choices_actions) == len(action.choices), path
                assert not missing, f"{' '.join(path)}: commands without help: {missing}"
            elif action.option_strings:
                assert action.help, f"{' '.join(path)} {action.option_strings[0]}: no help text"
