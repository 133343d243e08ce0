"""The clip scrubber in a real browser: JupyterLab on loopback, Chromium driven by Playwright.

Used by the browser test (``tests/test_notebooks.py``) and by ``mer-ser screenshot``, which writes
the picture of the scrubber in the README. Chromium is Debian's (``/usr/bin/chromium``; ``.ci/run``
installs it with apt when absent), started headless with background networking off, as the
machine's closed network needs.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from mer_ser._io import repo_root
from mer_ser.corpora.model import Corpus
from mer_ser.widgets.scrubber import ClipScrubber, ContinuousPredictions

#: Chromium flags for a headless run as root on a machine without outside network.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
)


def find_chromium() -> str | None:
    """Path of a Chromium executable (``MER_SER_CHROMIUM``, then the usual names), or ``None``."""
    env = os.environ.get("MER_SER_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root: str | os.PathLike, *, timeout: float = 60.0) -> Iterator[tuple[str, str]]:
    """A JupyterLab server on 127.0.0.1 serving ``root``, with a random token.

    Yields:
        ``(base_url, token)``. The server (and its kernels) stop when the block ends.

    Raises:
        RuntimeError: the server did not answer within ``timeout`` seconds (its log attached).
    """
    root = Path(root)
    state = root / ".lab-state"
    news = state / "settings" / "@jupyterlab" / "apputils-extension"
    news = news / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text('{"fetchNews": "false"}')  # no news toast over the page
    port, token = _free_port(), secrets.token_hex(16)
    log = open(state / "server.log", "w")  # closed below
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
        f"--LabApp.user_settings_dir={state / 'settings'}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI machines run as root
        cmd.append("--allow-root")
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1"}
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                text = (state / "server.log").read_text()[-3000:]
                raise RuntimeError(f"JupyterLab did not start on {base} ({cmd}):\n{text}")
            time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _read(page) -> dict:
    """The scrubber's state as the page shows it: cursor pixel, AV points, slider, audio."""
    return page.evaluate(
        """() => {
          const el = document.querySelector('.mer-ser-scrubber');
          const tl = el.querySelector('canvas.mss-timeline');
          const pl = el.querySelector('canvas.mss-plane');
          const audio = el.querySelector('audio.mss-audio');
          return {cursor_x: Number(tl.dataset.cursorX), av: JSON.parse(pl.dataset.avPoint || '{}'),
                  slider: Number(el.querySelector('input.mss-slider').value),
                  clock: el.querySelector('.mss-clock').textContent,
                  audio_src: audio ? audio.src : null,
                  audio_duration: audio ? audio.duration : null};
        }"""
    )


