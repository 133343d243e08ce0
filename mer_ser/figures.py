"""Regenerate every figure: run the numbered notebooks headlessly through papermill.

``mer-ser figures`` (and ``make figures``) executes ``notebooks/NN_*.ipynb`` in order with the
chosen profile; each notebook writes its figures and tables under ``figures/``. Executed copies
(with outputs) go to ``build/notebooks/``, which git ignores; the notebooks in git carry no
outputs. A run told to write elsewhere (``--data-root``, ``--figures-dir``) writes nothing into
the checkout: its executed copies go under the data root (or beside the figures folder), so two
runs side by side never overwrite each other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path

from mer_ser._io import repo_root, write_json
from mer_ser.errors import MerSerError


def notebooks(root: Path | None = None, only: list[str] | None = None) -> list[Path]:
    """The numbered notebooks in run order, optionally only those whose number is in ``only``."""
    nb_dir = (root or repo_root()) / "notebooks"
    found = sorted(p for p in nb_dir.glob("[0-9][0-9]_*.ipynb"))
    if only:
        wanted = {o.zfill(2) for o in only}
        found = [p for p in found if p.name[:2] in wanted]
        if not found:
            raise ValueError(f"no notebook numbered {sorted(wanted)} in {nb_dir}")
    return found


def run_notebook(
    path: Path, parameters: dict, *, out_dir: Path, cwd: Path | None = None, progress: bool = True
) -> Path:
    """Execute one notebook with papermill; returns the executed copy's path."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)  # papermill does not create it
    out = out_dir / path.name
    pm.execute_notebook(
        str(path),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(cwd or path.parent),
        progress_bar=progress,
        log_output=False,
    )
    return out


#: What each notebook reads that another writes (notebook number -> the numbers it waits for).
#: The corpus (00) comes first. The continuous track (01-04, 07) and the quadrant track (05,
#: then 06) share nothing else, and their training loops keep about one core busy each, so with
#: ``jobs=2`` they run side by side; 08 reads the continuous models and Gomez-Canon's; 10 (the
#: experiment config) needs only the corpus; 09 times the machine and runs alone, after
#: everything else (:data:`ALONE`).
NEEDS = {
    "00": (),
    "01": ("00",),
    "02": ("01",),
    "03": ("02",),
    "04": ("03",),
    "05": ("00",),
    "06": ("00",),
    "07": ("04",),
    "08": ("06", "07"),
    "10": ("00",),
}
ALONE = {"09"}


class NotebookFailed(MerSerError, RuntimeError):
    """A notebook of :func:`run_all` raised; its executed copy shows the cell and traceback."""


def default_build_dir(
    root: Path, figures_dir: str | os.PathLike | None, data_root: str | os.PathLike | None
) -> Path:
    """Where executed notebooks go when no ``build_dir`` is given.

    ``<data_root>/build`` when a data root is given, else ``<figures_dir>_build`` beside a
    given figures folder, else the checkout's ``build/``.
    """
    if data_root is not None:
        return Path(data_root) / "build"
    if figures_dir is not None:
        f = Path(figures_dir).resolve()
        return f.with_name(f"{f.name}_build")
    return root / "build"


def check_parameters(notebooks: list[Path], names) -> None:
    """Refuse parameters that no selected notebook declares (they would be pasted into code).

    Raises:
        ValueError: a name is not an identifier, or no selected notebook has it in its
            ``parameters`` cell; the message lists the parameters there are.
    """
    import papermill as pm

    declared: set[str] = set()
    for nb in notebooks:
        declared |= set(pm.inspect_notebook(str(nb)))
    for name in names:
        if not name.isidentifier() or name not in declared:
            raise ValueError(
                f"--param {name!r}: not a parameter of the selected notebooks; they take "
                f"{sorted(declared)}"
            )


