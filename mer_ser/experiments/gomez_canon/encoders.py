"""The protocol's pretrained encoders as types: how each is pretrained, preset and fed.

Every encoder implements one interface (:class:`Encoder`), which :class:`~mer_ser.experiments.
gomez_canon.transfer.LanguageTransfer` calls without knowing which encoder it holds:

* ``pretrain(lt, language, amount) -> (job, mean, std)``: the encoder trained on a speech pool
  (cached), with the statistics that standardise its inputs;
* ``preset(lt, job) -> (params, state)``: the pretrained weights as a classifier's starting point;
* ``inputs(lt, lang, mean, std) -> (x, rows)``: a music set as the encoder reads it;
* ``transfer(lt, setting, amount)``: its transfer experiments on one music set (score rows);
* ``probabilities(lt, mode, setting, amount, run, job)``: its quadrant probabilities over time.

:class:`ScaeEncoder` and :class:`CpcEncoder` (2021, section 3.3) read 1 s mel patches and transfer
with the multi-task head (Feat. Ext., Full); :class:`DaeEncoder` (2020, section III-B) is
Coutinho & Schuller's LSTM-DAE on windows of 1 Hz ComParE frames under a new LSTM block and a
softmax (quadrant head only).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from mer_ser._io import sha256_arrays
from mer_ser.experiments.gomez_canon.data import (
    MusicPatches,
    draw_pool,
    fold,
    frame_windows,
    music_fingerprint,
    music_windows,
    rank_in_clip,
    split_sizes,
    window_seconds,
)
from mer_ser.experiments.gomez_canon.protocol import DAE_VARIANTS, MODES, WINDOW
from mer_ser.experiments.jobs import classifier_state, job_key, run_classifier_job, run_job
from mer_ser.experiments.splits import stratified_split
from mer_ser.models.autoencoders import CPC, SCAE
from mer_ser.models.lstm import LSTMDAE, PackedDAEClassifier
from mer_ser.train.engine import make_autoencoder_fit, make_classifier_fit, make_cpc_fit, make_fit


class Encoder:
    """The interface every encoder of the protocol implements (see the module docstring)."""

    name: str

    def label(self, mode: str) -> str:
        """The encoder's row name in Table 2 for ``mode``."""
        raise NotImplementedError

    def pretrain(self, lt, language: str, amount: str):
        """``(job, mean, std)``: the encoder pretrained on a speech pool (cached)."""
        raise NotImplementedError

    def preset(self, lt, job) -> tuple[dict, dict]:
        """``({"encoder": params}, {"encoder": state})`` of a pretrained job."""
        raise NotImplementedError

    def inputs(self, lt, lang: str, mean, std) -> tuple[np.ndarray, MusicPatches]:
        """A music set as the encoder reads it: ``(x, rows)`` (``rows``: its clips and labels)."""
        raise NotImplementedError

    def transfer(self, lt, setting: str, amount: str) -> pd.DataFrame:
        """The encoder's transfer experiments on one music set: score rows."""
        raise NotImplementedError

    def probabilities(self, lt, mode: str, setting: str, amount: str, run: int, job):
        """``(rows, test rows, times, quadrant probabilities)`` of a music set's test clips."""
        raise NotImplementedError


