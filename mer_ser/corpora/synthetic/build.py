"""Build the built-in corpus: plan every clip from the seed, render audio in worker processes.

Determinism: each clip draws from its own random stream ``SeedSequence([seed, part, clip])``, so
its bytes do not depend on scheduling or on the number of workers. Speech clips are rendered in a
fresh worker process each (``maxtasksperchild=1``, forked from a process that never started
espeak-ng) because
espeak-ng carries state between utterances (see :mod:`.speech`).

Resumption: audio files are written atomically, so any ``.wav`` present is complete; a rebuild
skips them. Label tables are recomputed from the seed (cheap) and ``corpus.json`` is written last.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mer_ser._io import write_json
from mer_ser.corpora import labels as _labels
from mer_ser.corpora.model import Corpus
from mer_ser.corpora.store import read_corpus, write_corpus
from mer_ser.corpora.synthetic import latent as _latent
from mer_ser.corpora.synthetic.config import PROFILES, PartSpec, SyntheticConfig
from mer_ser.corpora.synthetic.cues import shared_driver

_PART_CODES = {
    "speech_continuous": "sc",
    "music_continuous": "mc",
    "speech_pool": "sp",
    "music_pool": "mp",
    "speech_static": "ss",
    "music_static": "ms",
}
_CATEGORY = {"Q1": "happy", "Q2": "angry", "Q3": "sad", "Q4": "calm"}
_SPEAKERS_PER_LANGUAGE = 12


@dataclass(frozen=True)
class ClipPlan:
    """Everything needed to render one clip, derived from the seed alone."""

    part: str
    index: int
    clip_id: str
    domain: str
    kind: str
    language: str
    duration: float
    group: str
    seed: tuple[int, ...]
    shared_code: float
    sr: int
    quadrant: str = ""  # static parts: the target quadrant


def speaker_for(language: str, j: int):
    """The ``j``-th synthetic speaker of a language (deterministic)."""
    from mer_ser.corpora.synthetic.speech import VOICES, Speaker

    voices = VOICES[language]
    return Speaker(
        id=f"{language}_spk{j:02d}",
        language=language,
        voice=voices[j % len(voices)],
        base_pitch=30 + (j * 17) % 35,
        base_range=40 + (j * 11) % 30,
    )


def _allocate(n: int, props: tuple[float, ...], rng: np.random.Generator) -> list[str]:
    """Exactly proportioned quadrant labels (largest remainder), shuffled."""
    raw = np.asarray(props) * n
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    qs = [q for q, c in zip(_labels.QUADRANTS, counts, strict=True) for _ in range(c)]
    return [qs[i] for i in rng.permutation(n)]


def plan_part(spec: PartSpec, cfg: SyntheticConfig) -> list[ClipPlan]:
    """The clips of one part, in order."""
    p = list(_PART_CODES).index(spec.name)
    rng = np.random.default_rng([cfg.seed, p, 999_999])
    durations = rng.uniform(*spec.duration, size=spec.n_clips).round(1)
    quads = _allocate(spec.n_clips, spec.quadrants, rng) if spec.kind == "static" else None
    plans = []
    counters: dict[str, int] = {}
    for i in range(spec.n_clips):
        lang = spec.languages[i % len(spec.languages)]
        k = counters.get(lang, 0)
        counters[lang] = k + 1
        clip_id = f"{_PART_CODES[spec.name]}{i:04d}"
        if spec.domain == "speech":
            j = k if spec.kind == "continuous" else k % _SPEAKERS_PER_LANGUAGE
            group = speaker_for(lang, j).id
        else:
            group = f"song{i // 2:04d}" if spec.kind == "static" else f"piece{i:04d}"
        plans.append(
            ClipPlan(
                part=spec.name, index=i, clip_id=clip_id, domain=spec.domain, kind=spec.kind,
                language=lang, duration=float(durations[i]), group=group,
                seed=(cfg.seed, p, i), shared_code=cfg.shared_code, sr=cfg.sr,
                quadrant=quads[i] if quads else "",
            )
        )  # fmt: skip
    return plans


def latents(plan: ClipPlan) -> dict[str, np.ndarray]:
    """Latent arousal/valence of a clip (and music's independent latents), from its seed.

    Speech covers less of the plane than music (Coutinho & Schuller 2017, Fig 6): clip means
    have arousal and valence positively correlated, so high-arousal/negative and
    low-arousal/positive moments are rare; music means are uniform over the plane.
    """
    rng = np.random.default_rng([*plan.seed, 1])
    if plan.kind == "static":
        qa, qv = {"Q1": (1, 1), "Q2": (1, -1), "Q3": (-1, -1), "Q4": (-1, 1)}[plan.quadrant]
        ma, mv = qa * rng.uniform(0.3, 0.8), qv * rng.uniform(0.3, 0.8)
        sd, tau = 0.08, 5.0
    elif plan.domain == "speech":
        ma = rng.normal(0.0, 0.35)
        mv = float(np.clip(0.6 * ma + rng.normal(0.1, 0.15), -0.8, 0.8))
        sd, tau = 0.35, 8.0
    else:
        ma, mv = rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6)
        sd, tau = 0.4, 12.0
    out = {
        "arousal": _latent.trajectory(rng, plan.duration, mean=ma, sd=sd, tau=tau),
        "valence": _latent.trajectory(rng, plan.duration, mean=mv, sd=sd, tau=tau),
    }
    if plan.domain == "music":
        ua = _latent.trajectory(rng, plan.duration, mean=rng.uniform(-0.6, 0.6), sd=sd, tau=tau)
        uv = _latent.trajectory(rng, plan.duration, mean=rng.uniform(-0.6, 0.6), sd=sd, tau=tau)
        out["arousal_shared"] = shared_driver(out["arousal"], ua, plan.shared_code)
        out["valence_shared"] = shared_driver(out["valence"], uv, plan.shared_code)
    return out


def render(plan: ClipPlan) -> np.ndarray:
    """Render the audio of one clip (mono float32 at ``plan.sr``)."""
    lat = latents(plan)
    rng = np.random.default_rng([*plan.seed, 2])
    if plan.domain == "speech":
        from mer_ser.corpora.synthetic.speech import render_speech

        j = int(plan.group.rsplit("spk", 1)[1])
        return render_speech(
            rng, plan.duration, lat["arousal"], lat["valence"], speaker_for(plan.language, j),
            sr=plan.sr,
        )  # fmt: skip
    from mer_ser.corpora.synthetic.music import TIMBRES, render_music

    timbre = TIMBRES[int(rng.integers(len(TIMBRES)))] if plan.language != "zxx" else (
        TIMBRES[plan.index % len(TIMBRES)]
    )
    return render_music(
        rng, plan.duration, lat["arousal"], lat["valence"], lat["arousal_shared"],
        lat["valence_shared"], timbre=timbre,
        scale="pentatonic" if plan.language == "zh" else "diatonic", sr=plan.sr,
    )  # fmt: skip


def _render_to(args: tuple[ClipPlan, str]) -> str:
    from mer_ser.corpora.audio import write_wav

    plan, path = args
    write_wav(path, render(plan), plan.sr)
    return plan.clip_id


def _labels_for(spec: PartSpec, plans: list[ClipPlan]) -> dict[str, pd.DataFrame | None]:
    gold, ratings, static = [], [], []
    for plan in plans:
        lat = latents(plan)
        rng = np.random.default_rng([*plan.seed, 3])
        if spec.kind == "continuous":
            times = np.arange(0.0, plan.duration + 1e-9, 1.0 / spec.label_rate)
            dims = {}
            for dim in ("arousal", "valence"):
                dims[dim] = _latent.simulate_raters(rng, lat[dim], times, spec.n_raters)
            for r in range(spec.n_raters):
                ratings.append(pd.DataFrame({
                    "clip_id": plan.clip_id, "rater": f"r{r + 1}", "time": times,
                    "arousal": dims["arousal"][:, r], "valence": dims["valence"][:, r],
                }))  # fmt: skip
            gold.append(pd.DataFrame({
                "clip_id": plan.clip_id, "time": times,
                "arousal": dims["arousal"].mean(axis=1), "valence": dims["valence"].mean(axis=1),
            }))  # fmt: skip
        elif spec.kind == "static":
            lo, hi = spec.scale
            mid, half = (lo + hi) / 2, (hi - lo) / 2
            row = {"clip_id": plan.clip_id}
            for dim in ("arousal", "valence"):
                clip_mean = float(lat[dim].mean())
                votes = np.clip(np.round(mid + half * (clip_mean + 0.12 * rng.standard_normal(
                    spec.n_raters))), lo, hi)  # fmt: skip
                row[f"{dim}_raw"] = float(votes.mean())
                row[dim] = float(_labels.normalise_scale(row[f"{dim}_raw"], lo, hi))
            row["quadrant"] = str(_labels.quadrant_from_av(row["arousal"], row["valence"]))
            row["category"] = _CATEGORY[row["quadrant"]]
            static.append(row)
    cols = ["arousal", "valence", "arousal_raw", "valence_raw", "category", "quadrant"]
    return {
        "gold": pd.concat(gold, ignore_index=True) if gold else None,
        "ratings": pd.concat(ratings, ignore_index=True) if ratings else None,
        "static": pd.DataFrame(static).set_index("clip_id")[cols] if static else None,
    }


def _pool(n_jobs: int):
    # Fresh workers with clean espeak-ng state: fork from this process while it has never
    # started espeak-ng (no re-import of __main__, so scripts need no main guard); otherwise
    # fork from a clean forkserver.
    from mer_ser.corpora.synthetic.speech import _Engine

    methods = mp.get_all_start_methods()
    if "fork" in methods and _Engine._instance is None:
        ctx = mp.get_context("fork")
    else:
        ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ctx.Pool(n_jobs, maxtasksperchild=1)


def build_corpus(
    out: str | os.PathLike,
    config: SyntheticConfig | None = None,
    *,
    n_jobs: int | None = None,
    progress: bool = True,
) -> dict[str, Corpus]:
    """Generate (or finish generating) the built-in corpus under ``out``.

    Args:
        out: destination folder; one sub-folder per part, each a corpus in the
            :mod:`~mer_ser.corpora.store` format, plus ``builtin.json`` with the resolved config.
        config: what to build; defaults to ``SyntheticConfig()``.
        n_jobs: worker processes (default: all CPU cores).
        progress: show a progress bar over clips.

    Returns:
        The parts as :class:`~mer_ser.corpora.model.Corpus` objects, by name.

    Raises:
        ValueError: ``out`` holds a corpus built with a different config.
    """
    cfg = config or SyntheticConfig()
    out = Path(out)
    specs = cfg.resolved_parts()
    manifest = out / "builtin.json"
    resolved = {"config": dataclasses.asdict(cfg), "format": 1}
    if manifest.is_file():
        import json

        old = json.loads(manifest.read_text())
        if old.get("config") != json.loads(json.dumps(resolved["config"])):
            raise ValueError(
                f"{manifest}: folder holds a corpus built with {old.get('config')}; "
                f"choose another --out or delete it to build {resolved['config']}"
            )
        return {s.name: read_corpus(out / s.name) for s in specs}
    plans = {s.name: plan_part(s, cfg) for s in specs}
    todo = [
        (p, str(out / s.name / "audio" / f"{p.clip_id}.wav"))
        for s in specs
        for p in plans[s.name]
        if not (out / s.name / "audio" / f"{p.clip_id}.wav").is_file()
    ]
    todo.sort(key=lambda t: -t[0].duration)  # longest first balances the workers
    n_jobs = max(1, min(n_jobs or os.cpu_count() or 1, len(todo) or 1))
    bar = tqdm(total=len(todo), desc=f"corpus {cfg.profile}", unit="clip", disable=not progress,
               file=sys.stderr)  # fmt: skip
    if todo:
        with _pool(n_jobs) as pool:
            for _ in pool.imap_unordered(_render_to, todo):
                bar.update()
    bar.close()
    corpora = {}
    for s in specs:
        clips = pd.DataFrame({
            "clip_id": [p.clip_id for p in plans[s.name]],
            "domain": s.domain,
            "language": [p.language for p in plans[s.name]],
            "audio_path": [f"audio/{p.clip_id}.wav" for p in plans[s.name]],
            "duration": [p.duration for p in plans[s.name]],
            "sr": cfg.sr,
            "group": [p.group for p in plans[s.name]],
            "split": "",
        }).set_index("clip_id")  # fmt: skip
        meta = {
            "description": f"built-in {s.kind} {s.domain}, mirrors {s.mirrors}",
            "label_rate": s.label_rate,
            "scale": list(s.scale),
            "quadrant_table": "quadrant_from_av" if s.kind == "static" else "",
            "generator": {"profile": cfg.profile, "seed": cfg.seed,
                          "shared_code": cfg.shared_code, "part": dataclasses.asdict(s)},
        }  # fmt: skip
        corpus = Corpus(s.name, out / s.name, clips, meta=meta, **_labels_for(s, plans[s.name]))
        write_corpus(corpus)
        corpora[s.name] = corpus
    write_json(manifest, resolved)
    return corpora


def profile_table() -> pd.DataFrame:
    """Clip counts and hours of each part in each profile (for the README and notebook 00)."""
    rows = []
    for prof in PROFILES.values():
        for s in prof.parts:
            rows.append({
                "profile": prof.name, "part": s.name, "mirrors": s.mirrors, "clips": s.n_clips,
                "clip_seconds": "-".join(f"{d:g}" for d in sorted(set(s.duration))),
                "hours": s.n_clips * sum(s.duration) / 2 / 3600,
            })  # fmt: skip
    return pd.DataFrame(rows)
