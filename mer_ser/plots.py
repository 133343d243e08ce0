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
import seaborn as sns

from mer_ser._io import atomic_write, write_text
from mer_ser.corpora.labels import quadrant_from_av

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
    """Each shared cue against arousal, per domain, with Pearson's r and a fitted line.

    The line is the least-squares fit with a 95 % bootstrap band over windows (seaborn's
    ``regplot``, seeded, so the figure is the same on every run).

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
            if len(ok) > 2:
                # least-squares line with a 95 % bootstrap band over windows (seeded)
                sns.regplot(
                    data=ok, x=target, y=cue, ax=ax, ci=95, n_boot=1000, seed=0, truncate=False,
                    scatter_kws={"s": 8, "alpha": 0.4, "color": DOMAIN_STYLE[dom]["color"],
                                 "linewidths": 0},
                    line_kws={"color": "k", "lw": 1},
                )  # fmt: skip
                r = np.corrcoef(ok[target], ok[cue])[0, 1]
                ax.set_title(f"{dom}: r = {r:.2f} (n = {len(ok)})", fontsize=10)
            else:
                ax.scatter(ok[target], ok[cue], s=8, c=DOMAIN_STYLE[dom]["color"])
            ax.set_xlim(-1, 1)
            ax.set_xlabel(f"gold {target}" if i == len(cues) - 1 else "")
            ax.set_ylabel(CUE_LABELS[cue] if j == 0 else "", fontsize=9)
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


def save_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a tidy table as CSV, atomically: no index, 6 significant digits, Unix line ends."""
    with atomic_write(path, "w") as f:
        df.to_csv(f, index=False, float_format="%.6g", lineterminator="\n")


def save_table(df: pd.DataFrame, path: str | os.PathLike, *, floatfmt: str = ".3f") -> None:
    """Write a table as ``<path>.csv`` and ``<path>.md`` atomically (``path`` without suffix)."""
    base = os.fspath(path)
    base = base[:-4] if base.endswith((".csv", ".md")) else base
    d = df.reset_index() if df.index.name or isinstance(df.index, pd.MultiIndex) else df
    save_csv(d, base + ".csv")
    write_text(base + ".md", markdown_table(df, floatfmt=floatfmt))


def quadrants(points: pd.DataFrame) -> np.ndarray:
    """Quadrant (Q1..Q4) of each row with ``arousal`` and ``valence`` columns."""
    return quadrant_from_av(points["arousal"].to_numpy(), points["valence"].to_numpy())