@dataclass(frozen=True)
class _MelEncoder(Encoder):
    """An encoder of 1 s mel patches transferred with the multi-task head (2021, Fig. 2)."""

    name: str
    stage: str  # the protocol's training stage of its pretraining

    def label(self, mode: str) -> str:
        return f"{self.name}-{MODES[mode]}"

    def model(self):
        """The pretrained model's build function ``rngs -> model``."""
        raise NotImplementedError

    def _make_fit(self, lt):
        raise NotImplementedError

    def _pretrain_data(self, ws, train_w, val_w, widths):
        """``(x, fold)`` of the standardised windows ``ws`` for the pretraining fit."""
        raise NotImplementedError

    def _objective(self, protocol) -> str:
        return "mse"

    def pretrain(self, lt, language: str, amount: str):
        memo = ("pretrain", self.name, language, amount)
        if memo in lt._memo:
            return lt._memo[memo]
        p = lt.protocol
        w = draw_pool(lt.speech, language, p.amounts[amount], extractor=lt.extractor, seed=lt.seed,
                      mix=lt.mix)  # fmt: skip
        part = stratified_split(np.zeros(len(w)), (1 - p.pretrain_val, p.pretrain_val),
                                seed=lt.seed)  # fmt: skip
        train_w, val_w = np.flatnonzero(part == 0), np.flatnonzero(part == 1)
        mean, std = float(w[train_w].mean()), float(w[train_w].std()) or 1.0
        ws = (w - mean) / std
        # Every amount is trained at the largest amount's shapes (zero windows and weight-0 fold
        # entries added), so one compiled program serves both experiments.
        n_max = max(lt._windows(a) for a in p.amounts)
        widths = split_sizes(n_max, p.pretrain_val)
        ws = np.concatenate([ws, np.zeros((n_max - len(ws), *ws.shape[1:]), ws.dtype)])
        x, f = self._pretrain_data(ws, train_w, val_w, widths)
        fit, _ = lt._fit((self.stage,), lambda: self._make_fit(lt))
        spec = {
            "kind": "gomez_canon_pretrain",
            "encoder": self.name,
            "language": language,
            "seconds": p.amounts[amount],
            "data": sha256_arrays(("windows",), (w,)),
            "cfg": dataclasses.asdict(p.config(self.stage)),
            "objective": self._objective(p),
            "seed": lt.seed,
        }
        job = run_classifier_job(
            fit,
            key=job_key(spec),
            seed=lt.seed,
            runs=1,
            fold=f,
            x=jnp.asarray(x),
            labels=jnp.zeros(len(x), jnp.int32),
            cache=lt.cache,
        )
        lt.pretraining[(self.name, language, amount)] = {
            "windows": len(w),
            "seconds": len(w) * window_seconds(lt.extractor),
            "epochs": int(job.epochs[0]),
            "best_val_loss": float(job.best_val[0]),
        }
        lt._memo[memo] = (job, mean, std)
        return lt._memo[memo]

    def preset(self, lt, job) -> tuple[dict, dict]:
        memo = ("preset", job.key)
        if memo not in lt._memo:  # each encoder serves both music sets
            params, rest = classifier_state(self.model(), job, 0)
            state = nnx.to_pure_dict(nnx.filter_state(rest, nnx.BatchStat))
            lt._memo[memo] = ({"encoder": params["encoder"]}, {"encoder": state["encoder"]})
        return lt._memo[memo]

    def inputs(self, lt, lang: str, mean, std) -> tuple[np.ndarray, MusicPatches]:
        m = lt.music[lang]
        return (m.x - mean) / std, m  # the pretraining pool's statistics

    def transfer(self, lt, setting: str, amount: str) -> pd.DataFrame:
        speech_lang, _, lang = setting.partition("2")
        p = lt.protocol
        job, mean, std = self.pretrain(lt, speech_lang, amount)
        preset = self.preset(lt, job)
        xs, m = self.inputs(lt, lang, mean, std)
        test = m.rows(lt.splits[lang][2])
        f = lt._music_fold(lang)
        z = lt._latents(preset, xs)
        base = {"encoder": self.name, "pretrained": job.key, "music": music_fingerprint(m),
                "split": [s.tolist() for s in lt.splits[lang]], "runs": p.runs,
                "head_block": p.head_block, "seed": lt.seed}  # fmt: skip
        cfg = dataclasses.asdict(p.config("feat_ext"))
        spec = {**base, "kind": "gc_feat_ext", "cfg": cfg}
        fe = lt._job(lt._stage_fit("feat_ext")[0], spec, z, m, f)
        lt.jobs[(self.name, "feat_ext", setting, amount)] = fe
        kw = {"encoder": self.name, "setting": setting, "amount": amount,
              "normalisation": "source"}  # fmt: skip
        rows = []
        if "feat_ext" in p.modes:
            probs = lt._probabilities("feat_ext", fe, z[test])
            rows += lt._rows(probs, lang, mode="feat_ext", **kw)
        if "full" in p.modes and self.name in p.full_encoders and amount in p.full_amounts:
            presets = []  # run k continues from Feat. Ext. run k, every weight released
            for k in range(p.runs):
                head = classifier_state(lt.classifier("latent"), fe, k)[0]["head"]
                presets.append(({**preset[0], "head": head}, preset[1]))
            cfg = dataclasses.asdict(p.config("full"))
            spec = {**base, "kind": "gc_full", "init": fe.key, "cfg": cfg}
            full = lt._job(lt._stage_fit("full")[0], spec, xs, m, f, presets)
            lt.jobs[(self.name, "full", setting, amount)] = full
            rows += lt._rows(lt._probabilities("full", full, xs[test]), lang, mode="full", **kw)
        return pd.DataFrame(rows)

    def probabilities(self, lt, mode: str, setting: str, amount: str, run: int, job):
        speech_lang, _, lang = setting.partition("2")
        pretrained, mean, std = self.pretrain(lt, speech_lang, amount)
        m = lt.music[lang]
        rows = m.rows(lt.splits[lang][2])
        xs = (m.x[rows] - mean) / std
        if mode == "feat_ext":
            xs = lt._latents(self.preset(lt, pretrained), xs)
        prob = lt._probabilities(mode, job, xs, runs=[run])[0]["quadrant"]
        return m, rows, lt._patch_times(m, rows), prob


