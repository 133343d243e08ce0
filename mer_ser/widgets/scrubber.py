"""The clip scrubber: a clip's spectrogram, emotion curves and models, scrubbed in time.

:class:`ClipScrubber` is an ipywidgets box: corpus, clip and model pickers above the
:class:`ScrubberCanvas` (an anywidget: spectrogram, arousal, valence and quadrant panels with a
cursor, the arousal-valence plane with each curve's current point and fading trail, an audio
player with a play button and a time slider) and an export button. It works headless (papermill
builds it without a browser; :meth:`ClipScrubber.save_png` draws the current view with
matplotlib) and in JupyterLab.

Models are anything with predictions per clip: :class:`ContinuousPredictions` (a regressor's 1 Hz
arousal/valence, e.g. a condition of the continuous track via
:meth:`ContinuousPredictions.from_condition`) and :class:`QuadrantPredictions` (a patch-wise
quadrant classifier's probabilities over time, e.g. from
:meth:`~mer_ser.experiments.gomez_canon.LanguageTransfer.patch_probabilities`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import anywidget
import ipywidgets as W
import numpy as np
import pandas as pd
import traitlets

from mer_ser.corpora.labels import QUADRANTS
from mer_ser.experiments.gomez_canon import MODES, music_language
from mer_ser.widgets.view import (
    ClipView,
    clip_base,
    render_png,
    spectrogram_ticks,
    with_models,
)


@dataclass(frozen=True)
class ContinuousPredictions:
    """A continuous regressor's predictions: clip id -> ``(T, 2)`` arousal, valence per 1 Hz frame.

    Attributes:
        name: the model's label (e.g. ``"S2M_TL"``).
        corpus: name of the corpus whose clips it predicts.
        predictions: clip id -> ``(T, 2)``.
        kind: ``"continuous"``.
        spread: clip id -> ``(T, 2)`` spread across the model's trials (drawn as a band), or
            ``None``.
    """

    name: str
    corpus: str
    predictions: dict = field(repr=False)
    kind: str = "continuous"
    spread: dict | None = field(default=None, repr=False)

    @classmethod
    def from_condition(cls, result, name: str | None = None, trial: int | None = None):
        """The test predictions of a :class:`~mer_ser.experiments.ConditionResult`.

        Each target instance is predicted by the models that never saw it (the protocol's
        cross-validation); ``trial`` defaults to the trial with the best development score.
        """
        k = result.best_trial() if trial is None else trial
        preds = {}
        for i, c in enumerate(result.clip_ids):
            n = int(np.asarray(result.mask[i]).sum())
            preds[c] = np.asarray(result.predictions[k, i, :n], float)
        return cls(name or result.condition, result.target, preds)


@dataclass(frozen=True)
class QuadrantPredictions:
    """A patch-wise quadrant classifier: clip id -> ``(time (P,), prob (P, 4))``."""

    name: str
    corpus: str
    predictions: dict = field(repr=False)
    kind: str = "quadrant"

    @classmethod
    def from_transfer(cls, transfer, encoder: str, mode: str, setting: str, amount: str, *,
                      run: int = 0) -> QuadrantPredictions:  # fmt: skip
        """The test clips of one Gomez-Canon run (:meth:`LanguageTransfer.patch_probabilities`).

        Args:
            transfer: a :class:`~mer_ser.experiments.gomez_canon.LanguageTransfer`.
            encoder: ``"SCAE"``, ``"CPC"``, a DAE variant, or ``"CNN"`` (the baseline).
            mode: ``"feat_ext"``, ``"full"`` or ``"baseline"``.
            setting: ``"mix2eng"``, ...; the baseline's ``"music_eng"``, ``"music_man"``.
            amount: ``"exp1"``, ``"exp2"``; the baseline's ``"none"``.
            run: which run.

        Raises:
            NotTrained: the transfer reads a cache only and the run is not in it.
        """
        probs = transfer.patch_probabilities(encoder, mode, setting, amount, run=run)
        music = transfer.music[music_language(setting)]
        return cls(f"{encoder}-{MODES.get(mode, mode)} {setting}", music.name, probs)


class ScrubberCanvas(anywidget.AnyWidget):
    """The drawing surface of :class:`ClipScrubber` (front end: ``scrubber.js``).

    ``position`` (seconds) syncs both ways: set it from Python to move the cursor, read it to
    know where the user scrubbed. Every other trait is set once per clip (``clip_token``).
    """

    _esm = Path(__file__).with_name("scrubber.js")
    _css = Path(__file__).with_name("scrubber.css")
    title = traitlets.Unicode("").tag(sync=True)
    duration = traitlets.Float(1.0).tag(sync=True)
    spectrogram = traitlets.Bytes(b"").tag(sync=True)
    spec_shape = traitlets.List([0, 0]).tag(sync=True)
    curves = traitlets.List([]).tag(sync=True)
    quadrants = traitlets.List([]).tag(sync=True)
    spec_ticks = traitlets.List([]).tag(sync=True)
    audio = traitlets.Bytes(b"").tag(sync=True)
    position = traitlets.Float(0.0).tag(sync=True)
    trail = traitlets.Float(5.0).tag(sync=True)
    clip_token = traitlets.Int(0).tag(sync=True)

    def show(self, view: ClipView, *, audio: bytes | None = None, audio_sr: int = 16000) -> None:
        """Send one clip's view to the browser in a single message.

        Traits that did not change (the audio and spectrogram when only the models changed) are
        not sent again; ``audio``: the clip's WAV bytes if already made.
        """

        def arr(x):
            return [round(float(v), 4) for v in np.asarray(x, float)]

        with self.hold_sync():
            self.title = f"{view.corpus} / {view.clip_id}"
            self.duration = max(view.duration, 1e-3)
            self.spectrogram = np.ascontiguousarray(view.spectrogram, np.uint8).tobytes()
            self.spec_shape = list(view.spectrogram.shape)
            self.spec_ticks = [[round(f, 4), lab] for f, lab in spectrogram_ticks(view.sr)]
            curves = []
            for c in view.av_curves():
                d = {"name": c.name, "kind": c.kind, "colour": c.colour, "t": arr(c.time),
                     "a": arr(c.arousal), "v": arr(c.valence)}  # fmt: skip
                if c.arousal_sd is not None:  # the spread across the model's trials
                    d |= {"sa": arr(c.arousal_sd), "sv": arr(c.valence_sd)}
                curves.append(d)
            self.curves = curves
            self.quadrants = [
                {"name": q.name, "t": arr(q.time), "p": np.round(q.prob, 4).tolist()}
                for q in view.quadrants
            ]
            self.audio = audio if audio is not None else view.wav_bytes(audio_sr)
            self.position = min(self.position, self.duration)
            self.clip_token += 1


class ClipScrubber(W.VBox):
    """Scrub a clip's emotion curves: targets, raters and models, with audio.

    Any recording opens too (:meth:`open_file`, the path field and its *Open* button, or an
    upload in JupyterLab): it is scored by the model bundles chosen in the *bundles* picker (by
    default those under ``<data_root>/models``) and shown under the corpus ``files``.

    Args:
        corpora: ``{name: Corpus}`` (or one :class:`~mer_ser.corpora.Corpus`); may be empty
            when files are opened.
        models: :class:`ContinuousPredictions` / :class:`QuadrantPredictions`; each applies to
            the corpus it names.
        corpus: the corpus shown first (default: the first one).
        clip: the clip shown first (default: the corpus' first clip that a model predicts).
        trail: seconds of fading trail on the arousal-valence plane.
        export_dir: where the export buttons write PNGs and CSVs (and uploads are kept).
        bundles: the model bundles offered for opened files (names, folders or bundles; default:
            every bundle under ``<data_root>/models`` with an emotion curve: continuous,
            quadrant, and linear on the time-continuous target).
        data_root: where bundle names are looked up.
    """

    def __init__(self, corpora=None, models=(), *, corpus=None, clip=None, trail=5.0,
                 export_dir: str | os.PathLike = ".", bundles=None, data_root=None):  # fmt: skip
        if corpora is None:
            corpora = {}
        elif not isinstance(corpora, dict):
            corpora = {corpora.name: corpora}
        self.corpora = dict(corpora)
        self.models = list(models)
        unknown = {m.corpus for m in self.models} - set(self.corpora)
        if unknown:
            raise ValueError(f"models predict corpora that are not given: {sorted(unknown)}")
        self.export_dir = Path(export_dir)
        self.canvas = ScrubberCanvas(trail=trail)
        self.view: ClipView | None = None
        self._bases: dict = {}  # (corpus, clip) -> (view without models, WAV bytes)
        self._corpus = W.Dropdown(options=list(self.corpora), description="corpus")
        self._clip = W.Dropdown(description="clip")
        self.model_picker = W.SelectMultiple(description="models", rows=3)
        self.export_button = W.Button(description="Export PNG", icon="download")
        self.csv_button = W.Button(description="Export CSV", icon="table")
        self.status_line = W.HTML()
        self.export_button.on_click(lambda _: self._on_export())
        self.csv_button.on_click(lambda _: self._on_export_csv())
        self.data_root = data_root
        self.file_path = W.Text(placeholder="path of an audio file", description="file")
        self.open_button = W.Button(description="Open", icon="folder-open")
        self.upload = W.FileUpload(accept="audio/*", multiple=False, description="Upload")
        self.bundle_picker = W.SelectMultiple(description="bundles", rows=3)
        self.bundle_picker.options = self._offered(bundles)
        self.bundle_picker.value = tuple(self.bundle_picker.options)
        self.open_button.on_click(lambda _: self._on_open())
        self.upload.observe(lambda _: self._on_upload(), "value")
        self._files: list[Path] = []  # opened files, in order
        self._labels: dict = {}  # file -> its own label
        self._file_models: dict = {}  # bundle name -> clip -> (kind, predictions, spread)
        super().__init__(
            [
                W.HBox([self._corpus, self._clip]),
                W.HBox([self.file_path, self.open_button, self.upload]),
                W.HBox([self.model_picker, self.bundle_picker]),
                self.canvas,
                W.HBox([self.export_button, self.csv_button, self.status_line]),
            ]
        )
        self._updating = False  # pickers being filled in code: one refresh at the end
        if self.corpora:  # otherwise nothing is shown until a file is opened
            self._corpus.value = corpus or next(iter(self.corpora))
            self._fill_clips(clip)
        self._corpus.observe(lambda _: self._user(self._fill_clips, None), "value")
        self._clip.observe(lambda _: self._user(self._fill_models), "value")
        self.model_picker.observe(lambda _: self._user(self._refresh), "value")

    # -- selection --------------------------------------------------------------------------
    def _user(self, fn, *args):
        if not self._updating:
            fn(*args)

    def _fill_clips(self, clip):
        corpus = self.corpora[self._corpus.value]
        ids = list(corpus.clips.index)
        if clip is not None and clip not in ids:
            raise KeyError(f"{corpus.name}: no clip {clip!r}")
        predicted = [c for c in ids if any(c in m.predictions for m in self._for(corpus.name))]
        self._updating = True
        try:
            self._clip.options = ids
            self._clip.value = clip or (predicted or ids)[0]
        finally:
            self._updating = False
        self._fill_models()

    def _for(self, corpus_name):
        return [m for m in self.models if m.corpus == corpus_name]

    def _fill_models(self):
        clip = self._clip.value
        names = [m.name for m in self._for(self._corpus.value) if clip in m.predictions]
        self._updating = True
        try:
            self.model_picker.options = names
            self.model_picker.value = tuple(names)
        finally:
            self._updating = False
        self._refresh()

    def _refresh(self):
        corpus = self.corpora[self._corpus.value]
        clip = self._clip.value
        chosen = [m for m in self._for(corpus.name) if m.name in self.model_picker.value]
        preds = {
            m.name: (m.predictions[clip], m.spread[clip]) if m.spread else m.predictions[clip]
            for m in chosen
            if m.kind == "continuous"
        }
        quads = {m.name: m.predictions[clip] for m in chosen if m.kind == "quadrant"}
        key = (corpus.name, clip)
        if key not in self._bases:  # audio and spectrogram: once per clip, not per model toggle
            if len(self._bases) >= 4:
                self._bases.pop(next(iter(self._bases)))
            base = clip_base(corpus, clip)
            self._bases[key] = (base, base.wav_bytes())
        base, wav = self._bases[key]
        self.view = with_models(base, preds, quads)
        self.canvas.show(self.view, audio=wav)

    # -- files ------------------------------------------------------------------------------
    def _offered(self, bundles) -> list[str]:
        from mer_ser import bundles as bd

        if bundles is not None:
            return [str(b.path if isinstance(b, bd.Bundle) else b) for b in bundles]
        if self.data_root is None:
            return []
        names = bd.list_bundles(self.data_root)
        root = bd.models_dir(self.data_root)
        return [n for n in names if _kind_of(root / n) is not None]

    def open_file(self, path, *, bundles=None, label=None, domain: str = "music"):
        """Show an audio file (any format libsndfile reads) scored by model bundles.

        Args:
            path: the file.
            bundles: bundles to score it with (default: those chosen in the bundles picker).
            label: the file's own continuous label (a ``time, arousal, valence`` table), drawn
                as its gold standard.
            domain: ``"music"`` or ``"speech"``.

        Returns:
            The scrubber, showing the file.
        """
        from mer_ser.widgets.files import FILES, bundle_models, file_corpus

        path = Path(path).resolve()
        if label is not None:
            self._labels[str(path)] = label
        files = self._files if path in self._files else [*self._files, path]
        corpus = file_corpus(files, domain=domain, labels=self._labels, name=FILES)
        cid = corpus.clips.index[list(corpus.clips["audio_path"]).index(str(path))]
        chosen = list(bundles) if bundles is not None else list(self.bundle_picker.value)
        for m in bundle_models(chosen, corpus.subset([cid]), data_root=self.data_root):
            got = self._file_models.setdefault(m.name, {})
            spread = (m.spread or {}).get(cid) if m.kind == "continuous" else None
            got[cid] = (m.kind, m.predictions[cid], spread)
        merged = [m for m in self.models if m.corpus != FILES]
        for name, per_clip in self._file_models.items():
            kind = next(iter(per_clip.values()))[0]
            preds = {c: v[1] for c, v in per_clip.items()}
            if kind == "continuous":
                spread = {c: v[2] for c, v in per_clip.items()}
                merged.append(ContinuousPredictions(name, FILES, preds, spread=spread))
            else:
                merged.append(QuadrantPredictions(name, FILES, preds))
        self._files, self.models = files, merged
        self.corpora[FILES] = corpus
        self._bases.pop((FILES, cid), None)
        self._updating = True
        try:
            self._corpus.options = list(self.corpora)
            self._corpus.value = FILES
        finally:
            self._updating = False
        self._fill_clips(cid)
        self.status_line.value = f"opened <code>{path}</code> with {len(chosen)} bundle(s)"
        return self

    def _on_open(self):
        try:
            self.open_file(self.file_path.value.strip())
        except Exception as e:  # shown to the user, not raised into the event loop
            self.status_line.value = f"<b>cannot open</b>: {e}"

    def _on_upload(self):
        from mer_ser.widgets.files import save_upload

        for item in self.upload.value or ():
            path = save_upload(item["content"], item["name"], self.export_dir / "uploads")
            try:
                self.open_file(path)
            except Exception as e:
                self.status_line.value = f"<b>cannot open</b> {item['name']}: {e}"

    def export_csv(self, path: str | os.PathLike | None = None) -> Path:
        """Write every curve shown (:meth:`~mer_ser.widgets.ClipView.curves_frame`) as CSV.

        Default path: ``<export_dir>/scrubber_<corpus>_<clip>.csv``.
        """
        from mer_ser.plots import save_csv

        v = self.view
        path = Path(path or self.export_dir / f"scrubber_{v.corpus}_{v.clip_id}.csv")
        save_csv(v.curves_frame(), path)
        return path

    def _on_export_csv(self):
        self.status_line.value = f"saved <code>{self.export_csv()}</code>"

    # -- public API -------------------------------------------------------------------------
    @property
    def position(self) -> float:
        """The cursor in seconds."""
        return self.canvas.position

    @position.setter
    def position(self, t: float) -> None:
        self.canvas.position = float(min(max(t, 0.0), self.view.duration))

    def select(self, *, corpus: str | None = None, clip: str | None = None, models=None):
        """Choose what is shown, as the pickers would."""
        if corpus is not None:
            self._corpus.value = corpus
        if clip is not None:
            self._clip.value = clip
        if models is not None:
            self.model_picker.value = tuple(models)
        return self

    def points(self) -> dict[str, tuple[float, float]]:
        """Each shown curve's ``(arousal, valence)`` at the cursor."""
        return self.view.points(self.position)

    def save_png(self, path: str | os.PathLike) -> Path:
        """Write the current view (cursor, points, trails) as a PNG; returns the path."""
        path = Path(path)
        render_png(self.view, self.position, path, trail=self.canvas.trail)
        return path

    def export_views(self, position: float, music_png, quadrant_png) -> pd.DataFrame:
        """Write the exploration notebook's two views and return what they show.

        Args:
            position: seconds; the cursor of the first view (clamped to the clip).
            music_png: where the clip shown now goes, cursor at ``position``.
            quadrant_png: where the first (sorted) clip of the first quadrant classifier goes,
                cursor at the clip's middle; written only when a quadrant classifier is given.

        Returns:
            ``view`` (the PNG's path), ``curve``, ``arousal``, ``valence``: each shown curve at
            the cursor of each view. The scrubber then shows the first view again.
        """
        start = {"corpus": self.view.corpus, "clip": self.view.clip_id}
        self.position = position
        points = {str(self.save_png(music_png)): self.points()}
        quadrant = [m for m in self.models if m.kind == "quadrant"]
        if quadrant:
            q = quadrant[0]
            self.select(corpus=q.corpus, clip=sorted(q.predictions)[0])
            self.position = self.view.duration / 2
            points[str(self.save_png(quadrant_png))] = self.points()
            self.select(**start)
            self.position = position
        rows = [
            {"view": view, "curve": curve, "arousal": a, "valence": v}
            for view, at in points.items()
            for curve, (a, v) in at.items()
        ]
        return pd.DataFrame(rows)

    def _on_export(self):
        v = self.view
        name = f"scrubber_{v.corpus}_{v.clip_id}_{self.position:07.2f}s.png"
        path = self.save_png(self.export_dir / name)
        self.status_line.value = f"saved <code>{path}</code>"


def curve_kind(manifest: dict) -> str | None:
    """How the scrubber draws a bundle, from its manifest.

    Returns:
        ``"continuous"`` (arousal and valence per 1 Hz frame: continuous bundles and linear ones
        on the time-continuous target), ``"quadrant"`` (probabilities per window), or ``None``
        (no emotion curve on the plane: encoders, clip-level linear models, classifiers of
        other classes than the quadrants).
    """
    kind = manifest.get("kind")
    if kind == "continuous":
        return kind
    if kind == "quadrant":  # not a classifier of other classes (an experiment's categories)
        classes = manifest.get("labels", {}).get("classes", list(QUADRANTS))
        return kind if list(classes) == list(QUADRANTS) else None
    if kind == "linear" and manifest.get("features", {}).get("level") == "frame":
        return "continuous"
    return None


def _kind_of(folder: Path) -> str | None:
    """A bundle folder's :func:`curve_kind` (``None`` if its manifest is unreadable)."""
    import json

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return curve_kind(manifest) if isinstance(manifest, dict) else None