def dae_reconstruction(table: pd.DataFrame, curves: pd.DataFrame):
    """DAE pretraining (Coutinho & Schuller 2017, Table 5 as curves).

    Panel (a): validation reconstruction RMSE per epoch, mean over trials, one line per
    (H, sigma). Panels (b) and (c): final held-out RMSE and r against sigma, one line per H.

    Args:
        table: :meth:`~mer_ser.experiments.ContinuousTrack.pretrain_table`.
        curves: :meth:`~mer_ser.experiments.ContinuousTrack.dae_curves`.
    """
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    hs = sorted(table["hidden"].unique())
    colours = plt.cm.viridis(np.linspace(0, 0.85, len(hs)))
    sigmas = sorted(table["sigma"].unique())
    styles = ["-", "--", ":", "-.", (0, (5, 1)), (0, (1, 3))]
    for h, col in zip(hs, colours, strict=True):
        for s, ls in zip(sigmas, styles * len(sigmas), strict=False):
            c = curves[(curves["hidden"] == h) & np.isclose(curves["sigma"], s)]
            mean = c.groupby("epoch")["val_mse"].mean()
            axes[0].plot(
                mean.index,
                np.sqrt(mean.to_numpy()),
                color=col,
                ls=ls,
                lw=1.2,
                label=f"H={h}, σ={s:g}",
            )
        t = table[table["hidden"] == h].sort_values("sigma")
        axes[1].plot(t["sigma"], t["rmse"], "o-", color=col, label=f"H={h}")
        axes[2].plot(t["sigma"], t["r"], "o-", color=col, label=f"H={h}")
    axes[0].set(xlabel="epoch", ylabel="validation RMSE", title="(a) reconstruction curves")
    axes[0].legend(fontsize=7, ncol=2)
    axes[1].set(xlabel="input noise σ", ylabel="held-out RMSE", title="(b) RMSE (Table 5)")
    axes[2].set(xlabel="input noise σ", ylabel="held-out r", title="(c) r (Table 5)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def trajectories(panels: list[dict], *, dimension: str = "arousal"):
    """Gold standard against model predictions over time (Coutinho & Schuller 2017, Figs 2-5).

    The y-axis spans [-1, 1] and widens to whatever a curve reaches, so no curve is cut off.

    Args:
        panels: one dict per clip: ``title``, ``time`` ``(T,)``, ``gold`` ``(T, 2)`` and
            ``predictions`` (label -> ``(T, 2)``); labels ending in ``(domain)`` are drawn
            dashed in the colour of the same label ending in ``(paper)``.
        dimension: ``"arousal"``, ``"valence"`` or ``"both"`` (two rows).
    """
    dims = ["arousal", "valence"] if dimension == "both" else [dimension]
    colours: dict[str, str] = {}
    cycle = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4)
    fig, axes = plt.subplots(
        len(dims), len(panels), figsize=(5.5 * len(panels), 3.2 * len(dims)), squeeze=False
    )
    for j, p in enumerate(panels):
        for i, dim in enumerate(dims):
            d = ["arousal", "valence"].index(dim)
            ax = axes[i, j]
            ax.plot(p["time"], p["gold"][:, d], color="k", lw=2, label="gold standard")
            lo, hi = -1.0, 1.0
            for label, pred in p["predictions"].items():
                base = label.replace(" (domain)", "").replace(" (paper)", "")
                colour = colours.setdefault(base, next(cycle))
                ls = "--" if label.endswith("(domain)") else "-"
                ax.plot(p["time"], pred[:, d], lw=1.3, ls=ls, color=colour, label=label)
                lo, hi = min(lo, float(np.min(pred[:, d]))), max(hi, float(np.max(pred[:, d])))
            pad = 0.05 * (hi - lo)
            ax.set(xlabel="time (s)", ylabel=dim, ylim=(lo - pad, hi + pad),
                   title=f"{p['title']}: {dim}")  # fmt: skip
            ax.axhline(0, color="0.7", lw=0.6)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def prediction_curve(frames: pd.DataFrame, *, title: str = ""):
    """A model's outputs over a recording, with the spread across its trials or runs.

    Args:
        frames: one file's rows of :func:`mer_ser.bundles.predict` (index ``file, start, end``;
            columns per output and ``<output>_sd``): a continuous model's arousal and valence
            (scale -1..1), or a quadrant model's per-window probabilities (0..1).
        title: the figure's title.
    """
    start = frames.index.get_level_values("start").total_seconds()
    end = frames.index.get_level_values("end").total_seconds()
    t = (np.asarray(start) + np.asarray(end)) / 2
    dims = [c for c in frames.columns if not c.endswith("_sd")]
    probabilities = all(c.startswith(("Q", "p_")) for c in dims)
    fig, ax = plt.subplots(figsize=(8, 3))
    lo, hi = (0.0, 1.0) if probabilities else (-1.0, 1.0)
    colours = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
    for dim, colour in zip(dims, colours, strict=False):
        m = frames[dim].to_numpy()
        sd = frames.get(f"{dim}_sd", pd.Series(0.0, index=frames.index)).to_numpy()
        ax.plot(t, m, color=colour, lw=1.5, label=dim, ls=":" if dim.startswith("p_") else "-")
        ax.fill_between(t, m - sd, m + sd, color=colour, alpha=0.2, lw=0)
        lo, hi = min(lo, float(np.min(m - sd))), max(hi, float(np.max(m + sd)))
    pad = 0.05 * (hi - lo)
    ylabel = "probability" if probabilities else "predicted value"
    ax.set(xlabel="time (s, window centre)", ylabel=ylabel, ylim=(lo - pad, hi + pad),
           title=title)  # fmt: skip
    ax.axhline(0.25 if probabilities else 0.0, color="0.7", lw=0.6)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def prediction_curves(frames: pd.DataFrame, folder: str | os.PathLike) -> list[str]:
    """One :func:`prediction_curve` PNG per file of ``frames`` in ``folder``; their paths."""
    out = []
    for i, (file, rows) in enumerate(frames.groupby(level="file", sort=False)):
        stem = os.path.splitext(os.path.basename(str(file)))[0] or "signal"
        path = os.path.join(folder, f"{i:03d}_{stem}.png")
        save(prediction_curve(rows, title=str(file)), path)
        out.append(path)
    return out


