"""Regenerate every figure: run the numbered notebooks headlessly through papermill.

``mer-ser figures`` (and ``make figures``) executes ``notebooks/NN_*.ipynb`` in order with the
chosen profile; each notebook writes its figures and tables under ``figures/``. Executed copies
(with outputs) go to ``build/notebooks/``, which git ignores; the notebooks in git carry no
outputs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import mer_ser
from mer_ser._io import write_json


def repo_root() -> Path:
    """The project folder holding ``notebooks/`` (the editable install's source tree)."""
    root = Path(mer_ser.__file__).resolve().parents[1]
    if not (root / "notebooks").is_dir():
        raise FileNotFoundError(
            f"{root}: no notebooks/ folder; run from a source checkout installed with "
            "`pip install -e .`"
        )
    return root


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
) -> dict[str, float]:
    """Run the notebooks in order; returns each notebook's wall time in seconds.

    Args:
        profile: ``quick``, ``default`` or ``paper``.
        seed: master seed of the built-in corpus and of every experiment.
        only: notebook numbers to run (default all).
        figures_dir: where figures go (default ``<repo>/figures``).
        data_root: corpora and caches (default ``<repo>/data``).
        build_dir: executed notebooks (default ``<repo>/build``).
        extra: further parameters passed to every notebook.
        progress: papermill's per-cell progress bar.
    """
    root = repo_root()
    figures_dir = Path(figures_dir or root / "figures").resolve()
    data_root = Path(data_root or root / "data").resolve()
    build_dir = Path(build_dir or root / "build").resolve()
    figures_dir.mkdir(parents=True, exist_ok=True)
    params = {
        "profile": profile,
        "seed": seed,
        "figures_dir": str(figures_dir),
        "data_root": str(data_root),
        **(extra or {}),
    }
    times = {}
    for nb in notebooks(root, only):
        print(f"[mer-ser figures] {nb.name} (profile={profile}, seed={seed})", file=sys.stderr)
        t0 = time.perf_counter()
        run_notebook(nb, params, out_dir=build_dir / "notebooks", progress=progress)
        times[nb.stem] = round(time.perf_counter() - t0, 1)
        print(f"[mer-ser figures] {nb.name}: {times[nb.stem]:.1f} s", file=sys.stderr)
    write_json(build_dir / f"notebook_times_{profile}.json", times)
    print(json.dumps({"profile": profile, "notebook_seconds": times}))
    return times
