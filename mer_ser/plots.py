"""Figures of the notebooks. Each function returns a matplotlib Figure; :func:`save` writes it.

Figures are written atomically as PNG without a timestamp in their metadata, so the same data
and library versions give the same bytes.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mer_ser._io import atomic_write

DOMAIN_STYLE = {
    "music": {"color": "#1f77b4", "marker": "o", "label": "music"},
    "speech": {"color": "#d62728", "marker": "s", "label": "speech"},
}


def save(fig, path: str | os.PathLike, *, dpi: int = 120) -> None:
    """Save a figure as PNG atomically (no timestamp metadata) and close it."""
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)


def _av_axes(ax, title: str) -> None:
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set(xlim=(-1, 1), ylim=(-1, 1), xlabel="valence", ylabel="arousal", title=title)
    ax.set_aspect("equal")
    for q, (x, y) in {
        "Q1": (0.9, 0.9),
        "Q2": (-0.9, 0.9),
        "Q3": (-0.9, -0.9),
        "Q4": (0.9, -0.9),
    }.items():
        ax.text(x, y, q, ha="center", va="center", color="0.5", fontsize=9)


def av_distribution(points: pd.DataFrame):
    """Arousal-valence distribution of labelled data, music vs speech.

    Panel (a) is the analogue of Coutinho & Schuller 2017, Fig 6: time-continuous gold standards
    at 1 Hz, dots for music and squares for speech. Panel (b) shows static clip labels.

    Args:
        points: output of :func:`mer_ser.corpora.summary.av_points`.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    for ax, kind, title in (
        (axes[0], "continuous", "(a) time-continuous labels, 1 Hz"),
        (axes[1], "static", "(b) static clip labels"),
    ):
        sub = points[points["kind"] == kind]
        for dom, st in DOMAIN_STYLE.items():
            d = sub[sub["domain"] == dom]
            if len(d):
                ax.scatter(
                    d["valence"],
                    d["arousal"],
                    s=8,
                    alpha=0.35,
                    c=st["color"],
                    marker=st["marker"],
                    label=f"{dom} (n={len(d)})",
                    linewidths=0,
                )
        _av_axes(ax, title)
        if len(sub):
            ax.legend(loc="lower center", fontsize=8, markerscale=2)
    fig.tight_layout()
    return fig


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project standardised rows onto their first two principal components.

    Returns:
        ``(scores, explained)``: shape ``(n, 2)`` and the two explained-variance ratios.
    """
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    _u, s, vt = np.linalg.svd(z, full_matrices=False)
    # Fix the sign of each component so the projection is deterministic.
    signs = np.sign(vt[np.arange(2), np.argmax(np.abs(vt[:2]), axis=1)])
    scores = z @ (vt[:2].T * signs)
    return scores, (s[:2] ** 2) / (s**2).sum()


def feature_space(x: np.ndarray, domain: np.ndarray, arousal: np.ndarray):
    """The 1 Hz feature space in two principal components, by domain and by arousal.

    Args:
        x: features, shape ``(frames, d)`` pooled over both domains.
        domain: ``"speech"``/``"music"`` per frame.
        arousal: gold arousal per frame (NaN where unlabelled).
    """
    scores, ev = pca_2d(x)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), sharex=True, sharey=True)
    for dom, st in DOMAIN_STYLE.items():
        m = domain == dom
        axes[0].scatter(
            scores[m, 0],
            scores[m, 1],
            s=5,
            alpha=0.3,
            c=st["color"],
            label=f"{dom} ({m.sum()} frames)",
            linewidths=0,
        )
    axes[0].legend(markerscale=3, fontsize=8)
    axes[0].set_title("(a) ComParE 1 Hz features by domain")
    lab = ~np.isnan(arousal)
    sc = axes[1].scatter(
        scores[lab, 0],
        scores[lab, 1],
        s=5,
        c=arousal[lab],
        cmap="coolwarm",
        vmin=-1,
        vmax=1,
        alpha=0.6,
        linewidths=0,
    )
    fig.colorbar(sc, ax=axes[1], label="gold arousal")
    axes[1].set_title("(b) labelled frames by arousal")
    for ax in axes:
        ax.set(xlabel=f"PC1 ({ev[0]:.0%})", ylabel=f"PC2 ({ev[1]:.0%})")
    fig.tight_layout()
    return fig


CUE_LABELS = {
    "loudness_db": "loudness (dB)",
    "event_rate": "event rate (1/s)\nspeech: syllables, music: onsets",
    "brightness_hz": "brightness (centroid, Hz)",
}


def cue_correlations(table: pd.DataFrame, *, target: str = "arousal"):
    """Each shared cue against arousal, per domain, with Pearson's r.

    Args:
        table: one row per window with ``domain``, the cue columns of
            :func:`mer_ser.features.cue_table` and ``target``.
        target: the label column on the x axis.
    """
    cues = list(CUE_LABELS)
    doms = [d for d in DOMAIN_STYLE if (table["domain"] == d).any()]
    fig, axes = plt.subplots(
        len(cues), len(doms), figsize=(4.2 * len(doms), 3.2 * len(cues)), squeeze=False
    )
    for j, dom in enumerate(doms):
        d = table[table["domain"] == dom]
        for i, cue in enumerate(cues):
            ax = axes[i, j]
            ok = d[[target, cue]].dropna()
            ax.scatter(
                ok[target], ok[cue], s=8, alpha=0.4, c=DOMAIN_STYLE[dom]["color"], linewidths=0
            )
            if len(ok) > 2:
                r = np.corrcoef(ok[target], ok[cue])[0, 1]
                slope, icpt = np.polyfit(ok[target], ok[cue], 1)
                xs = np.array([-1.0, 1.0])
                ax.plot(xs, slope * xs + icpt, color="k", lw=1)
                ax.set_title(f"{dom}: r = {r:.2f} (n = {len(ok)})", fontsize=10)
            ax.set_xlim(-1, 1)
            if i == len(cues) - 1:
                ax.set_xlabel(f"gold {target}")
            if j == 0:
                ax.set_ylabel(CUE_LABELS[cue], fontsize=9)
    fig.tight_layout()
    return fig


def correlation_table(table: pd.DataFrame, *, target: str = "arousal") -> pd.DataFrame:
    """Pearson's r of each cue with ``target`` per domain, as in :func:`cue_correlations`."""
    rows = []
    for dom, d in table.groupby("domain", sort=True):
        for cue in CUE_LABELS:
            ok = d[[target, cue]].dropna()
            r = np.corrcoef(ok[target], ok[cue])[0, 1] if len(ok) > 2 else np.nan
            rows.append({"domain": dom, "cue": cue, "target": target, "r": r, "n": len(ok)})
    return pd.DataFrame(rows)