def learning_curves(curves: pd.DataFrame, *, ylabel: str = "loss (1 - CCC)"):
    """Loss per epoch of each condition's final models: has training converged?

    Args:
        curves: :func:`~mer_ser.experiments.curves_frame` or a quadrant track's
            ``learning_curves()`` (``condition, normalisation, epoch, models, train_loss,
            val_loss, stopped_early``).
        ylabel: what the loss is.

    One panel per condition: validation loss (thick) and training loss (thin), mean over the
    models still training; ``paper`` solid, ``domain`` dashed. The title gives the share of
    models early stopping ended before the epoch budget (the rest used all of it).
    """
    conds = list(dict.fromkeys(curves["condition"]))
    cols = min(3, len(conds))
    rows = -(-len(conds) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.2 * rows), squeeze=False)
    for ax, cond in zip(axes.ravel(), conds, strict=False):
        stopped = []
        for norm, g in curves[curves["condition"] == cond].groupby("normalisation", sort=False):
            ls = "--" if norm == "domain" else "-"
            ax.plot(g["epoch"], g["val_loss"], ls=ls, lw=2, color="#d95f02",
                    label=f"validation ({norm})")  # fmt: skip
            ax.plot(g["epoch"], g["train_loss"], ls=ls, lw=1, color="#1b9e77",
                    label=f"training ({norm})")  # fmt: skip
            stopped.append(f"{norm} {g['stopped_early'].iloc[0]:.0%}")
        ax.set(title=f"{cond}: stopped early {', '.join(stopped)}", xlabel="epoch",
               ylabel=ylabel)  # fmt: skip
    for ax in axes.ravel()[len(conds) :]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def condition_bars(agg: pd.DataFrame, *, metric: str = "ccc"):
    """Test performance per condition: all-trial mean, clip-bootstrap 95 % CI, best-k aggregate.

    Bars: the mean over every trial with its 95 % interval from resampling clips; dashes: the
    paper's aggregate (the mean of the ``k`` best trials).

    Args:
        agg: :func:`mer_ser.stats.aggregate_trials` output (``condition, target, dimension,
            metric, clips, trials, k, best_k, all_mean, ci_low, ci_high``) with a ``domain``
            column (target domain).
        metric: which metric to show.
    """
    a = agg[agg["metric"] == metric]
    domains = [d for d in ("music", "speech") if d in set(a["domain"])]
    fig, axes = plt.subplots(1, len(domains), figsize=(6 * len(domains), 4), squeeze=False)
    for ax, dom in zip(axes[0], domains, strict=True):
        d = a[a["domain"] == dom]
        conds = list(dict.fromkeys(d["condition"]))
        x = np.arange(len(conds))
        for k, (dim, col) in enumerate((("arousal", "#d95f02"), ("valence", "#1b9e77"))):
            g = d[d["dimension"] == dim].set_index("condition").loc[conds]
            ci = np.vstack([g["all_mean"] - g["ci_low"], g["ci_high"] - g["all_mean"]])
            ax.bar(
                x + (k - 0.5) * 0.38,
                g["all_mean"],
                0.36,
                yerr=ci,
                color=col,
                alpha=0.75,
                capsize=3,
                label=f"{dim}: all trials, 95 % CI over clips",
            )
            ax.plot(
                x + (k - 0.5) * 0.38,
                g["best_k"],
                "k_",
                ms=14,
                mew=2,
                label=f"best {g['k'].iloc[0]} trials (paper's aggregate)" if k else None,
            )
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xticks(x, conds)
        n = d[["clips", "trials"]].iloc[0]
        ax.set(title=f"target: {dom} ({n['clips']} test clips × {n['trials']} trials)",
               ylabel=metric.upper() if metric != "r" else "r")  # fmt: skip
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def shared_code_sweep(summary: pd.DataFrame):
    """Cross-domain CCC against the built-in corpus' ``shared_code``, beside its ceilings.

    S2M and M2S are solid lines; the intra-domain ceilings M2M (the music target's) and S2S
    (the speech target's) are dashed in the same colours when the summary has them.

    Args:
        summary: :func:`mer_ser.stats.sweep_summary`: one row per ``shared_code, condition,
            dimension`` with the all-trial ``mean`` CCC and its clip interval
            (``ci_low``, ``ci_high``).
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, dim in zip(axes, ("arousal", "valence"), strict=True):
        for cond, col, ls in (("S2M", "#1f77b4", "-"), ("M2S", "#d62728", "-"),
                              ("M2M", "#1f77b4", "--"), ("S2S", "#d62728", "--")):  # fmt: skip
            g = summary[(summary["condition"] == cond) & (summary["dimension"] == dim)]
            if g.empty:
                continue
            g = g.sort_values("shared_code")
            ax.errorbar(
                g["shared_code"],
                g["mean"],
                yerr=np.vstack([g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]]),
                marker="o" if ls == "-" else "s",
                capsize=3,
                color=col,
                ls=ls,
                alpha=1.0 if ls == "-" else 0.6,
                label=cond if ls == "-" else f"{cond} (ceiling)",
            )
        ax.axhline(0, color="0.5", lw=0.8)
        n = summary[["clips", "trials"]].iloc[0]
        ax.set(xlabel="shared_code of the built-in corpus", ylabel="test CCC (95 % CI over clips)",
               title=f"{dim} ({n['clips']} test clips × {n['trials']} trials)")  # fmt: skip
        ax.legend()
    fig.tight_layout()
    return fig


def trajectory_panels(runs: dict, *, rows=(0, 1)) -> list[dict]:
    """Panels for :func:`trajectories` from condition results with the same target set.

    Each model shown is the trial with the best *development* score of its condition (never
    chosen on test data).

    Args:
        runs: label -> :class:`~mer_ser.experiments.ConditionResult` (e.g. ``{"M": M2M, "S2M":
            S2M, "S2M_TL": S2M_TL}``); all must predict the same target instances.
        rows: which target instances to show.
    """
    first = next(iter(runs.values()))
    for label, r in runs.items():
        if r.clip_ids != first.clip_ids:
            raise ValueError(f"{label}: predicts other instances than {first.condition}")
    panels = []
    for i in rows:
        n = int(first.mask[i].sum())
        panels.append(
            {
                "title": first.clip_ids[i],
                "time": np.arange(1, n + 1, dtype=float),  # frame centres (2 s windows, 1 s hop)
                "gold": first.gold[i, :n],
                "predictions": {
                    label: r.predictions[r.best_trial(), i, :n] for label, r in runs.items()
                },
            }
        )
    return panels


def confusion_matrices(panels: dict[str, np.ndarray], *, labels=("Q1", "Q2", "Q3", "Q4")):
    """Row-normalised confusion matrices side by side (Rodningen 2022, Figs. 5.1-5.2 analogs).

    Args:
        panels: title -> count matrix ``(K, K)`` (rows true, columns predicted).
        labels: class names.
    """
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.2), squeeze=False)
    for ax, (title, cm) in zip(axes[0], panels.items(), strict=True):
        cm = np.asarray(cm, dtype=np.float64)
        rows = cm.sum(axis=1, keepdims=True)
        share = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
        ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                ax.text(
                    j,
                    i,
                    f"{share[i, j]:.2f}\n({int(cm[i, j])})",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if share[i, j] > 0.5 else "black",
                )
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def regression_scatter(predictions: pd.DataFrame, *, title: str = ""):
    """Predicted against true clip values, one point per clip and model, with the identity line.

    Args:
        predictions: ``true`` and ``predicted`` columns (e.g. an experiment's predictions).
        title: the panel's title.
    """
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    y, p = predictions["true"].to_numpy(float), predictions["predicted"].to_numpy(float)
    ax.scatter(y, p, s=10, alpha=0.5)
    lo, hi = min(y.min(), p.min(), -1.0), max(y.max(), p.max(), 1.0)
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, ls="--")
    ax.set(xlabel="true", ylabel="predicted", xlim=(lo, hi), ylim=(lo, hi))
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def performance(df: pd.DataFrame, *, machine: str = ""):
    """The performance notebook's figure, four panels.

    (a) speedup of mer_ser over PyTorch per training step, this machine and the recorded GPU
    (there: the DCNN and ADCRNN against PyTorch's fastest settings);
    (b) vmapped regressors: speedup over a sequential PyTorch loop against K; (c) ComParE 1 Hz
    extraction and end-to-end bundle prediction in times real time per core, with the 50x
    target; (d) when each notebook of ``make figures`` ran (two tracks side by side), with the
    20-minute target.

    Args:
        df: :func:`mer_ser.bench.performance.performance_table`.
        machine: the suptitle (the machine the run measured).
    """
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    here = df[df["source"] == "this run"]
    gpu = df[df["part"] == "e"]

    ax = axes[0, 0]
    bars = []
    for frame, tag in ((here[here["part"] == "a"], "this machine"), (gpu, "GPU record")):
        for r in frame[
            frame["measure"].isin(["continuous regressor step", "DCNN step", "ADCRNN step"])
        ].itertuples():
            if pd.notna(r.ratio):
                bars.append((f"{r.measure.split(' step')[0]}\n{tag}", float(r.ratio)))
    if bars:
        labels, vals = zip(*bars, strict=True)
        ax.bar(
            range(len(vals)),
            vals,
            color=["#1f77b4" if "machine" in s else "#2ca02c" for s in labels],
        )
        ax.set_xticks(range(len(vals)), labels, fontsize=8)
        for i, v in enumerate(vals):
            ax.text(i, v, f"{v:.2f}×", ha="center", va="bottom", fontsize=8)
    else:
        ax.text(
            0.5, 0.5, "PyTorch not installed:\nno comparison", ha="center", transform=ax.transAxes
        )
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.axhline(1.25, color="#d62728", ls="--", lw=0.8, label="CPU target 1.25× (regressor)")
    if len(gpu):
        ax.axhline(
            1.5,
            color="#2ca02c",
            ls=":",
            lw=0.8,
            label="GPU target 1.5× (DCNN, ADCRNN: vs PyTorch's fastest)",
        )
    bound = here[here["measure"] == "continuous regressor first-layer products alone"]
    if bars and len(bound) and pd.notna(bound["ratio"].iloc[0]):
        # The regressor's bar comes first: the ratio a step of only its first layer's matrix
        # products would reach (no implementation here can do better).
        b = float(bound["ratio"].iloc[0])
        ax.hlines(b, -0.4, 0.4, color="k", lw=1.5, label="regressor: products alone (bound)")
        ax.text(0.42, b, f"{b:.2f}×", va="center", fontsize=8)
        bars.append(("bound", b))
    top = max([v for _, v in bars] + [1.5])
    ax.set(
        ylabel="speedup over PyTorch (step time ratio)",
        title="(a) training step vs PyTorch",
        ylim=(0, top * 1.6),  # room for the legend above the bars
    )
    ax.legend(fontsize=8, loc="upper left")

    ax = axes[0, 1]
    ratios = True  # False once a line without a PyTorch reference is drawn (no torch installed)
    for frame, tag, col in (
        (here[here["part"] == "b"], "this machine", "#1f77b4"),
        (gpu, "GPU record", "#2ca02c"),
    ):
        v = frame[frame["measure"] == "vmapped regressors"].dropna(subset=["k"]).sort_values("k")
        if len(v) and v["ratio"].notna().all():
            setting = v["setting"].iloc[0].split(", ", 1)[1]
            ax.plot(v["k"], v["ratio"], marker="o", color=col, label=f"{tag} ({setting})")
        elif len(v):
            ratios = False
            ax.plot(
                v["k"],
                v["value"],
                marker="o",
                color=col,
                label=f"{tag}: model-steps/s (no PyTorch)",
            )
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.plot(
        [100], [10], marker="*", ms=12, color="#d62728", ls="", label="GPU target: 10× at K = 100"
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="K vmapped regressors",
        ylabel="model-steps/s over a sequential PyTorch loop"
        if ratios
        else "over a PyTorch loop, or model-steps/s where no PyTorch ran",
        title="(b) vmapped throughput",
    )
    ax.legend(fontsize=8)

    ax = axes[1, 0]
    c = here[here["part"] == "c"]
    bars = c[c["measure"].isin(["ComParE 1 Hz extraction", "bundle prediction"])]
    rerun = c[c["measure"] == "cached rerun"]
    names = {"ComParE 1 Hz extraction": "ComParE 1 Hz", "bundle prediction": "predict (bundle)"}
    for i, r in enumerate(bars.itertuples()):
        ax.bar([i], [r.value], color="#1f77b4", width=0.5)
        ax.text(i, r.value, f"{r.value:.0f}×", ha="center", va="bottom")
    ax.set_xticks(
        range(len(bars)),
        [f"{names[r.measure]}\n{r.setting.split(',')[0]}" for r in bars.itertuples()],
        fontsize=8,
    )
    ax.axhline(50, color="#d62728", ls="--", lw=0.8, label="target 50× per core")
    if len(rerun):
        r = rerun.iloc[0]
        ax.text(
            0.02,
            0.98,
            f"cached rerun: {r['value']:.2f} s\n({r['setting']}; target < 5 s)",
            ha="left",
            va="top",
            transform=ax.transAxes,
            fontsize=8,
        )
    ax.set(
        xlim=(-1, max(1, len(bars))),
        ylim=(0, max([60.0, *bars["value"]]) * 1.3),
        ylabel="× real time per core",
        title="(c) feature extraction and prediction",
    )
    ax.legend(fontsize=8, loc="lower right")

    ax = axes[1, 1]
    nb = here[(here["part"] == "d") & (here["measure"] == "notebook wall time")]
    total = here[(here["part"] == "d") & (here["measure"] == "make figures")]
    if len(nb):
        vals = nb["value"].to_numpy(float) / 60
        left = nb["start_s"].to_numpy(float) / 60
        ax.barh(nb["setting"], vals, left=left, color="#1f77b4")
        for y, (lft, v) in enumerate(zip(left, vals, strict=True)):
            ax.text(lft + v, y, f" {v * 60:.0f} s", va="center", fontsize=8)
        ax.invert_yaxis()
    ax.axvline(20, color="#d62728", ls="--", lw=0.8, label="target: make figures < 20 min")
    ax.set_xlim(
        0, max(22, float((nb["start_s"] + nb["value"]).max()) / 60 * 1.12) if len(nb) else 22
    )
    title = "(d) notebooks of make figures"
    if len(total):
        title += f": {total['value'].iloc[0]:.1f} min ({total['setting'].iloc[0]})"
    ax.set(xlabel="minutes since the start of the run", title=title)
    ax.legend(fontsize=8, loc="upper right")
    fig.suptitle(machine, fontsize=9)
    fig.tight_layout()
    return fig
