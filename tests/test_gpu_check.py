"""The prepared GPU check (`mer-ser bench gpu`): its workloads follow the protocols, its
projection is plain arithmetic, its PyTorch reference is the same model, and the whole script
runs on a CPU at toy shapes, writing one complete record."""

from __future__ import annotations

import json
import math

import pytest

from mer_ser.bench import gpu
from mer_ser.models import ADCRNN, DCNN
from mer_ser.models.conv import count_params


def test_the_continuous_workload_is_the_papers_search_for_each_condition():
    jobs = gpu.continuous_workload()
    reg = [j for j in jobs if j["kind"] == "regressor"]
    # Per condition: #HB_1 (5 sizes, one job each), #HB_2 (5), learning rate (1), noise (1);
    # cross-domain conditions retrain once more under the domain normalisation.
    per = {}
    for j in reg:
        per[j["condition"]] = per.get(j["condition"], 0) + 1
    assert per == {"M2M": 12, "S2S": 12, "S2M": 13, "M2S": 13, "S2M_TL": 13, "M2S_TL": 13}
    # Leave-one-out over 33 music pieces / 23 speech recordings, 10 trials.
    m2m = [j for j in reg if j["condition"] == "M2M"]
    assert m2m[0]["models"] == 1 * 10 * 33 and m2m[0]["steps_per_epoch"] == 33 - 2
    assert m2m[-1]["step"] == "noise" and m2m[-1]["models"] == 6 * 10 * 33
    s2m = [j for j in reg if j["condition"] == "S2M"]
    assert s2m[0]["models"] == 10 * 23 and s2m[0]["steps_per_epoch"] == 23 - 1  # not nested
    tl = [j for j in reg if j["condition"] == "M2S_TL" and j["step"] == "hidden1"]
    assert len(tl) == 5 and all(j["models"] == 6 * 10 * 33 for j in tl)  # x 6 DAE sigmas
    assert {j["frames"] for j in reg} == {315, 300}
    assert {(j["min_epochs"], j["max_epochs"]) for j in reg} == {(21, 500)}
    dae = [j for j in jobs if j["kind"] == "dae"]
    assert len(dae) == 5 * 2 + 2 and {j["models"] for j in dae} == {30, 60}
    assert {j["steps_per_epoch"] for j in dae} == {360 - 72}  # every fifth pool clip held out


def test_the_quadrant_and_language_workloads_count_the_protocols_steps():
    q = gpu.quadrant_workload()
    assert [(j["kind"], j["condition"]) for j in q] == [
        ("dcnn", "SER2MER"), ("dcnn", "MER2MER"), ("adcrnn", "SER2MER"), ("adcrnn", "MER2MER"),
    ]  # fmt: skip
    # 1,200 speech clips x 0.994 = 1,193; 200 instrumental clips x 0.68 = 136; batch 32.
    assert [j["steps_per_epoch"] for j in q[:2]] == [math.ceil(1193 / 32), math.ceil(136 / 32)]
    assert all(j["models"] == 5 and j["runs_in_turn"] for j in q)
    lang = gpu.language_workload()
    pre = [j for j in lang if j["step"] == "pretrain"]
    assert len(pre) == 2 * 3 * 2  # SCAE and CPC x 3 speech pools x 2 amounts
    # 30 h in windows of (5 x 15 + 31) x 512 / 16 kHz s, 85 % of them for training.
    windows = round(30 * 3600 / ((5 * 15 + 31) * 512 / 16000))
    scae = {j["steps_per_epoch"] for j in pre if j["kind"] == "scae"}
    cpc = {j["steps_per_epoch"] for j in pre if j["kind"] == "cpc"}
    assert len(scae) == len(cpc) == 1  # the smaller amount trains at the larger one's shapes
    (n_scae,), (n_cpc,) = scae, cpc
    assert n_scae == pytest.approx(0.85 * windows * 6 / 32, rel=0.01)
    assert n_cpc == pytest.approx(0.85 * windows / 32, rel=0.01)
    feat = [j for j in lang if j["step"] == "feat_ext"]
    full = [j for j in lang if j["step"] == "full"]
    assert len(feat) == 2 * 6 * 2 and len(full) == 2 * 6 * 2  # paper: Full for both, both amounts


def test_the_projection_is_epochs_times_epoch_seconds():
    jobs = [
        {"kind": "a", "models": 4, "steps_per_epoch": 10, "min_epochs": 3, "max_epochs": 7},
        {"kind": "b", "models": 2, "runs_in_turn": True, "steps_per_epoch": 5, "min_epochs": 1,
         "max_epochs": 2},
    ]  # fmt: skip
    out = gpu.project(jobs, lambda j: 0.5 * j["steps_per_epoch"])
    # a: 5 s per epoch for all four models at once; b: 2.5 s per epoch per run, two runs.
    assert out["hours_min_epochs"] == pytest.approx((5 * 3 + 2 * 2.5 * 1) / 3600)
    assert out["hours_max_epochs"] == pytest.approx((5 * 7 + 2 * 2.5 * 2) / 3600)
    assert out["by_kind"]["b"] == pytest.approx([5 / 3600, 10 / 3600])