@dataclass(frozen=True)
class ScaeEncoder(_MelEncoder):
    """The sparse convolutional denoising autoencoder (2020, Fig. 1), pretrained on patches."""

    name: str = "SCAE"
    stage: str = "scae"

    def model(self):
        """``rngs -> SCAE``."""
        return lambda r: SCAE(rngs=r)

    def _make_fit(self, lt):
        fit, apply = make_autoencoder_fit(self.model(), lt.protocol.config(self.stage))
        return (lambda k, fold, x, y, pre=None: fit(k, fold, x)), apply

    def _pretrain_data(self, ws, train_w, val_w, widths):
        x = ws.reshape(-1, *ws.shape[2:])  # the windows' patches
        rows = lambda idx: (idx[:, None] * WINDOW + np.arange(WINDOW)).ravel()  # noqa: E731
        return x, fold(rows(train_w), rows(val_w), tuple(w * WINDOW for w in widths))


@dataclass(frozen=True)
class CpcEncoder(_MelEncoder):
    """Contrastive predictive coding on windows of consecutive patches (2021, Fig. 1)."""

    name: str = "CPC"
    stage: str = "cpc"

    def model(self):
        """``rngs -> CPC``."""
        return lambda r: CPC(rngs=r)

    def _make_fit(self, lt):
        p = lt.protocol
        fit, apply = make_cpc_fit(self.model(), p.config(self.stage), objective=p.cpc_objective)
        return (lambda k, fold, x, y, pre=None: fit(k, fold, x)), apply

    def _pretrain_data(self, ws, train_w, val_w, widths):
        return ws, fold(train_w, val_w, widths)

    def _objective(self, protocol) -> str:
        return protocol.cpc_objective


