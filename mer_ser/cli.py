"""The ``mer-ser`` command line.

::

    mer-ser corpus build --profile {quick,default,paper} --seed N [--shared-code X]
                         [--labels {realistic,easy}] --out DIR
    mer-ser figures [--profile P] [--seed N] [--only NN ...]
    mer-ser experiment CONFIG.toml|EXAMPLE [--profile P] [--seed N] [--data-root D] [--out DIR]
    mer-ser experiment --list                 # the shipped example configs
    mer-ser models [--data-root D]            # the exported model bundles
    mer-ser predict --model NAME|PATH [--data-root D] FILES_OR_DIRS... --out predictions.csv
                    [--windows windows.csv] [--plot DIR]
    mer-ser bench corpus [--profile P]        # generation speed, JSON line
    mer-ser bench features [--profile P]      # ComParE 1 Hz extraction speed, JSON line
    mer-ser bench predict [--seconds S]       # model bundle on an audio file, JSON line
    mer-ser bench train [--frames T] [--k 1,10,100]   # training speed vs PyTorch, JSON line
    mer-ser bench gpu [--size full|tiny] [--out FILE] [--sections S,...]  # the GPU check
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import mer_ser
from mer_ser import bundles, figures
from mer_ser import sweep as sw
from mer_ser._io import atomic_write
from mer_ser.bench import training
from mer_ser.bench.features import extraction_speed, single_clip_speed
from mer_ser.bench.machine import describe
from mer_ser.bench.prediction import prediction_speed
from mer_ser.corpora import open_corpora
from mer_ser.corpora.synthetic import SyntheticConfig, build_corpus
from mer_ser.corpora.synthetic.config import LABEL_MODELS
from mer_ser.errors import MerSerError
from mer_ser.widgets.browser import benchmark, screenshot


def _corpus_build(args) -> int:

    cfg = SyntheticConfig(
        profile=args.profile, seed=args.seed, shared_code=args.shared_code, labels=args.labels
    )
    t0 = time.perf_counter()
    parts = build_corpus(args.out, cfg, n_jobs=args.jobs, force=args.force)
    dt = time.perf_counter() - t0
    hours = sum(c.clips["duration"].sum() for c in parts.values()) / 3600
    print(
        json.dumps(
            {
                "out": str(args.out),
                "profile": args.profile,
                "seed": args.seed,
                "shared_code": args.shared_code,
                "labels": args.labels,
                "clips": sum(len(c) for c in parts.values()),
                "hours": round(hours, 3),
                "seconds": round(dt, 1),
            }
        )
    )
    return 0


def _figures(args) -> int:

    extra = {}
    given = [("--corpora", "corpora", args.corpora)]
    for p in args.param or []:
        name, _, text = p.partition("=")
        given.append(("--param", name, text))
    for flag, name, text in given:
        if text is None:
            continue
        try:
            extra[name] = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"{flag} {name}: not JSON ({e})") from e
    figures.run_all(
        profile=args.profile,
        seed=args.seed,
        only=args.only,
        figures_dir=args.figures_dir,
        data_root=args.data_root,
        build_dir=args.build_dir,
        extra=extra or None,
        jobs=args.jobs,
    )
    return 0


def _bench_corpus(args) -> int:

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        parts = build_corpus(
            Path(tmp) / "c", SyntheticConfig(profile=args.profile, seed=args.seed), n_jobs=args.jobs
        )
        dt = time.perf_counter() - t0
    audio = sum(c.clips["duration"].sum() for c in parts.values())
    print(
        json.dumps(
            {
                "bench": "corpus",
                "profile": args.profile,
                "audio_hours": round(audio / 3600, 3),
                "seconds": round(dt, 1),
                "x_real_time": round(audio / dt, 1),
                "jobs": args.jobs or os.cpu_count(),
                **describe(),
            }
        )
    )
    return 0


def _bench_features(args) -> int:

    cs = open_corpora(
        ["builtin:speech_continuous", "builtin:music_continuous"],
        data_root=Path(args.data_root),
        profile=args.profile,
        seed=args.seed,
    )
    per_core = {name: round(single_clip_speed(c), 1) for name, c in cs.items()}
    speed = extraction_speed(cs, n_jobs=args.jobs)
    print(
        json.dumps(
            {
                "bench": "features",
                "extractor": "compare_1hz",
                "profile": args.profile,
                "audio_seconds": speed["audio_seconds"],
                "x_real_time_per_core_single_clip": per_core,
                "corpus_seconds": round(speed["seconds"], 1),
                "x_real_time_all_cores": round(speed["x_real_time"], 1),
                "jobs": speed["jobs"],
                "cached_rerun_seconds": round(speed["rerun_seconds"], 2),
                "cached_rerun_extracted": speed["rerun_extracted"],
                **describe(),
            }
        )
    )
    return 0


def _bench_train(args) -> int:

    ks = tuple(int(k) for k in args.k.split(","))
    print(
        json.dumps(
            training.run(
                frames=args.frames,
                steps=args.steps,
                ks=ks,
                dcnn_batch=args.dcnn_batch,
                dcnn_steps=args.dcnn_steps,
                dcnn_frames=args.dcnn_frames,
                adcrnn=args.adcrnn,
                runs=args.runs,
                unrolls=tuple(int(u) for u in args.unroll.split(",")),
                thesis_epoch=args.thesis_epoch,
                rounds=args.rounds,
            )
        )
    )
    return 0


def _bench_gpu(args) -> int:
    from mer_ser.bench import gpu

    out = args.out or gpu.default_record_path()
    record = gpu.run_check(
        args.size,
        out,
        budget_s=args.budget_s,
        sections=tuple(args.sections.split(",")) if args.sections else None,
        log=lambda s: print(s, file=sys.stderr),
    )
    print(json.dumps({"bench": "gpu", "out": str(out), "seconds": record.get("seconds")}))
    return 0


def _bench_scrubber(args) -> int:

    durations = tuple(float(d) for d in args.seconds.split(","))
    print(json.dumps(benchmark(durations, ticks=args.ticks)))
    return 0


def _sweep(args) -> int:
    if os.getcwd() not in sys.path:  # a "module:function" task in this folder, as `python -m`
        sys.path.insert(0, os.getcwd())
    parsed = {}
    for flag, text in (("--grid", args.grid), ("--base", args.base)):
        try:
            parsed[flag] = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"{flag}: not JSON ({e})") from e
        if not isinstance(parsed[flag], dict):
            raise ValueError(
                f"{flag} must be a JSON object like '{{\"seed\": [0, 1]}}', got {text}"
            )
    configs = sw.grid(parsed["--base"], **parsed["--grid"])
    store = sw.ResultStore(args.store)
    units = [sw.Unit(args.task, c) for c in configs]
    sw.resolve_task(args.task)  # an unknown task is an error before the store is read
    before = sum(store.done(u) for u in units)
    res = sw.sweep(args.task, configs, store, cluster=args.cluster, progress=not args.no_progress)
    done = sum(store.done(u) for u in units)
    with atomic_write(store.root / "results.csv", "w") as f:
        res.to_csv(f, index=False)
    print(json.dumps({"units": len(units), "done": done, "ran": done - before,
                      "store": str(store.root)}))  # fmt: skip
    return 0


def _experiment(args) -> int:
    from mer_ser import recipes
    from mer_ser.experiments import Data

    if args.list:
        for name in recipes.examples():
            cfg = recipes.load_config(recipes.example_path(name))
            print(f"{name}: {cfg.description}")
        return 0
    if args.config is None:
        raise ValueError("give a config file or a shipped example's name (see --list)")
    cfg = recipes.load_config(recipes.example_path(args.config))
    data = Data(args.data_root, profile=args.profile, seed=args.seed, progress=not args.no_progress)
    result = recipes.run_experiment(cfg, data, progress=not args.no_progress)
    out = args.out or Path("experiments") / cfg.name
    written = result.write(out)
    bundle = None
    if cfg.output.bundle:
        folder = bundles.models_dir(args.data_root) / f"experiment_{cfg.name}"
        bundle = str(recipes.export_experiment(result, folder, profile=args.profile))
    print(result.summary.round(3).to_string())
    models, clips = (int(result.summary[k].iloc[0]) for k in ("models", "clips"))
    print(json.dumps({"experiment": cfg.name, "out": str(out), "files": [p.name for p in written],
                      "models": models, "clips": clips, "bundle": bundle}))  # fmt: skip
    return 0


def _screenshot(args) -> int:

    screenshot(args.out, profile=args.profile, data_root=args.data_root)
    return 0


def _bench_predict(args) -> int:
    speed = prediction_speed(args.seconds)
    print(
        json.dumps(
            {
                "bench": "predict",
                "model": "continuous bundle, ComParE 1 Hz + LSTM 64/10, 3 trials x 4 folds",
                "audio_seconds": speed["audio_seconds"],
                "seconds": round(speed["seconds"], 3),
                "cpu_seconds": round(speed["cpu_seconds"], 3),
                "x_real_time": round(speed["x_real_time"], 1),
                "x_real_time_per_core": round(speed["x_real_time_per_core"], 1),
                "peak_rss_mib": round(speed["peak_rss_mib"], 1),
                "rss_growth_mib": round(speed["rss_growth_mib"], 1),
                **describe(),
            }
        )
    )
    return 0


def _models(args) -> int:
    names = bundles.list_bundles(args.data_root)
    if not names:
        print(f"no model bundles under {bundles.models_dir(args.data_root)} (run the notebooks)")
        return 0
    for name in names:
        b = bundles.load_bundle(bundles.models_dir(args.data_root) / name)
        print(f"{name}: {bundles.describe(b)}")
    return 0


def _predict(args) -> int:
    errors: list = []
    bundle = bundles.resolve(args.model, args.data_root)
    if args.windows is not None and "window" not in bundles.levels(bundle):
        print(f"mer-ser: --windows: {bundle.name} ({bundle.kind}) has no per-window table; "
              "the rows of --out are per frame", file=sys.stderr)  # fmt: skip
        return 2
    tables = bundles.predict_tables(bundle, args.inputs, progress=True, errors=errors)
    out = tables[bundles.levels(bundle)[0]]
    with atomic_write(args.out, "w") as f:
        out.to_csv(f)
    print(f"{out.index.get_level_values('file').nunique()} files, {len(out)} rows -> {args.out}")
    curves = tables.get("window", out)
    if args.windows is not None:
        with atomic_write(args.windows, "w") as f:
            curves.to_csv(f)
        print(f"{len(curves)} windows -> {args.windows}")
    if args.plot is not None:
        from mer_ser import plots

        for path in plots.prediction_curves(curves, args.plot):
            print(f"  {path}")
    for file, message in errors:
        print(f"mer-ser: skipped {file}: {message}", file=sys.stderr)
    return 1 if errors else 0


PROFILES = ["quick", "default", "paper"]
PROFILE_HELP = "corpus and protocol size: quick (tests), default (make figures), paper"


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``mer-ser``."""
    p = argparse.ArgumentParser(prog="mer-ser", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"mer-ser {mer_ser.__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    corpus = sub.add_parser("corpus", help="the built-in corpus").add_subparsers(
        dest="action", required=True
    )
    b = corpus.add_parser("build", help="generate the built-in corpus")
    b.add_argument("--profile", choices=PROFILES, default="default", help=PROFILE_HELP)
    b.add_argument("--seed", type=int, default=0, help="seed of every clip (default 0)")
    b.add_argument(
        "--shared-code",
        type=float,
        default=0.75,
        help="share of music's shared cues driven by its labels, in [0, 1]",
    )
    b.add_argument(
        "--labels",
        choices=sorted(LABEL_MODELS),
        default="realistic",
        help="how hard the labels are: 'realistic' (real corpora's statistics, the default) or "
        "'easy' (traces that move more, raters that agree, no ambiguous clips)",
    )
    b.add_argument("--out", type=Path, required=True, help="folder to build into (resumable)")
    b.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    b.add_argument(
        "--force",
        action="store_true",
        help="replace a corpus that --out holds from another config (default: refuse)",
    )
    b.set_defaults(func=_corpus_build)

    f = sub.add_parser("figures", help="run the numbered notebooks through papermill")
    f.add_argument("--profile", choices=PROFILES, default="default", help=PROFILE_HELP)
    f.add_argument("--seed", type=int, default=0, help="the notebooks' master seed (default 0)")
    f.add_argument("--only", nargs="+", help="notebook numbers, e.g. --only 00 01")
    f.add_argument(
        "--figures-dir", type=Path, default=None, help="where figures go (default: figures/)"
    )
    f.add_argument(
        "--data-root", type=Path, default=None, help="corpora and caches (default: data/)"
    )
    f.add_argument(
        "--build-dir",
        type=Path,
        default=None,
        help="executed notebooks and their times (default: build/ in the checkout, or "
        "<data-root>/build with --data-root, or beside --figures-dir)",
    )
    f.add_argument(
        "--corpora",
        default=None,
        help="JSON for the notebooks' `corpora` parameter (real corpora through adapters); "
        "use it with --only and a separate --figures-dir",
    )
    f.add_argument(
        "--param",
        action="append",
        metavar="NAME=JSON",
        help="any other notebook parameter, e.g. --param 'sweep_levels=[]' (repeatable)",
    )
    f.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="notebooks run at once, each after those it reads (default min(2, cores); "
        "1: one after the other)",
    )
    f.set_defaults(func=_figures)

    ex = sub.add_parser(
        "experiment",
        help="run an experiment config (any corpus, target, features, model; docs/experiments.md)",
    )
    ex.add_argument("config", nargs="?", help="a TOML file, or a shipped example's name")
    ex.add_argument("--list", action="store_true", help="list the shipped example configs")
    ex.add_argument("--profile", choices=PROFILES, default="default", help=PROFILE_HELP)
    ex.add_argument("--seed", type=int, default=0, help="built-in corpus seed (default 0)")
    ex.add_argument("--data-root", type=Path, default=Path("data"), help="default: data/")
    ex.add_argument(
        "--out", type=Path, default=None, help="results folder (default: experiments/<name>)"
    )
    ex.add_argument("--no-progress", action="store_true", help="no progress bars")
    ex.set_defaults(func=_experiment)

    mo = sub.add_parser("models", help="list the model bundles the notebooks exported")
    mo.add_argument("--data-root", type=Path, default=Path("data"), help="default: data/")
    mo.set_defaults(func=_models)

    pr = sub.add_parser("predict", help="apply a model bundle to audio files or folders")
    pr.add_argument("--model", required=True, help="bundle name under <data-root>/models or path")
    pr.add_argument("--data-root", type=Path, default=Path("data"), help="default: data/")
    pr.add_argument("inputs", nargs="+", type=Path, help="audio files or folders")
    pr.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the predictions (CSV): 1-s frames of a continuous model, one row per file of a "
        "quadrant model",
    )
    pr.add_argument(
        "--windows", type=Path, default=None, help="quadrant models: per-window probabilities (CSV)"
    )
    pr.add_argument("--plot", type=Path, default=None, help="a folder for one figure per file")
    pr.set_defaults(func=_predict)

    sw = sub.add_parser(
        "sweep",
        help="run a protocol grid (in-process or on a Dask cluster), results in a store",
    )
    sw.add_argument(
        "task",
        help="a sweep task: continuous_condition, or your own as module:function (importable "
        "from this folder or PYTHONPATH)",
    )
    sw.add_argument("--grid", required=True, help="JSON axes, e.g. '{\"seed\": [0, 1]}'")
    sw.add_argument("--base", default="{}", help="JSON settings shared by every unit")
    sw.add_argument("--store", type=Path, required=True, help="results folder (resumable)")
    sw.add_argument(
        "--cluster",
        default=None,
        help="local:N (a LocalCluster of N processes), a scheduler address; default in-process",
    )
    sw.add_argument("--no-progress", action="store_true", help="no progress bar")
    sw.set_defaults(func=_sweep)

    sc = sub.add_parser(
        "screenshot",
        help="run notebook 08 in JupyterLab in Chromium and save the clip scrubber's picture",
    )
    sc.add_argument("--profile", choices=PROFILES, default="default", help=PROFILE_HELP)
    sc.add_argument(
        "--data-root", type=Path, default=None, help="corpora and caches (default: data/)"
    )
    sc.add_argument(
        "--out",
        type=Path,
        default=Path("figures/clip_scrubber.png"),
        help="the picture (default: figures/clip_scrubber.png)",
    )
    sc.set_defaults(func=_screenshot)

    bench = sub.add_parser("bench", help="speed benchmarks (print one JSON line)").add_subparsers(
        dest="what", required=True
    )
    for name, func, what in (
        ("corpus", _bench_corpus, "generating the built-in corpus: seconds, times real time"),
        ("features", _bench_features, "ComParE 1 Hz extraction speed and a cached rerun"),
    ):
        q = bench.add_parser(name, help=what)
        q.add_argument("--profile", choices=PROFILES, default="default", help=PROFILE_HELP)
        q.add_argument("--seed", type=int, default=0, help="seed of the corpus (default 0)")
        q.add_argument(
            "--jobs", type=int, default=None, help="worker processes (default: all cores)"
        )
        q.add_argument("--data-root", default="data", help="corpora and caches (default: data/)")
        q.set_defaults(func=func)
    bp = bench.add_parser("predict", help="a model bundle on an audio file: times real time")
    bp.add_argument("--seconds", type=float, default=600.0, help="audio length (default 600)")
    bp.set_defaults(func=_bench_predict)
    sb = bench.add_parser("scrubber", help="clip scrubber: build, message size, browser tick")
    sb.add_argument("--seconds", default="6,600", help="clip lengths to time")
    sb.add_argument("--ticks", type=int, default=200, help="slider ticks timed in the browser")
    sb.set_defaults(func=_bench_scrubber)
    t = bench.add_parser("train", help="training step time: mer_ser vs PyTorch, vmapped models")
    t.add_argument("--frames", type=int, default=100, help="frames per sequence (batch is 31)")
    t.add_argument("--steps", type=int, default=300, help="timed steps of the single model")
    t.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="mer_ser and PyTorch regressor steps timed in this many alternating rounds"
        " (fastest round each)",
    )
    t.add_argument("--k", default="1,10,100", help="numbers of vmapped models")
    t.add_argument("--dcnn-batch", type=int, default=8, help="DCNN clips per step (default 8)")
    t.add_argument("--dcnn-steps", type=int, default=5, help="0: time the regressor only")
    t.add_argument("--dcnn-frames", type=int, default=1001, help="1001 = 15 s (the thesis)")
    t.add_argument("--adcrnn", action="store_true", help="also time the ADCRNN")
    t.add_argument("--runs", type=int, default=1, help="also time this many vmapped runs")
    t.add_argument("--unroll", default="1", help="ADCRNN loop unrollings to compare")
    t.add_argument(
        "--thesis-epoch",
        action="store_true",
        help="project the thesis' experiments (needs --dcnn-batch 32)",
    )
    t.set_defaults(func=_bench_train)
    g = bench.add_parser(
        "gpu", help="the prepared GPU check: conv steps, paper profiles, regressors (one record)"
    )
    g.add_argument(
        "--size",
        choices=("full", "tiny"),
        default="full",
        help="full: the thesis' shapes; tiny: toy shapes that only check the script",
    )
    g.add_argument(
        "--out", type=Path, default=None, help="the record (default: benchmarks/gpu_<device>.json)"
    )
    g.add_argument(
        "--budget-s",
        type=float,
        default=420.0,
        help="sections that would start after this many seconds are skipped",
    )
    g.add_argument(
        "--sections",
        default=None,
        help="comma-separated sections to run (default: all); others are kept from --out",
    )
    g.set_defaults(func=_bench_gpu)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mer-ser`` console script.

    A user's mistake (bad input, a missing or unreadable file, a failing notebook) ends with one
    ``mer-ser: error: ...`` line and exit status 2, never a Python traceback.
    """
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (MerSerError, ValueError, OSError, KeyError) as e:
        text = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"mer-ser: error: {text}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
