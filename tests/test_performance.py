"""The performance table: notebook times recorded as they end, targets judged honestly."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from mer_ser._io import repo_root
from mer_ser.bench import performance as perf
from mer_ser.figures import read_notebook_times, record_notebook_time

RUN = {"started": "2026-11-23T06:00:00+00:00", "cold": True, "cpus": 2}


def test_notebook_times_are_recorded_one_by_one_and_keep_other_notebooks(tmp_path):
    path = tmp_path / "notebook_times_default.json"
    path.write_text(json.dumps({"08_explore": 52.6}))  # the old flat format is dropped
    record_notebook_time(path, "00_datasets", wall_s=60.0, cpu_s=110.0, run=RUN)
    record_notebook_time(path, "01_features", wall_s=30.0, cpu_s=30.0, run=RUN)
    later = {**RUN, "started": "2026-11-23T07:00:00+00:00", "cold": False}
    record_notebook_time(path, "01_features", wall_s=3.0, cpu_s=2.5, run=later)
    times = read_notebook_times(tmp_path, "default")
    assert list(times) == ["00_datasets", "01_features"]
    assert times["00_datasets"] == {"wall_s": 60.0, "cpu_s": 110.0, "run": RUN}
    assert times["01_features"]["wall_s"] == 3.0 and times["01_features"]["run"] == later
    assert read_notebook_times(tmp_path / "none", "default") == {}
    path.write_text("{broken")
    with pytest.raises(ValueError, match=r"notebook_times_default\.json"):
        read_notebook_times(tmp_path, "default")


def test_make_figures_total_is_judged_only_for_one_run_from_an_empty_data_root():
    times = {  # 01 and 05 side by side after 00; 01 ends last, at 1,080 s
        "00_datasets": {"wall_s": 600.0, "cpu_s": 1200.0, "run": {**RUN, "start_s": 0.0}},
        "01_features": {"wall_s": 480.0, "cpu_s": 400.0, "run": {**RUN, "start_s": 600.0}},
        "05_ser_to_mer": {"wall_s": 400.0, "cpu_s": 540.0, "run": {**RUN, "start_s": 600}},
    }
    rows = perf.notebook_rows(times, "cpu", this_notebook=("09_performance", 120.0))
    df = perf.performance_table(rows)
    nb = df[df["measure"] == "notebook wall time"].set_index("setting")
    assert list(nb.index) == [*times, "09_performance"]
    assert nb.loc["00_datasets", "cores_busy"] == 2.0
    assert list(nb["start_s"]) == [0.0, 600.0, 600.0, 1080.0]  # 09 after the last one ended
    total = df[df["measure"] == "make figures"].iloc[0]
    assert total["value"] == pytest.approx(20.0) and total["unit"] == "min"
    assert bool(total["met"])  # 20 min: within the target
    times["05_ser_to_mer"]["run"] = {**RUN, "started": "later", "start_s": 0.0}
    df = perf.performance_table(perf.notebook_rows(times, "cpu"))
    assert list(df["start_s"].iloc[:3]) == [0.0, 600.0, 1080.0]  # no common clock: in sequence
    total = df.iloc[-1]
    assert total["setting"] == "notebooks of several runs" and total["met"] is None
    assert total["value"] == pytest.approx(1480 / 60)
    for t in times.values():
        t["run"] = {**t["run"], "started": RUN["started"], "cold": False}
    total = perf.performance_table(perf.notebook_rows(times, "cpu")).iloc[-1]
    assert total["setting"] == "one run, filled data root" and total["met"] is None


def test_the_committed_gpu_record_is_read_with_its_machine_and_judged_on_its_targets():
    bench = repo_root() / "benchmarks"
    (path,) = sorted(bench.glob("gpu_*.json"))
    rec = json.loads(path.read_text())
    rows = perf.performance_table(perf.recorded_gpu_rows(bench))
    assert set(rows["device"]) == {rec["machine"]["accelerator"]}
    assert set(rows["part"]) == {"e"} and set(rows["source"]) == {
        f"{path.name} (JAX {rec['machine']['jax']}, PyTorch {rec['machine']['torch']})"
    }
    conv = rows[rows["target_name"] == "gpu_conv_vs_torch_best"].set_index("measure")
    for name, label in (("dcnn", "DCNN step"), ("adcrnn", "ADCRNN step")):
        c = rec["conv"][name]
        fastest_torch = min(c["torch_float32_s"], c["torch_best_s"])
        assert conv.loc[label, "value"] == min(c["mer_ser_float32_s"], c["mer_ser_bfloat16_s"])
        assert conv.loc[label, "ratio"] == pytest.approx(fastest_torch / conv.loc[label, "value"])
        assert conv.loc[label, "met"] == (conv.loc[label, "ratio"] >= 1.5)
    thesis = rows[rows["target_name"] == "gpu_thesis_speedup"]
    assert list(thesis["reference"]) == [2.0, 27.0]  # the thesis' A100 hours (section 4.6)
    # At 200 epochs per run the projection bounds the time from above, the speedup from below.
    assert list(thesis["ratio"]) == pytest.approx(list(thesis["reference"] / thesis["value"]))
    paper = rows[rows["measure"] == "paper profile (projected)"].set_index("setting")
    assert len(paper) == 3
    cont = rows[rows["target_name"] == "paper_profile_gpu_minutes"].iloc[0]
    lo, hi = (
        60 * rec["paper_profiles"]["continuous"][k]
        for k in ("hours_min_epochs", "hours_max_epochs")
    )
    assert cont["value"] == pytest.approx(lo)
    assert cont["met"] == (True if hi <= 30 else (False if lo > 30 else None))
    v = rows[rows["measure"] == "vmapped regressors"].set_index("k")
    assert list(v.index) == [r["k"] for r in rec["vmapped"]]
    k100 = next(r for r in rec["vmapped"] if r["k"] == 100)
    assert v.loc[100, "met"] == (k100["speedup_vs_torch_loop"] >= 10)


def test_cpu_and_toy_records_are_skipped_and_a_broken_record_names_its_file(tmp_path):
    rec = json.loads(next((repo_root() / "benchmarks").glob("gpu_*.json")).read_text())
    (tmp_path / "gpu_tiny.json").write_text(json.dumps({**rec, "size": "tiny"}))
    cpu = {**rec, "machine": {**rec["machine"], "accelerator": "cpu:cpu"}}
    (tmp_path / "gpu_cpu.json").write_text(json.dumps(cpu))
    assert perf.recorded_gpu_rows(tmp_path) == []
    (tmp_path / "gpu_x.json").write_text("not json")
    with pytest.raises(ValueError, match=r"gpu_x\.json"):
        perf.recorded_gpu_rows(tmp_path)
    (tmp_path / "gpu_x.json").write_text(json.dumps({"bench": "train"}))
    with pytest.raises(ValueError, match=r"gpu_x\.json: not a record of `mer-ser bench gpu`"):
        perf.recorded_gpu_rows(tmp_path)


def test_targets_table_lists_every_target_even_unmeasured_ones():
    rows = perf.notebook_rows({"00_datasets": {"wall_s": 1500.0, "cpu_s": 1.0, "run": RUN}}, "cpu")
    t = perf.targets_table(perf.performance_table(rows))
    assert list(dict.fromkeys(t["target"])) == list(perf.TARGET_TEXT.values())
    fig = t[t["target"] == perf.TARGET_TEXT["make_figures_minutes"]].iloc[0]
    assert fig["measured"].startswith("25 min") and fig["met"] == "**no**"
    gpu = t[t["target"] == perf.TARGET_TEXT["paper_profile_gpu_minutes"]].iloc[0]
    assert gpu["measured"] == "not measured"


def test_feature_speed_extracts_once_then_reads_everything_from_the_cache(quick, tmp_path):
    from mer_ser.bench.features import cached_rerun, extraction_speed

    few = {name: quick[name].subset(quick[name].clips.index[:2]) for name in ("speech_continuous",)}
    audio = float(few["speech_continuous"].clips["duration"].sum())
    speed = extraction_speed(few, n_jobs=1, cache_dir=tmp_path)
    assert speed["audio_seconds"] == pytest.approx(audio, rel=1e-3)
    assert speed["x_real_time_per_core"] == pytest.approx(audio / speed["seconds"], rel=1e-3)
    assert speed["rerun_extracted"] == 0 and speed["jobs"] == 1
    again = cached_rerun(few, cache_dir=tmp_path)
    assert again == {**again, "clips": 2, "cached": 2, "extracted": 0}


def test_performance_figure_draws_every_part(tmp_path):
    from mer_ser import plots

    times = {"00_datasets": {"wall_s": 60.0, "cpu_s": 60.0, "run": RUN}}
    rows = perf.notebook_rows(times, "cpu")
    rows += perf.recorded_gpu_rows(repo_root() / "benchmarks")
    rows.append(perf.row("c", "ComParE 1 Hz extraction", "30 s", "cpu", 55.0, "x"))
    df = perf.performance_table(rows)
    fig = plots.performance(df, machine="test machine")
    a, b, c, d = fig.axes[:4]
    assert [ax.get_title().split(" ")[0] for ax in (a, b, c, d)] == ["(a)", "(b)", "(c)", "(d)"]
    gpu = df[(df["part"] == "e") & df["ratio"].notna()]
    steps = gpu[gpu["measure"].isin(["continuous regressor step", "DCNN step", "ADCRNN step"])]
    # (a): one bar per recorded GPU step ratio, at its height
    assert sorted(round(r.get_height(), 6) for r in a.patches) == sorted(
        round(float(v), 6) for v in steps["ratio"]
    )
    # (b): the GPU record's K sweep as one line of ratios against K
    k = gpu[gpu["measure"] == "vmapped regressors"].sort_values("k")
    line = next(ln for ln in b.get_lines() if "GPU record" in str(ln.get_label()))
    np.testing.assert_allclose(line.get_xdata(), k["k"])
    np.testing.assert_allclose(line.get_ydata(), k["ratio"])
    # (c): the extraction bar at 55x; (d): the notebook's bar one minute long
    assert [round(r.get_height(), 6) for r in c.patches] == [55.0]
    assert [round(r.get_width(), 6) for r in d.patches] == [1.0]
    assert fig.get_suptitle() == "test machine"
    plots.save(fig, tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_machine_description_names_the_cpu_its_vector_width_and_cores():
    from mer_ser.bench.machine import _SIMD, describe

    info = describe()
    assert info["cores"] == os.cpu_count() and info["accelerator"].startswith(("cpu", "gpu", "tpu"))
    assert info["simd"] is None or info["simd"] in _SIMD
    label = perf.device_label({**info, "accelerator": "cpu:cpu", "simd": "avx2"})
    assert label == f"cpu: {info['cpu']} (avx2), {info['cores']} cores"
