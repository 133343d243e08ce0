"""Notebooks: thin, parameterised, stored without outputs, and runnable headlessly on `quick`."""

from __future__ import annotations

import ast
import json
import re

import nbformat
import pandas as pd
import pytest
from test_docs import FIGURES

from mer_ser._io import repo_root
from mer_ser.bench.training import regressor_matmul_flops
from mer_ser.figures import notebooks, run_all

NOTEBOOKS = notebooks()


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in _code(nb):
        assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_and_parameterised(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and "mer-ser figures --only" in nb.cells[0].source
    params = [c for c in _code(nb) if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    names = {
        t.id
        for node in ast.parse(params[0].source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
    }
    assert {"profile", "seed", "data_root", "corpora", "figures_dir"} <= names
    for cell in _code(nb):
        tree = ast.parse(cell.source)
        defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert not defs, f"{path.name}: move function/class definitions into the package"
        lambdas = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
        assert not lambdas, f"{path.name}: a lambda in a cell is logic; move it into the package"
        writes = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "to_csv"]
        assert not writes, f"{path.name}: write tables with plots.save_csv / plots.save_table"


def _schedule(numbers, jobs):
    """The notebooks running at each moment of a run where the lowest-numbered one ends first."""
    from mer_ser.figures import ready

    selected = {n: n for n in numbers}
    waiting, running, moments = dict(selected), {}, []
    while waiting or running:
        for num in ready(waiting, selected, running, jobs):
            running[object()] = waiting.pop(num)
        moments.append(sorted(running.values()))
        running.pop(min(running, key=running.get))
    return moments


def test_notebooks_wait_for_what_they_read_and_the_two_tracks_run_side_by_side():
    every = [p.name[:2] for p in NOTEBOOKS]
    assert _schedule(every, jobs=2) == [
        ["00"], ["01", "05"], ["02", "05"], ["03", "05"], ["04", "05"], ["05", "06"],
        ["06", "07"], ["07", "10"], ["08", "10"], ["10"], ["09"],
    ]  # fmt: skip
    assert _schedule(every, jobs=1) == [[n] for n in every if n != "09"] + [["09"]]
    assert _schedule(["03", "05", "09"], jobs=2) == [["03", "05"], ["05"], ["09"]]
    assert _schedule(["08", "09"], jobs=4) == [["08"], ["09"]]  # 09 always alone, last
    assert _schedule(["09", "10"], jobs=1) == [["10"], ["09"]]


@pytest.mark.slow
def test_a_failing_notebook_stops_the_run_and_names_its_executed_copy(tmp_path, capfd):
    from mer_ser.figures import NotebookFailed

    with pytest.raises(NotebookFailed, match=r"00_datasets\.ipynb failed") as err:
        run_all(
            only=["00", "01"],
            profile="quick",
            data_root=tmp_path / "data",
            figures_dir=tmp_path / "figures",
            build_dir=tmp_path / "build",
            extra={"corpora": {"music": "nosuchadapter:/x"}},
            progress=False,
        )
    assert str(tmp_path / "build" / "notebooks" / "00_datasets.ipynb") in str(err.value)
    printed = capfd.readouterr().err
    assert printed.count("must look like 'builtin:<part>'") == 1  # the notebook's error, once
    assert re.search(r"00_datasets\.ipynb: cell \d+ raised ValueError", printed)
    assert "Traceback" not in printed
    assert not (tmp_path / "build" / "notebooks" / "01_features.ipynb").exists()  # not started
    assert not (tmp_path / "build" / "notebook_times_quick.json").exists()


@pytest.fixture(scope="module")
def executed(quick_root, data_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("nb")
    kwargs = {
        "profile": "quick",
        "seed": 0,
        "figures_dir": out / "figures",
        "data_root": data_root,
        "build_dir": out / "build",
        "progress": False,
    }
    run_all(**kwargs)
    run_all(only=["01"], **kwargs)  # second run: every feature comes from the cache
    return out


@pytest.mark.slow
def test_notebooks_run_on_quick_and_write_their_figures(executed):
    figs = executed / "figures"
    for name in FIGURES:
        assert (figs / name).stat().st_size > 0, name
    summary = pd.read_csv(figs / "datasets.csv").set_index("corpus")
    assert set(summary.index) >= {"speech_continuous", "music_static", "speech_pool"}
    assert summary.loc["speech_continuous", "alpha_arousal"] > 0.5
    r = pd.read_csv(figs / "cue_correlations.csv").set_index(["domain", "cue"])["r"]
    assert r["speech", "loudness_db"] > 0.5 and r["music", "event_rate"] > 0.5
    long = pd.read_csv(figs / "continuous_results.csv")
    cols = ["condition", "source", "target", "dimension", "metric", "trial", "instance", "value"]
    assert list(long.columns[:8]) == cols
    assert set(long["condition"]) == {"M2M", "S2S", "S2M", "M2S", "S2M_TL", "M2S_TL"}
    assert set(long["normalisation"]) == {"paper", "domain"}
    tt = pd.read_csv(figs / "ttests.csv")
    # paired tests of 3 pairs x 3 metrics x 2 dimensions x 2 target domains x 2 normalisations,
    # corrected over the whole file
    assert len(tt) == 2 * 2 * 2 * 3 * 3 and set(tt["test"]) == {"paired t"}
    assert (tt["p_bonferroni"] >= tt["p_holm"]).all() and (tt["p_holm"] >= tt["p"]).all()
    for name in ("rodningen2022_tests.csv", "gomezcanon2021_tests.csv"):
        qt = pd.read_csv(figs / name)
        assert len(qt) > 0 and qt["p"].between(0, 1).all() and (qt["p_holm"] >= qt["p"]).all()
        # the CSV keeps 6 significant digits
        assert (qt["diff"] - (qt["accuracy_a"] - qt["accuracy_b"])).abs().max() < 1e-5
    assert set(pd.read_csv(figs / "rodningen2022_results.csv")["protocol"]) == {"rodningen2022"}
    gc = pd.read_csv(figs / "gomezcanon2021_results.csv")
    assert set(gc["protocol"]) == {"gomezcanon2021"}
    assert set(gc["setting"]) == {"eng2eng", "man2eng", "mix2eng", "man2man", "eng2man", "mix2man",
                                  "music_eng", "music_man"}  # fmt: skip
    assert set(gc["amount"]) == {"exp1", "exp2", "none"} and gc["value"].between(0, 1).all()
    assert set(gc["encoder"]) == {"SCAE", "CPC", "DAE-Classifier", "CNN", "random SCAE",
                                  "eGeMAPS logistic"}  # fmt: skip
    assert set(gc.loc[gc["encoder"] == "DAE-Classifier", "head"]) == {"quadrant"}
    t2 = pd.read_csv(figs / "table2.csv")
    assert list(t2.columns[2:5]) == ["man2man P", "man2man R", "man2man F"]
    assert t2["model"].iloc[0] == "DAE-Classifier" and t2["head"].iloc[0] == "Q"
    # the linear baselines: a row of each table, beside the deep models on the same clips
    assert t2["model"].iloc[-1] == "eGeMAPS logistic"
    t51 = pd.read_csv(figs / "table5_1.csv").set_index("experiment")
    assert t51.loc["3b", "model"] == "eGeMAPS SVM" and t51.loc["3b", "runs"] == 1
    intra = pd.read_csv(figs / "intra_domain.csv")
    assert {"M2M ridge (compare_1hz)", "S2S ridge (compare_1hz)"} <= set(intra["condition"])
    assert len(pd.read_csv(figs / "intra_domain_tests.csv")) == 2 * 2  # M2M, S2S x A, V


@pytest.mark.slow
def test_the_notebooks_export_every_continuous_condition_and_predict_applies_one(
    executed, data_root, tmp_path, capsys
):
    import numpy as np
    import soundfile as sf

    from mer_ser.cli import main
    from mer_ser.corpora.audio import AudioRepair

    conditions = ("M2M", "S2S", "S2M", "M2S", "S2M_TL", "M2S_TL")
    assert main(["models", "--data-root", str(data_root)]) == 0
    listed = capsys.readouterr().out
    for c in conditions:
        assert f"coutinho2017_{c}: continuous ContinuousRegressor, {c} trained on" in listed
    t = np.arange(7 * 22050) / 22050  # not in any corpus, another rate, stereo
    y = 0.2 * np.sin(2 * np.pi * 330 * t) * (1 + np.sin(2 * np.pi * 0.3 * t))
    sf.write(tmp_path / "new.wav", np.stack([y, 0.5 * y], axis=1), 22050)
    out = tmp_path / "pred.csv"
    plots = tmp_path / "plots"
    argv = ["predict", "--model", "coutinho2017_S2M", "--data-root", str(data_root),
            str(tmp_path / "new.wav"), "--out", str(out), "--plot", str(plots)]  # fmt: skip
    with pytest.warns(AudioRepair) as repairs:  # each kind of repair reported once
        assert main(argv) == 0
    assert sorted(str(w.message).split(": ")[1].split(" in ")[0] for w in repairs) == [
        "downmixed 2 channels to mono",
        "resampled 22050 Hz to 16000 Hz",
    ]
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["file", "start", "end", "arousal", "valence", "arousal_sd",
                                  "valence_sd"]  # fmt: skip
    assert len(pred) == 6 and pred[["arousal", "valence"]].abs().max().max() < 5
    assert (plots / "000_new.png").stat().st_size > 0


@pytest.mark.slow
def test_the_quadrant_notebooks_export_their_classifiers_and_predict_applies_one_to_an_mp3(
    executed, data_root, tmp_path, capsys
):
    import numpy as np
    import soundfile as sf

    from mer_ser.cli import main

    assert main(["models", "--data-root", str(data_root)]) == 0
    listed = capsys.readouterr().out
    for name in ("rodningen2022_DCNN_MER2MER", "rodningen2022_DCNN_SER2MER"):
        assert f"{name}: quadrant DCNN," in listed
    for name in ("SCAE-feat_ext", "SCAE-full", "CPC-feat_ext"):
        for setting in ("mix2eng", "mix2man"):
            assert f"gomezcanon2021_{name}_{setting}: quadrant SCAEClassifier" in listed
    assert "gomezcanon2020_DAE-Classifier_mix2eng: quadrant PackedDAEClassifier" in listed
    for h in (32,):  # the quick profile's DAE grid
        for sigma in ("0.1", "0.4"):
            assert f"coutinho2017_DAE_H{h}_sigma{sigma}: encoder LSTMDAE, H {h}" in listed
    t = np.arange(12 * 22050) / 22050  # 12 s: more than one 5-s window of the quick DCNN
    y = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.5 * t))
    sf.write(tmp_path / "new.mp3", y, 22050, format="MP3", subtype="MPEG_LAYER_III")
    out, windows, plots = tmp_path / "q.csv", tmp_path / "w.csv", tmp_path / "plots"
    argv = ["predict", "--model", "rodningen2022_DCNN_MER2MER", "--data-root", str(data_root),
            str(tmp_path / "new.mp3"), "--out", str(out), "--windows", str(windows),
            "--plot", str(plots)]  # fmt: skip
    with pytest.warns(UserWarning, match="resampled 22050 Hz"):
        assert main(argv) == 0
    q = pd.read_csv(out)
    assert list(q.columns[:6]) == ["file", "quadrant", "Q1", "Q2", "Q3", "Q4"]
    assert len(q) == 1 and q[["Q1", "Q2", "Q3", "Q4"]].sum(axis=1).item() == pytest.approx(1)
    w = pd.read_csv(windows)
    assert len(w) == q["windows"].item() >= 4  # 0, 2.5, 5 and the last, ending at 12 s
    assert (plots / "000_new.png").stat().st_size > 0


@pytest.mark.slow
def test_performance_notebook_times_this_run_and_every_notebook_before_it(executed):
    perf = pd.read_csv(executed / "figures" / "performance.csv")
    here = perf[perf["source"] == "this run"]
    assert set(here["part"]) == {"a", "b", "c", "d"} and set(perf["part"]) >= {"e"}
    a = here[here["part"] == "a"].set_index("measure")
    rate = "continuous regressor matmul rate"
    bound = "continuous regressor first-layer products alone"
    assert list(a.index) == ["continuous regressor step", rate, bound, "DCNN step"]
    assert (a["value"] > 0).all()
    # The step as matrix-product work: the counted GFLOP over the step time, as a share of the
    # device's large-product rate (the reference).
    gflop = regressor_matmul_flops(31, 100) / 1e9  # the profile's regressor shape
    step_s = a.loc["continuous regressor step", "value"]
    assert a.loc[rate, "value"] == pytest.approx(gflop / step_s, rel=1e-4)
    share = a.loc[rate, "value"] / a.loc[rate, "reference"]  # the CSV keeps 6 digits
    assert a.loc[rate, "ratio"] == pytest.approx(share, rel=1e-4)
    # The lower bound is PyTorch's step against the first layer's products alone: the same
    # reference as the step's row.
    assert a.loc[bound, "reference"] == a.loc["continuous regressor step", "reference"] or (
        pd.isna(a.loc[bound, "reference"])
    )
    torch_rows = a.drop(index=rate).dropna(subset=["reference"])  # where PyTorch is installed
    pd.testing.assert_series_equal(
        torch_rows["ratio"], torch_rows["reference"] / torch_rows["value"], check_names=False
    )
    b = here[here["part"] == "b"]
    assert list(b["k"]) == [1, 8] and (b["value"] > 0).all()
    assert b["reference"].nunique() <= 1  # a sequential PyTorch loop: one model's rate for any K
    c = here[here["part"] == "c"].set_index("measure")
    assert c.loc["ComParE 1 Hz extraction", "value"] > 1  # faster than real time on any machine
    assert c.loc["cached rerun", "value"] < 60
    d = here[here["part"] == "d"].set_index("setting")
    stems = [p.stem for p in NOTEBOOKS if p.stem != "09_performance"]  # 09 itself: last
    assert list(d.index) == [*stems, "09_performance", "one run, filled data root"]
    times = json.loads((executed / "build" / "notebook_times_quick.json").read_text())
    rerun = times.pop("01_features")  # the fixture reran 01 after 09: a later run replaced it
    assert rerun["run"]["started"] >= times["00_datasets"]["run"]["started"]
    assert d.loc["01_features", "value"] > 0
    for stem in times:  # 09 itself and the notebooks before it, as they were recorded
        if stem != "09_performance":
            assert d.loc[stem, "value"] == times[stem]["wall_s"] > 0
    assert d.loc["09_performance", "value"] <= times["09_performance"]["wall_s"]


@pytest.mark.slow
def test_second_run_of_the_features_notebook_extracts_nothing(executed):
    nb = json.loads((executed / "build" / "notebooks" / "01_features.ipynb").read_text())
    text = "".join(
        "".join(o.get("data", {}).get("text/plain", "")) + "".join(o.get("text", ""))
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
    )
    assert "ExtractionReport(extracted=0," in text


@pytest.fixture(scope="module")
def real_layouts(tmp_path_factory):
    """Fixture-sized copies of RECOLA, DEAM, MSP-Podcast and 4Q in their real layouts."""
    from corpus_fixtures import write_4q, write_deam, write_msp_podcast, write_recola

    root = tmp_path_factory.mktemp("real")
    write_recola(root / "RECOLA", seconds=14.0, n={"train": 3, "dev": 2, "test": 1})
    songs = {
        str(i): (30.0, 44100, 2, "2013" if i < 1000 else "2014") for i in (2, 3, 7, 1001, 1002)
    }
    write_deam(root / "DEAM", songs)
    write_msp_podcast(root / "MSP")
    write_4q(root / "4Q")
    return root


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::mer_ser.corpora.adapters.UnmatchedWarning")
def test_notebooks_run_on_real_corpus_layouts(real_layouts, tmp_path):
    """00 on four real layouts; the continuous track (03, 04, 07) on RECOLA + DEAM; Rodningen's
    quadrant track (05) on MSP-Podcast + 4Q."""
    r = real_layouts
    kwargs = {
        "profile": "quick",
        "seed": 0,
        "data_root": tmp_path / "data",
        "figures_dir": tmp_path / "figures",
        "build_dir": tmp_path / "build",
        "progress": False,
    }
    specs = [
        f"recola:{r / 'RECOLA'}",
        f"deam:{r / 'DEAM'}",
        f"msp_podcast:{r / 'MSP'}",
        f"4q:{r / '4Q'}",
    ]
    run_all(only=["00"], extra={"corpora": specs}, **kwargs)
    summary = pd.read_csv(tmp_path / "figures" / "datasets.csv").set_index("corpus")
    assert set(summary.index) == {"recola", "deam", "msp_podcast", "4q"}
    assert (tmp_path / "figures" / "av_distribution.png").stat().st_size > 0
    continuous = {
        "music": f"deam:{r / 'DEAM'}",
        "speech": f"recola:{r / 'RECOLA'}",
        "pools": [f"deam:{r / 'DEAM'}", f"recola:{r / 'RECOLA'}"],
    }
    run_all(only=["03", "04", "07"], extra={"corpora": continuous, "sweep_levels": []}, **kwargs)
    long = pd.read_csv(tmp_path / "figures" / "continuous_results.csv")
    assert set(long["source"]) == {"deam", "recola"} and set(long["target"]) == {"deam", "recola"}
    ccc = long[(long["metric"] == "ccc") & (long["dimension"] == "arousal")]
    assert set(ccc["instance"]) == {
        "2",
        "3",
        "7",
        "1001",
        "1002",
        "train_1",
        "train_2",
        "train_3",
        "dev_1",
        "dev_2",
    }
    assert ccc["value"].between(-1, 1).all()
    # The quadrant track (05) on MSP-Podcast speech and 4Q music.
    quadrant = {"speech": f"msp_podcast:{r / 'MSP'}", "music": f"4q:{r / '4Q'}"}
    run_all(only=["05"], extra={"corpora": quadrant}, **kwargs)
    results = pd.read_csv(tmp_path / "figures" / "rodningen2022_results.csv")
    assert set(results["setting"]) == {"SER2MER", "MER2MER"}
    assert set(results["normalisation"]) == {"source", "domain"}
    assert results["value"].between(0, 1).all()
    table = pd.read_csv(tmp_path / "figures" / "table5_1.csv")
    assert list(table["experiment"]) == ["0", "0", "1a", "1a", "1b", "3a", "3a", "3b"]
    assert (tmp_path / "figures" / "confusion_rodningen2022_SER2MER.png").stat().st_size > 0


@pytest.mark.slow
def test_scrubber_scrubs_in_jupyterlab_in_a_real_browser(executed, data_root):
    """JupyterLab on 127.0.0.1 with a token, Debian's Chromium driven by Playwright: notebook 08
    runs, a click on the slider moves the cursor and the arousal-valence points, the audio is
    loaded and plays from the cursor, which follows it; the screenshot goes to the ignored build
    folder."""
    from mer_ser.widgets.browser import drive_scrubber, find_chromium, jupyterlab, prepare_notebook

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium not found (.ci/run installs Debian's chromium with apt; here apt was "
                    "unavailable or failed): the browser test cannot run")  # fmt: skip
    lab = executed / "lab"
    params = {"profile": "quick", "data_root": str(data_root), "figures_dir": str(lab / "figures")}
    name = prepare_notebook(repo_root() / "notebooks" / "08_explore.ipynb", lab, params)
    shot = repo_root() / "build" / "browser" / "scrubber.png"
    import numpy as np
    import soundfile as sf

    t = np.arange(8 * 16000) / 16000  # a recording in no corpus, opened from the page
    sf.write(lab / "opened.wav", 0.2 * np.sin(2 * np.pi * 440 * t) * (t / 8), 16000)
    with jupyterlab(lab) as (base, token):
        res = drive_scrubber(base, token, name, chromium=chromium, screenshot=shot, at=0.7,
                             open_file=lab / "opened.wav")  # fmt: skip
    before, after = res["before"], res["after"]
    print(json.dumps(res, default=str))
    duration = after["audio_duration"]
    assert after["slider"] == pytest.approx(0.7 * duration, abs=0.03 * duration)  # the click
    assert after["cursor_x"] > before["cursor_x"]  # notebook 08 leaves it at 30 s, before 70 %
    moved = [k for k in before["av"] if before["av"][k] != after["av"][k]]
    assert "gold standard" in moved and "M2M" in moved, (before["av"], after["av"])
    assert after["audio_src"].startswith("blob:") and after["audio_duration"] > 1
    # ▶ play: the audio starts at the cursor (not at 0) and the cursor follows it
    playing = res["playing"]
    assert after["slider"] + 0.5 < playing["audio_time"] < after["slider"] + 10
    assert playing["cursor_x"] > after["cursor_x"] and playing["slider"] > after["slider"]
    assert shot.stat().st_size > 10_000
    # a file from disk, opened through the path field: its bundles' curves are drawn, and a
    # click at the middle of the timeline puts the cursor there
    opened = res["file"]
    assert opened["title"] == "files / opened.wav", opened
    assert {"coutinho2017_S2M", "rodningen2022_DCNN_MER2MER"} <= set(opened["curves"]), opened
    assert opened["cursor_after"] == pytest.approx(opened["timeline_width"] / 2, abs=3)
    assert opened["cursor_after"] != opened["cursor_before"]
    assert "opened" in opened["status"]