def _open_and_run(page, base: str, token: str, notebook: str, timeout: float) -> float:
    """Open a notebook in JupyterLab and *Run All Cells*; the seconds until it is done.

    Done: its scrubber is drawn and the kernel is idle.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{base}/lab/tree/{notebook}?token={token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    with contextlib.suppress(PlaywrightTimeout):  # "Select Kernel" when first opened
        page.locator(".jp-Dialog").get_by_role("button", name="Select").click(timeout=15_000)
    idle = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
    page.wait_for_selector(idle, timeout=120_000)
    t0 = time.monotonic()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.locator(".mer-ser-scrubber").first.wait_for(state="visible", timeout=timeout * 1000)
    page.wait_for_function(
        "() => { const c = document.querySelector('.mer-ser-scrubber canvas.mss-timeline');"
        " return c && c.dataset.cursorX !== undefined; }",
        timeout=timeout * 1000,
    )
    page.wait_for_selector(idle, timeout=timeout * 1000)
    return time.monotonic() - t0


def _open_file(page, path: str, timeout: float) -> dict:
    """Type ``path`` into the last scrubber's file field, press *Open*, click its timeline.

    Returns:
        ``{"title", "curves", "status", "cursor_before", "cursor_after"}``: what the scrubber
        shows once the file is drawn, and its cursor before and after a click at the middle of
        the timeline (click-to-seek).
    """
    box = page.locator(".jp-OutputArea-output", has=page.locator(".mer-ser-scrubber")).last
    box.scroll_into_view_if_needed()
    box.locator("input[placeholder='path of an audio file']").fill(path)
    box.get_by_role("button", name="Open").click()
    name = Path(path).name
    page.wait_for_function(
        "name => { const all = document.querySelectorAll('.mer-ser-scrubber .mss-title');"
        " return all.length && all[all.length - 1].textContent.endsWith(name); }",
        arg=name,
        timeout=timeout * 1000,
    )
    scrubber = box.locator(".mer-ser-scrubber")
    timeline = scrubber.locator("canvas.mss-timeline")
    before = float(timeline.get_attribute("data-cursor-x"))
    timeline.scroll_into_view_if_needed()
    tb = timeline.bounding_box()
    timeline.click(position={"x": tb["width"] / 2, "y": 40})
    page.wait_for_function(
        "x => { const all = document.querySelectorAll('.mer-ser-scrubber canvas.mss-timeline');"
        " return Number(all[all.length - 1].dataset.cursorX) !== x; }",
        arg=before,
    )
    return {
        "title": scrubber.locator(".mss-title").text_content(),
        "curves": json.loads(timeline.get_attribute("data-curves") or "[]"),
        "status": box.locator(".widget-html-content").last.text_content(),
        "cursor_before": before,
        "cursor_after": float(timeline.get_attribute("data-cursor-x")),
        "timeline_width": tb["width"],
    }


def drive_scrubber(base: str, token: str, notebook: str, *, chromium: str, screenshot=None,
                   timeout: float = 600.0, at: float = 0.7, open_file=None) -> dict:  # fmt: skip
    """Open ``notebook`` in JupyterLab, run all its cells and scrub its first clip scrubber.

    The slider is clicked at ``at`` of its width, as a user would, then ▶ play is pressed until
    the audio has advanced half a second, and pressed again to pause; the page's state is read
    before the click, after it and while playing (:func:`_read`), and the scrubber's picture
    (back at the clicked position) saved to ``screenshot``. With ``open_file`` (a path), that
    file is then opened in the notebook's last scrubber through its file field and *Open*
    button, and its timeline clicked (:func:`_open_file`).

    Returns:
        ``{"before": state, "after": state, "playing": state + "audio_time", "run_seconds"}``,
        and ``"file"`` with ``open_file``.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=list(CHROMIUM_ARGS))  # fmt: skip
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        try:
            page.set_default_timeout(timeout * 1000)
            run_seconds = _open_and_run(page, base, token, notebook, timeout)
            scrubber = page.locator(".mer-ser-scrubber").first
            scrubber.scroll_into_view_if_needed()
            before = _read(page)
            slider = scrubber.locator("input.mss-slider")
            slider.scroll_into_view_if_needed()
            box = slider.bounding_box()
            # relative to the slider at click time: output appearing elsewhere on the page may
            # have moved it since its box was read
            slider.click(position={"x": at * box["width"], "y": box["height"] / 2})
            page.wait_for_function(
                "x => Number(document.querySelector('.mer-ser-scrubber canvas.mss-timeline')"
                ".dataset.cursorX) !== x",
                arg=before["cursor_x"],
            )
            after = _read(page)
            # play: the audio starts at the cursor and the cursor follows it
            scrubber.locator("button.mss-play").click()
            page.wait_for_function(
                "x => { const a = document.querySelector('.mer-ser-scrubber audio.mss-audio');"
                " return !a.paused && a.currentTime > x + 0.5; }",
                arg=after["slider"],
                timeout=30_000,
            )
            playing = _read(page)
            playing["audio_time"] = page.evaluate(
                "() => document.querySelector('.mer-ser-scrubber audio.mss-audio').currentTime"
            )
            scrubber.locator("button.mss-play").click()  # pause
            page.wait_for_function(
                "() => document.querySelector('.mer-ser-scrubber audio.mss-audio').paused"
            )
            page.evaluate(
                "t => { const s = document.querySelector('.mer-ser-scrubber input.mss-slider');"
                " s.value = String(t); s.dispatchEvent(new Event('input')); }",
                after["slider"],
            )  # back to the clicked position for the picture
            if screenshot is not None:
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                # the whole widget: pickers, canvas, export button
                box = scrubber.locator(
                    "xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')][1]"
                )
                box.screenshot(path=str(screenshot))
            out = {"before": before, "after": after, "playing": playing,
                   "run_seconds": round(run_seconds, 1)}  # fmt: skip
            if open_file is not None:
                out["file"] = _open_file(page, str(open_file), timeout)
            return out
        except Exception as e:  # keep what the page showed and said
            if screenshot is not None:
                failed = Path(screenshot).with_name(Path(screenshot).stem + "_failure.png")
                failed.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(failed), full_page=True)
            tail = "\n".join(console[-30:])
            raise RuntimeError(f"{e}\nbrowser console (last 30 lines):\n{tail}") from e
        finally:
            browser.close()


def prepare_notebook(src: str | os.PathLike, dest_dir: str | os.PathLike, parameters: dict) -> str:
    """Copy a notebook into ``dest_dir`` with papermill's parameters cell injected; its name."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = parameterize_notebook(load_notebook_node(str(src)), parameters)
    nb.metadata.pop("papermill", None)
    out = Path(dest_dir) / Path(src).name
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out.name


def screenshot(out: str | os.PathLike, *, profile="default", data_root=None, timeout=900.0):
    """Run notebook 08 in JupyterLab in Chromium and save the scrubber's picture to ``out``."""
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found: install Debian's chromium (see .ci/run)")
    root = repo_root()
    lab = root / "build" / "lab"
    params = {"profile": profile, "data_root": str(Path(data_root or root / "data").resolve()),
              "figures_dir": str(lab / "figures")}  # fmt: skip
    name = prepare_notebook(root / "notebooks" / "08_explore.ipynb", lab, params)
    with jupyterlab(lab) as (base, token):
        res = drive_scrubber(base, token, name, chromium=chromium, screenshot=out,
                             timeout=timeout)  # fmt: skip
    print(json.dumps({k: v for k, v in res.items() if k != "before"}, default=str))
    return res


