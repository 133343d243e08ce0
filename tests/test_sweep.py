"""Sweeps: units on disk, resumed runs, and a Dask LocalCluster that loses a worker mid-sweep."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pandas as pd
import pytest
from sweep_tasks import NAME as TASK

from mer_ser import sweep as sw
from mer_ser.cli import main

BASE = {"trials": 2, "folds": 3, "epochs": 20}


def test_grid_is_the_cartesian_product_last_axis_fastest():
    g = sw.grid({"profile": "quick"}, condition=["M2M", "S2S"], seed=[0, 1])
    assert g == [
        {"profile": "quick", "condition": "M2M", "seed": 0},
        {"profile": "quick", "condition": "M2M", "seed": 1},
        {"profile": "quick", "condition": "S2S", "seed": 0},
        {"profile": "quick", "condition": "S2S", "seed": 1},
    ]


@pytest.mark.slow
def test_an_interrupted_sweep_resumes_without_recomputing_and_repairs_a_corrupt_result(tmp_path):
    cfgs = sw.grid(BASE, seed=[0, 1], learning_rate=[1e-3, 1e-2])
    part = sw.sweep(TASK, cfgs, tmp_path, progress=False, max_units=2)
    assert part["unit"].nunique() == 2  # "interrupted" after two units
    store = sw.ResultStore(tmp_path)
    units = [sw.Unit(TASK, c) for c in cfgs]
    assert all(store.config_path(u).is_file() for u in units)  # every config registered first
    first = {u.key: store.result_path(u).stat().st_mtime_ns for u in units if store.done(u)}
    full = sw.sweep(TASK, cfgs, tmp_path, progress=False)
    assert full["unit"].nunique() == 4 and len(full) == 4 * 2 * 3  # units x trials x folds
    for key, mtime in first.items():  # finished units were not run again
        assert (tmp_path / "results" / f"{key}.parquet").stat().st_mtime_ns == mtime
    # the grid is a real one: lr 1e-2 learns the generated mapping, 1e-3 barely starts
    by_lr = full.groupby("learning_rate")["ccc"].mean()
    assert by_lr[1e-2] > 0.6 and by_lr[1e-3] < 0.3
    # a corrupt result file is detected by its checksum, removed with a warning and rerun to the
    # same numbers
    broken = store.result_path(units[0])
    blob = bytearray(broken.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # one flipped byte: may still parse, but not as written
    broken.write_bytes(bytes(blob))
    with pytest.warns(sw.RerunWarning, match=r"does not match its checksum \(corrupt\)"):
        again = sw.sweep(TASK, cfgs, tmp_path, progress=False)
    pd.testing.assert_frame_equal(again, full)
    cfg = json.loads(store.config_path(units[0]).read_text())
    assert cfg["config"] == cfgs[0] and cfg["task"] == TASK
    with pytest.raises(KeyError, match="unknown sweep task"):
        sw.sweep("nope", cfgs, tmp_path)
    with pytest.raises(ValueError, match="duplicates"):
        sw.sweep(TASK, cfgs + cfgs[:1], tmp_path)


@pytest.mark.slow
def test_a_local_cluster_matches_in_process_and_loses_nothing_when_a_worker_dies(tmp_path):
    """Two worker processes on loopback; one is killed while units are in flight. Dask
    reschedules its unit; every unit is stored once, with the in-process numbers."""
    from distributed import Client, LocalCluster

    cfgs = sw.grid({**BASE, "sleep": 1.5}, seed=[0, 1, 2], learning_rate=[1e-2, 3e-3])
    ref = sw.sweep(TASK, cfgs, tmp_path / "inproc", progress=False)
    store = tmp_path / "dask"
    out: dict = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:  # fmt: skip
        pids = client.run(os.getpid)

        def run():
            out["res"] = sw.sweep(TASK, cfgs, store, cluster=client, progress=False)

        th = threading.Thread(target=run)
        th.start()
        deadline = time.monotonic() + 300
        while not list((store / "results").glob("*.parquet")):  # the first unit is done
            assert time.monotonic() < deadline and th.is_alive()
            time.sleep(0.2)
        os.kill(next(iter(pids.values())), signal.SIGKILL)  # a worker dies mid-sweep
        th.join(timeout=600)
        assert not th.is_alive()
    res = out["res"]
    assert len(list((store / "results").glob("*.parquet"))) == len(cfgs)
    assert res["unit"].nunique() == len(cfgs) and len(res) == len(ref)
    pd.testing.assert_frame_equal(res, ref)


@pytest.mark.slow
def test_the_command_line_runs_a_sweep_and_resumes(tmp_path, capsys):
    args = ["sweep", TASK, "--grid", '{"seed": [0], "learning_rate": [0.01, 0.001]}',
            "--base", json.dumps(BASE), "--store", str(tmp_path), "--no-progress"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary == {"units": 2, "done": 2, "ran": 2, "store": str(tmp_path)}
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["ran"] == 0
    assert (tmp_path / "results.csv").is_file()


@pytest.mark.slow
def test_a_continuous_condition_unit_is_the_tracks_own_result(quick_root, data_root, tmp_path):
    """The continuous track's M2M as a unit: the stored table is ConditionResult.long()."""
    cfg = {"condition": "M2M", "normalisation": "paper", "profile": "quick", "seed": 0,
           "shared_code": 0.75, "data_root": str(data_root)}  # fmt: skip
    res = sw.sweep("continuous_condition", [cfg], tmp_path, progress=False)
    direct = sw.continuous_condition(cfg)  # now from the training-job cache the unit filled
    assert set(res["metric"]) == {"ccc", "r", "rmse"} and res["unit"].nunique() == 1
    pd.testing.assert_frame_equal(res[list(direct.columns)], direct)