def run_all(
    *,
    profile: str = "default",
    seed: int = 0,
    only: list[str] | None = None,
    figures_dir: str | os.PathLike | None = None,
    data_root: str | os.PathLike | None = None,
    build_dir: str | os.PathLike | None = None,
    extra: dict | None = None,
    progress: bool = True,
    jobs: int | None = None,
) -> dict[str, float]:
    """Run the notebooks, each after those it reads (:data:`NEEDS`); returns wall times in s.

    Every notebook runs in its own process (a papermill worker with its kernel), so its CPU time
    is measured alone even when two run at once. Each notebook's times are recorded as it
    ends (:func:`record_notebook_time`). A failing notebook stops the run: notebooks already
    running finish, none is started, and :class:`NotebookFailed` names the executed copy.

    Raises:
        NotebookFailed: a notebook raised (its error and executed copy are named).
        ValueError: ``extra`` names a parameter no selected notebook declares.

    Args:
        profile: ``quick``, ``default`` or ``paper``.
        seed: master seed of the built-in corpus and of every experiment.
        only: notebook numbers to run (default all); each waits only for selected ones.
        figures_dir: where figures go (default ``<repo>/figures``).
        data_root: corpora and caches (default ``<repo>/data``).
        build_dir: executed notebooks and their times (default: :func:`default_build_dir`).
        extra: further parameters passed to every notebook.
        progress: papermill's per-cell progress bar.
        jobs: notebooks run at once (default ``min(2, cores)``; 1: one after the other, in
            number order). Results do not depend on it: every computation is seeded and no
            notebook reads what a concurrent one writes.
    """
    root = repo_root()
    build_dir = Path(build_dir or default_build_dir(root, figures_dir, data_root)).resolve()
    figures_dir = Path(figures_dir or root / "figures").resolve()
    data_root = Path(data_root or root / "data").resolve()
    figures_dir.mkdir(parents=True, exist_ok=True)
    jobs = max(1, jobs or min(2, os.cpu_count() or 1))
    params = {
        "profile": profile,
        "seed": seed,
        "figures_dir": str(figures_dir),
        "data_root": str(data_root),
        **(extra or {}),
    }
    times_path = build_dir / f"notebook_times_{profile}.json"
    run = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "cold": not any(data_root.glob("*")),  # an empty data root: corpus and caches built
        "cpus": os.cpu_count(),
        "jobs": jobs,
    }
    selected = {nb.name[:2]: nb for nb in notebooks(root, only)}
    check_parameters(list(selected.values()), extra or {})
    t_run = time.perf_counter()
    times: dict[str, float] = {}
    lock = threading.Lock()

    def execute(nb: Path) -> None:
        print(f"[mer-ser figures] {nb.name} (profile={profile}, seed={seed})", file=sys.stderr)
        start = time.perf_counter()
        rc, cpu_s = _run_in_process(
            nb, _parameters(nb, params, build_dir), build_dir / "notebooks", progress
        )
        wall = round(time.perf_counter() - start, 1)
        if rc != 0:
            raise NotebookFailed(
                f"{nb.name} failed (its error is printed above); the executed copy with the "
                f"failing cell's traceback is {build_dir / 'notebooks' / nb.name}"
            )
        with lock:
            times[nb.stem] = wall
            record_notebook_time(
                times_path,
                nb.stem,
                wall_s=wall,
                cpu_s=cpu_s,
                run={**run, "start_s": round(start - t_run, 1)},
            )
        print(f"[mer-ser figures] {nb.name}: {wall:.1f} s", file=sys.stderr)

    waiting = dict(selected)
    running: dict = {}
    failure = None
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while (waiting and failure is None) or running:
            startable = [] if failure else ready(waiting, selected, running, jobs)
            if failure is None and not startable and not running:  # not with NEEDS' order
                startable = [min(waiting)]
            for num in startable:
                running[pool.submit(execute, waiting.pop(num))] = num
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                running.pop(fut)
                if fut.exception() is not None and failure is None:
                    failure = fut.exception()
    if failure is not None:
        raise failure
    print(json.dumps({"profile": profile, "notebook_seconds": times}))
    return times


def ready(waiting: dict, selected: dict, running: dict, jobs: int) -> list[str]:
    """Notebooks that may start now: their selected needs done, a free worker, ALONE respected."""
    busy = set(running.values())
    if busy & ALONE:
        return []
    out = []
    for num in sorted(waiting):
        if len(busy) + len(out) >= jobs:
            break
        if num in ALONE:  # alone, after every other notebook
            if not busy and not out and all(n in ALONE for n in waiting):
                out.append(num)
                break
            continue
        if num not in NEEDS:  # unknown: alone, after all before it
            if not busy and not out and all(n >= num for n in waiting):
                out.append(num)
            break
        needs = [n for n in NEEDS[num] if n in selected]
        if jobs == 1:  # one at a time: plain number order
            if not busy and not out:
                out.append(num)
            break
        if all(n not in waiting and n not in busy for n in needs):
            out.append(num)
    return out


def _run_in_process(nb: Path, params: dict, out_dir: Path, progress: bool) -> tuple[int, float]:
    """Run one notebook in a child process; its exit status and CPU seconds (with its kernel)."""
    args = json.dumps(
        {"path": str(nb), "params": params, "out_dir": str(out_dir), "progress": progress}
    )
    proc = subprocess.Popen([sys.executable, "-m", "mer_ser.figures", args])
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


def _parameters(nb: Path, params: dict, build_dir: Path) -> dict:
    """``params``, plus ``build_dir`` for a notebook that declares it (08 reads the times there)."""
    import papermill as pm

    if "build_dir" in pm.inspect_notebook(str(nb)):
        return {"build_dir": str(build_dir), **params}
    return params


def record_notebook_time(path: Path, stem: str, *, wall_s: float, cpu_s: float, run: dict) -> None:
    """Add one notebook's times to ``build/notebook_times_<profile>.json`` as soon as it ends.

    The file maps each notebook to its latest ``wall_s`` (seconds), ``cpu_s`` (CPU seconds of its
    kernel: ``cpu_s / wall_s`` is the cores it kept busy) and the ``run`` it belongs to (start
    time, whether the data root was empty, cores). Written after every notebook, atomically, so
    an interrupted ``make figures`` keeps the times of the notebooks that finished, and a later
    ``--only`` run updates its notebooks and keeps the rest (the performance notebook says which
    run each time comes from).
    """
    try:
        table = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        table = {}
    table = {k: v for k, v in table.items() if isinstance(v, dict)}  # drop the old flat format
    table[stem] = {"wall_s": wall_s, "cpu_s": round(cpu_s, 1), "run": run}
    write_json(path, table)


def read_notebook_times(build_dir: str | os.PathLike, profile: str = "default") -> dict:
    """The table :func:`record_notebook_time` keeps (empty when no notebook has run)."""
    path = Path(build_dir) / f"notebook_times_{profile}.json"
    try:
        table = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e}); delete it and rerun the notebooks") from e
    return {k: v for k, v in table.items() if isinstance(v, dict)}


if __name__ == "__main__":  # one notebook, in the child process of :func:`_run_in_process`
    _job = json.loads(sys.argv[1])
    try:
        run_notebook(
            Path(_job["path"]),
            _job["params"],
            out_dir=Path(_job["out_dir"]),
            progress=_job["progress"],
        )
    except Exception as e:  # the executed copy keeps the traceback; say only what went wrong
        what = (
            f"cell {e.exec_count} raised {e.ename}: {e.evalue}"
            if hasattr(e, "ename")
            else f"{type(e).__name__}: {e}"
        )
        print(f"[mer-ser figures] {Path(_job['path']).name}: {what}", file=sys.stderr)
        sys.exit(1)