def synthetic_clips(root: str | os.PathLike, durations=(6.0, 600.0), *, seed: int = 0):
    """Clips of the given lengths for timing the scrubber, written under ``root``.

    Each has audio, a 25 Hz gold standard and six raters (RECOLA's shape).

    Returns:
        The :class:`~mer_ser.corpora.Corpus`.
    """
    import pandas as pd
    import soundfile as sf

    root = Path(root)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    clips, gold, ratings = [], [], []
    for i, d in enumerate(durations):
        cid = f"clip{i}_{int(d)}s"
        sr = 16000
        t = np.arange(int(d * sr)) / sr
        y = 0.2 * np.sin(2 * np.pi * (220 + 40 * np.sin(t / 3)) * t)
        y = y + 0.02 * rng.normal(size=t.size)
        sf.write(root / "audio" / f"{cid}.wav", y.astype(np.float32), sr)
        tg = np.arange(0, d, 0.04)
        base = np.cumsum(rng.normal(0, 0.02, (tg.size, 2)), axis=0)
        base = np.tanh(base - base.mean(axis=0))
        gold.append(pd.DataFrame({"clip_id": cid, "time": tg, "arousal": base[:, 0],
                                  "valence": base[:, 1]}))  # fmt: skip
        for k in range(6):
            noisy = np.clip(base + rng.normal(0, 0.1, base.shape), -1, 1)
            ratings.append(pd.DataFrame({"clip_id": cid, "rater": f"r{k}", "time": tg,
                                         "arousal": noisy[:, 0],
                                         "valence": noisy[:, 1]}))  # fmt: skip
        clips.append({"clip_id": cid, "domain": "music", "language": "zxx",
                      "audio_path": f"audio/{cid}.wav", "duration": d, "sr": sr,
                      "group": cid, "split": ""})  # fmt: skip
    return Corpus(
        "timing",
        root,
        pd.DataFrame(clips).set_index("clip_id"),
        gold=pd.concat(gold, ignore_index=True),
        ratings=pd.concat(ratings, ignore_index=True),
        meta={"label_rate": 25.0},
    )


#: In-page timing of slider ticks: each tick is an ``input`` event, whose handler redraws
#: synchronously (and sends the position to the kernel).
_TICKS_JS = """n => {
  const el = document.querySelector('.mer-ser-scrubber');
  const s = el.querySelector('input.mss-slider');
  const max = Number(s.max);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    s.value = String((max * i) / n);
    s.dispatchEvent(new Event('input'));
  }
  return (performance.now() - t0) / n;
}"""


def benchmark(durations=(6.0, 600.0), *, ticks: int = 200, workdir=None) -> dict:
    """Time the scrubber on clips of ``durations`` seconds.

    Measured: the view built in Python, the message sent per clip, and (with Chromium) the
    browser's milliseconds per slider tick.

    Returns:
        ``{"clips": [{"seconds", "build_s", "message_mb", "tick_ms"}, ...], "chromium": ...}``.
    """
    import tempfile

    work = Path(workdir or tempfile.mkdtemp(prefix="mer_ser_scrubber_"))
    corpus = synthetic_clips(work / "corpus", durations)
    rows = []
    for cid, d in zip(corpus.clips.index, durations, strict=True):
        pred = {cid: np.zeros((max(int(d) - 1, 1), 2))}
        t0 = time.perf_counter()
        s = ClipScrubber(corpus, [ContinuousPredictions("model", "timing", pred)], clip=cid)
        build = time.perf_counter() - t0
        cv = s.canvas
        size = len(cv.audio) + len(cv.spectrogram) + len(json.dumps(cv.curves))
        rows.append({"seconds": d, "build_s": round(build, 2), "message_mb": round(size / 1e6, 2)})
    chromium = find_chromium()
    if chromium is not None:
        import nbformat
        from nbformat.v4 import new_code_cell, new_notebook
        from playwright.sync_api import sync_playwright

        lab = work / "lab"
        for i, cid in enumerate(corpus.clips.index):
            src = (
                "from mer_ser.widgets.browser import synthetic_clips\n"
                "from mer_ser.widgets import ClipScrubber\n"
                f"c = synthetic_clips({str(work / 'corpus')!r}, {tuple(durations)!r})\n"
                f"ClipScrubber(c, clip={cid!r})"
            )
            nb = new_notebook(cells=[new_code_cell(src)])
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                         "language": "python"}  # fmt: skip
            lab.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, lab / f"t{i}.ipynb")
        with jupyterlab(lab) as (base, token), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True,
                                        args=list(CHROMIUM_ARGS))  # fmt: skip
            for i, row in enumerate(rows):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                _open_and_run(page, base, token, f"t{i}.ipynb", 300.0)
                page.evaluate(_TICKS_JS, 20)  # warm-up
                row["tick_ms"] = round(page.evaluate(_TICKS_JS, ticks), 3)
                page.close()
            browser.close()
    return {"clips": rows, "chromium": chromium, "ticks": ticks}