def markdown_table(df: pd.DataFrame, *, floatfmt: str = ".3f") -> str:
    """A GitHub-flavoured Markdown table of a DataFrame (index included when named)."""
    d = df.reset_index() if df.index.name or isinstance(df.index, pd.MultiIndex) else df

    def cell(v):
        if isinstance(v, float | np.floating):
            if np.isnan(v):
                return ""
            return str(int(v)) if float(v).is_integer() else format(float(v), floatfmt)
        return str(v)

    lines = [
        "| " + " | ".join(map(str, d.columns)) + " |",
        "|" + "|".join("---" for _ in d.columns) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in d.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def save_table(df: pd.DataFrame, path: str | os.PathLike, *, floatfmt: str = ".3f") -> None:
    """Write a table as ``<path>.csv`` and ``<path>.md`` atomically (``path`` without suffix)."""
    from mer_ser._io import write_text

    base = os.fspath(path)
    base = base[:-4] if base.endswith((".csv", ".md")) else base
    d = df.reset_index() if df.index.name or isinstance(df.index, pd.MultiIndex) else df
    with atomic_write(base + ".csv", "w") as f:
        d.to_csv(f, index=False, float_format="%.6g", lineterminator="\n")
    write_text(base + ".md", markdown_table(df, floatfmt=floatfmt))


def quadrants(points: pd.DataFrame) -> np.ndarray:
    """Quadrant (Q1..Q4) of each row with ``arousal`` and ``valence`` columns."""
    from mer_ser.corpora.labels import quadrant_from_av

    return quadrant_from_av(points["arousal"].to_numpy(), points["valence"].to_numpy())