def test_continuous_epochs_scale_with_sequence_steps_and_models():
    timing = {
        "steps_per_epoch": 10,
        "frames": 100,
        "one_candidate": {"models": 100, "epoch_s": 1.0},
        "all_noise_candidates": {"models": 600, "epoch_s": 5.0},
        "dae": {"models": 60, "steps_per_epoch": 20, "frames": 50, "epoch_s": 2.0},
    }
    job = {"kind": "regressor", "models": 350, "steps_per_epoch": 20, "frames": 50}
    assert gpu.continuous_epoch_seconds(job, timing) == pytest.approx(3.0 * (20 * 50) / 1000)
    small = {**job, "models": 10}
    assert gpu.continuous_epoch_seconds(small, timing) == pytest.approx(1.0)  # not below one
    dae = {"kind": "dae", "models": 120, "steps_per_epoch": 40, "frames": 50}
    assert gpu.continuous_epoch_seconds(dae, timing) == pytest.approx(2.0 * 2 * 2)


def test_the_pytorch_reference_has_the_same_parameters():
    torch = pytest.importorskip("torch")
    from mer_ser.bench.torch_reference import build

    def n(model):
        return sum(p.numel() for p in model.parameters() if p.requires_grad)

    for frames in (41, 1001):
        assert n(build(torch, "dcnn", frames)) == count_params(lambda r, f=frames: DCNN(f, rngs=r))
        # PyTorch's LSTMs carry two bias vectors (input and recurrent) where mer_ser has one:
        # 4 x 256 more per direction and layer (BiLSTM: 2, dilated LSTMs: 2).
        assert (
            n(build(torch, "adcrnn", frames))
            == count_params(lambda r, f=frames: ADCRNN(f, rngs=r)) + 4 * 4 * 256
        )


@pytest.mark.slow
def test_the_check_runs_at_toy_shapes_and_writes_one_complete_record(tmp_path, capsys):
    from mer_ser import cli

    out = tmp_path / "gpu_cpu.json"
    assert cli.main(["bench", "gpu", "--size", "tiny", "--out", str(out)]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["out"] == str(out)
    rec = json.loads(out.read_text())
    assert rec["size"] == "tiny" and rec["skipped"] == []
    assert [k for k in rec if k in ("machine", "conv", "thesis", "paper_profiles",
                                    "regressor", "vmapped")] == [
        "machine", "conv", "thesis", "paper_profiles", "regressor", "vmapped"]  # fmt: skip
    assert rec["machine"]["accelerator"].startswith("cpu")
    for name in ("dcnn", "adcrnn"):
        conv = rec["conv"][name]
        assert "errors" not in conv
        assert conv["mer_ser_float32_s"] > 0 and conv["mer_ser_bfloat16_s"] > 0
        assert conv["mer_ser_best_s"] == min(conv["mer_ser_float32_s"], conv["mer_ser_bfloat16_s"])
    pp = rec["paper_profiles"]
    assert "errors" not in pp
    for track in ("continuous", "quadrant", "language"):
        assert 0 < pp[track]["hours_min_epochs"] < pp[track]["hours_max_epochs"]
    assert [r["k"] for r in rec["vmapped"]] == [1, 2]
    assert not list(tmp_path.glob(".*tmp"))  # written atomically


def test_running_some_sections_keeps_the_others_of_the_same_machines_record(tmp_path):
    from mer_ser.bench.machine import describe

    out = tmp_path / "gpu_x.json"
    here = describe()["accelerator"]
    old = {"bench": "gpu", "size": "tiny", "machine": {"accelerator": here},
           "conv": {"kept": True}, "measured_at": {"conv": "then"}}  # fmt: skip
    out.write_text(json.dumps(old))
    rec = gpu.run_check("tiny", out, sections=("thesis",), log=lambda s: None)
    assert rec["conv"] == {"kept": True} and "note" in rec["thesis"]
    assert rec["measured_at"]["conv"] == "then" and set(rec["measured_at"]) == {
        "conv", "machine", "thesis"}  # fmt: skip
    assert json.loads(out.read_text()) == rec
    out.write_text(json.dumps({**old, "size": "full"}))
    with pytest.raises(ValueError, match=r"gpu_x\.json: a record of size full"):
        gpu.run_check("tiny", out, sections=("thesis",), log=lambda s: None)
    with pytest.raises(ValueError, match=r"unknown sections \['gpu'\]"):
        gpu.run_check("tiny", out, sections=("gpu",), log=lambda s: None)