@dataclass(frozen=True)
class DaeEncoder(Encoder):
    """Coutinho & Schuller's LSTM-DAE as the 2020 paper reproduces it (section III-B).

    Attributes:
        name: ``"DAE-Classifier"`` or ``"DAE-Sparsity"``.
        window: seconds of 1 Hz ComParE frames per window.
        hidden: DAE blocks.
    """

    name: str
    window: int
    hidden: int

    def label(self, mode: str) -> str:
        """The variant's name (2020's Table II has one row per DAE variant)."""
        return self.name

    def classifier(self, protocol):
        """The DAE classifier's build function: frozen DAE, new LSTM block, softmax."""
        hidden, cells = self.hidden, protocol.dae_lstm
        return lambda r: PackedDAEClassifier(260, hidden, cells, rngs=r)

    def _speech(self, lt) -> dict[str, np.ndarray]:
        if lt.frames is None:
            raise ValueError(
                f"{self.name} needs 1 Hz ComParE frames: pass frames=frame_sets(data, corpora)"
            )
        memo = ("dae_speech", self.name)
        if memo not in lt._memo:
            sp = lt.frames["speech"]
            lt._memo[memo] = {k: frame_windows(sp[k], self.window) for k in sp}
        return lt._memo[memo]

    def music(self, lt, lang: str) -> MusicPatches:
        """A music set's clips as packed windows of 1 Hz frames (step 1 s)."""
        memo = ("dae_music", self.name, lang)
        if memo not in lt._memo:
            lt._memo[memo] = music_windows(lt.music[lang], lt.frames["music"][lang], self.window)
        return lt._memo[memo]

    def pretrain(self, lt, language: str, amount: str):
        """The DAE pretrained on a speech pool: ``(job, mean, std)`` (cached).

        Windows of the encoder's length, features standardised with the pool's training
        statistics (``mean``, ``std``: ``(260,)``), the sigmoid of the clean input reconstructed
        from the input with Gaussian noise (``dae_noise``), MSE, Adam; the best epoch kept.
        """
        memo = ("pretrain", self.name, language, amount)
        if memo in lt._memo:
            return lt._memo[memo]
        p = lt.protocol
        w = draw_pool(self._speech(lt), language, p.amounts[amount], seed=lt.seed,
                      window_s=float(self.window), mix=lt.mix)  # fmt: skip
        part = stratified_split(np.zeros(len(w)), (1 - p.pretrain_val, p.pretrain_val),
                                seed=lt.seed)  # fmt: skip
        train_w, val_w = np.flatnonzero(part == 0), np.flatnonzero(part == 1)
        flat = w[train_w].reshape(-1, w.shape[-1]).astype(np.float64)
        mean, std = flat.mean(axis=0), flat.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        ws = ((w - mean) / std).astype(np.float32)
        n_max = max(lt._windows(a, self.window) for a in p.amounts)  # one shape for all amounts
        ws = np.concatenate([ws, np.zeros((n_max - len(ws), *ws.shape[1:]), ws.dtype)])
        f = fold(train_w, val_w, split_sizes(n_max, p.pretrain_val))
        spec = {
            "kind": "gomez_canon_dae",
            "variant": self.name,
            "hidden": self.hidden,
            "language": language,
            "seconds": p.amounts[amount],
            "data": sha256_arrays(("windows",), (w,)),
            "cfg": dataclasses.asdict(p.config("dae_pretrain")),
            "seed": lt.seed,
        }
        x = jnp.asarray(ws)
        hidden = self.hidden
        fit = lt._fit(  # one program for every pool and amount (run_job compiles once per fit)
            ("dae_pretrain", self.name),
            lambda: (make_fit(lambda r: LSTMDAE(260, hidden, rngs=r), p.config("dae_pretrain"))[0],
                     None),
        )[0]  # fmt: skip
        job = run_job(
            fit,
            key=job_key(spec),
            seed=lt.seed,
            trials=1,
            folds=jax.tree.map(lambda a: np.asarray(a)[None], f),
            x=x,
            m=jnp.ones(x.shape[:2], bool),
            y=jax.nn.sigmoid(x),
            cache=lt.cache,
        )
        lt.pretraining[(self.name, language, amount)] = {
            "windows": len(w),
            "seconds": float(len(w) * self.window),
            "epochs": int(job.epochs[0]),
            "best_val_loss": float(job.best_val[0]),
        }
        lt._memo[memo] = (job, mean, std)
        return lt._memo[memo]

    def preset(self, lt, job) -> tuple[dict, dict]:
        """The pretrained DAE as the classifier's frozen encoder (no batch statistics)."""
        return {"encoder": jax.tree.map(lambda a: np.asarray(a)[0], job.params["encoder"])}, {}

    def inputs(self, lt, lang: str, mean, std) -> tuple[np.ndarray, MusicPatches]:
        """Packed music windows with features standardised by the pool's statistics."""
        m = self.music(lt, lang)
        valid = m.x[..., -1:]
        feats = np.where(valid > 0, (m.x[..., :-1] - mean) / std, 0.0)
        return np.concatenate([feats, valid], axis=-1).astype(np.float32), m

    def _fit_classifier(self, lt):
        p = lt.protocol
        return lt._fit(
            ("dae", self.name),
            lambda: make_classifier_fit(self.classifier(p), p.config("dae")),
        )

    def _quadrant_probabilities(self, lt, job, run: int, x) -> np.ndarray:
        """Quadrant softmax ``(n, 4)`` of run ``run`` of a classifier job on windows ``x``."""
        memo = ("predict", "dae", self.name)
        if memo not in lt._memo:
            apply = self._fit_classifier(lt)[1]
            lt._memo[memo] = jax.jit(lambda s, x: apply(s, x))
        state = classifier_state(self.classifier(lt.protocol), job, run)
        return np.asarray(jax.nn.softmax(lt._chunked(lt._memo[memo], x, state), axis=-1))

    def transfer(self, lt, setting: str, amount: str) -> pd.DataFrame:
        """The DAE classifier (frozen pretrained DAE, new LSTM block, softmax) on one music set."""
        p = lt.protocol
        speech_lang, _, lang = setting.partition("2")
        dae, mean, std = self.pretrain(lt, speech_lang, amount)
        xs, m = self.inputs(lt, lang, mean, std)
        f = lt._music_fold(lang, {k: self.music(lt, k) for k in lt.music})
        spec = {"kind": "gc_dae", "variant": self.name, "pretrained": dae.key,
                "music": music_fingerprint(m), "split": [s.tolist() for s in lt.splits[lang]],
                "runs": p.runs, "dae_lstm": p.dae_lstm,
                "cfg": dataclasses.asdict(p.config("dae")), "seed": lt.seed}  # fmt: skip
        presets = [self.preset(lt, dae)] * p.runs
        job = lt._job(self._fit_classifier(lt)[0], spec, xs, m, f, presets)
        lt.jobs[(self.name, "feat_ext", setting, amount)] = job
        test = m.rows(lt.splits[lang][2])
        probs = [{"quadrant": self._quadrant_probabilities(lt, job, k, xs[test])}
                 for k in range(p.runs)]  # fmt: skip
        kw = {"encoder": self.name, "setting": setting, "amount": amount,
              "normalisation": "source"}  # fmt: skip
        return pd.DataFrame(lt._rows(probs, lang, mode="feat_ext", music=m, **kw))

    def probabilities(self, lt, mode: str, setting: str, amount: str, run: int, job):
        """A window of 1 Hz frames ``i .. i + W - 1`` sits midway between their centres."""
        speech_lang, _, lang = setting.partition("2")
        _, mean, std = self.pretrain(lt, speech_lang, amount)
        x, m = self.inputs(lt, lang, mean, std)
        rows = m.rows(lt.splits[lang][2])
        prob = self._quadrant_probabilities(lt, job, run, x[rows])
        times = rank_in_clip(m.clip)[rows] + (self.window + 1) / 2  # 1 s steps
        return m, rows, times, prob


#: Every encoder of the protocol by name (``Protocol.encoders`` picks among them).
ENCODER_TYPES: dict[str, Encoder] = {
    "SCAE": ScaeEncoder(),
    "CPC": CpcEncoder(),
    **{name: DaeEncoder(name, window, hidden) for name, (window, hidden) in DAE_VARIANTS.items()},
}
