"""The README and docs/ say what the code does: figures, links, counts and numbers checked."""

from __future__ import annotations

import ast
import fnmatch
import re
import subprocess

import nbformat
import pandas as pd
import pytest

from mer_ser._io import repo_root
from mer_ser.corpora.synthetic.config import PROFILES
from mer_ser.figures import notebooks
from mer_ser.models import (
    ADCRNN,
    CPC,
    DCNN,
    LSTMDAE,
    SCAE,
    ContinuousRegressor,
    LatentClassifier,
    PackedDAEClassifier,
    SCAEClassifier,
    count_params,
)

ROOT = repo_root()
README = (ROOT / "README.md").read_text()

#: Every figure and table the notebooks write (the README's figure table names each one).
FIGURES = (
    "av_distribution.png",
    "datasets.csv",
    "datasets.md",
    "feature_space.png",
    "cue_correlations.png",
    "cue_correlations.csv",
    "corpus_realism.md",
    "dae_reconstruction.png",
    "dae_reconstruction.csv",
    "intra_domain.csv",
    "intra_domain_tests.csv",
    "cross_domain.csv",
    "trajectories_music.png",
    "trajectories_speech.png",
    "continuous_results.csv",
    "table6.md",
    "table6.csv",
    "table6.png",
    "ttests.csv",
    "shared_code_sweep.csv",
    "shared_code_sweep.png",
    "rodningen2022_results.csv",
    "rodningen2022_tests.csv",
    "gomezcanon2021_results.csv",
    "gomezcanon2021_tests.csv",
    "gomezcanon2021_vs_paper.md",
    "rodningen2022_vs_paper.md",
    "coutinho2017_vs_paper.md",
    "learning_curves.png",
    "learning_curves.csv",
    "learning_curves_rodningen2022.png",
    "learning_curves_rodningen2022.csv",
    "learning_curves_gomezcanon2021.png",
    "learning_curves_gomezcanon2021.csv",
    "table5_1.md",
    "quadrant_av.md",
    "confusion_rodningen2022_SER2MER.png",
    "table2.md",
    "table2.csv",
    "table2_exp1.md",
    *(f"confusion_gomezcanon2021_{s}.png" for s in ("eng2eng", "man2eng", "mix2eng")),
    *(f"confusion_gomezcanon2021_{s}.png" for s in ("man2man", "eng2man", "mix2man")),
    "explore_music.png",
    "explore_quadrant.png",
    "explore_file.png",
    "explore_file.csv",
    "performance.csv",
    "performance.png",
    "performance_targets.md",
    "experiment_summary.md",
    "experiment_summary.csv",
    "experiment_results.csv",
    "experiment_figure.png",
)


def _string_patterns(path) -> set[str]:
    """The string literals of a notebook's code cells; f-string fields become ``*`` wildcards."""
    out = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                out.add(
                    "".join(v.value if isinstance(v, ast.Constant) else "*" for v in node.values)
                )
    return {p for p in out if len(p.replace("*", "")) >= 4}


def _writers(figure: str) -> set[str]:
    """The notebooks whose code names ``figure`` (with or without its extension)."""
    stem = figure.rsplit(".", 1)[0]
    return {
        path.name
        for path in notebooks()
        if any(
            fnmatch.fnmatch(figure, p) or fnmatch.fnmatch(stem, p) for p in _string_patterns(path)
        )
    }


def _readme_figure_rows() -> dict[str, str]:
    """File name -> notebook, from the README's figure table (``figures/x.md``, ``.csv`` cells)."""
    rows = {}
    for line in README.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`figures/"):
            continue
        notebook = re.fullmatch(r"`(\d\d_\w+\.ipynb)`", cells[2])
        assert notebook, f"README figure row without a notebook: {line}"
        stem = None
        for item in re.findall(r"`([^`]+)`", cells[0]):
            if item.startswith("figures/"):
                name = item.removeprefix("figures/")
                stem = name.rsplit(".", 1)[0]
            elif item.startswith("."):
                name = f"{stem}{item}"
            else:
                continue
            rows[name] = notebook.group(1)
    return rows


@pytest.mark.parametrize("figure", FIGURES)
def test_the_readme_names_each_figure_with_the_notebook_that_writes_it(figure):
    writers = _writers(figure)
    assert len(writers) == 1, f"{figure}: named in the code of {sorted(writers) or 'no notebook'}"
    rows = _readme_figure_rows()
    listed = {
        nb for name, nb in rows.items() if fnmatch.fnmatch(figure, name.replace("<setting>", "*"))
    }
    assert listed == writers, f"README lists {figure} under {listed or 'no notebook'}"


def test_every_figure_in_the_readme_table_exists_in_figures():
    for name in _readme_figure_rows():
        pattern = name.replace("<setting>", "*")
        assert list((ROOT / "figures").glob(pattern)), f"README names figures/{name}: not there"


def _markdown_files():
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: p.name)
def test_every_relative_link_and_named_path_resolves(path):
    text = path.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if target.startswith(("http://", "https://")):
            continue
        assert (path.parent / target).exists(), f"{path.name}: broken link {target}"
    for name in re.findall(
        r"`((?:docs|tests|notebooks|benchmarks)/[\w./-]+\.(?:md|py|ipynb|json))`", text
    ):
        assert (ROOT / name).exists(), f"{path.name}: names {name}, which does not exist"


def _tracked(*suffixes) -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [f for f in out.stdout.split() if f.endswith(suffixes)]


def test_every_repository_path_a_file_names_exists():
    """Docstrings, comments, pages and notebooks name only files that are there."""
    pattern = re.compile(
        r"(?<![\w./-])((?:docs|tests|notebooks|benchmarks|figures|mer_ser)/[\w./-]*\w"
        r"\.(?:md|py|ipynb|json|png|csv|js|css))"
    )
    missing = [
        f"{name}: {m.group(1)}"
        for name in _tracked(".py", ".md", ".ipynb", ".toml", "Makefile")
        if name != "tests/test_docs.py"
        for m in pattern.finditer((ROOT / name).read_text())
        if not (ROOT / m.group(1)).exists()
    ]
    assert not missing, missing


def test_the_readme_is_a_guide_of_at_most_250_lines():
    assert len(README.splitlines()) <= 250


def test_no_tracked_file_tells_development_history_or_points_outside_the_repository():
    files = _tracked("")
    pattern = re.compile(r"\bsessions? \d+|\bissues? \d+\b|\.\./shared", re.IGNORECASE)
    offenders = []
    for name in files:
        if name.endswith(("lock.txt", ".png", ".parquet")):
            continue
        try:
            text = (ROOT / name).read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        offenders += [f"{name}: {m.group(0)}" for m in pattern.finditer(text)]
    offenders = [o for o in offenders if not o.startswith("tests/test_docs.py")]
    assert not offenders, offenders


def _table(path, header_start: str) -> list[list[str]]:
    """The body rows of the Markdown table whose header row starts with ``header_start``."""
    lines = path.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(header_start))
    rows = []
    for ln in lines[start + 2 :]:
        if not ln.startswith("|"):
            break
        rows.append([c.strip() for c in ln.strip().strip("|").split("|")])
    return rows


def _count(build) -> int:
    return count_params(build)


#: The architecture page's model -> the builds whose parameter counts its last column states.
MODEL_BUILDS = {
    "`models.LSTMDAE`": [lambda r: LSTMDAE(260, 200, rngs=r)],
    "`models.ContinuousRegressor`": [lambda r: ContinuousRegressor(260, (200, 10), rngs=r)],
    "`models.DCNN`": [lambda r: DCNN(rngs=r)],
    "`models.ADCRNN`": [lambda r: ADCRNN(rngs=r)],
    "`models.SCAE`": [lambda r: SCAE(rngs=r)],
    "`models.SCAEClassifier`": [
        lambda r: SCAEClassifier(rngs=r),
        lambda r: SCAEClassifier(block=256, rngs=r),
    ],
    "`models.CPC`": [lambda r: CPC(rngs=r)],
    "`models.LatentClassifier`": [lambda r: LatentClassifier(block=256, rngs=r)],
    "`models.DAEClassifier`": [lambda r: PackedDAEClassifier(260, 100, 100, rngs=r)],
}


def test_the_model_table_states_each_models_exact_parameter_count():
    rows = {r[0]: r[2] for r in _table(ROOT / "docs" / "architecture.md", "| model |")}
    for model, builds in MODEL_BUILDS.items():
        stated = [int(n.replace(",", "")) for n in re.findall(r"\d{1,3}(?:,\d{3})+", rows[model])]
        assert stated == [_count(b) for b in builds], model


def test_the_builtin_corpus_profile_table_is_the_generator_config():
    rows = _table(ROOT / "docs" / "builtin-corpus.md", "| profile | speech_continuous")
    header = ROOT.joinpath("docs", "builtin-corpus.md").read_text()
    names = [
        c.strip()
        for c in next(ln for ln in header.splitlines() if ln.startswith("| profile | speech"))
        .strip("|")
        .split("|")[1:]
    ]
    assert len(rows) == len(PROFILES)
    for row in rows:
        profile = PROFILES[re.match(r"`(\w+)`", row[0]).group(1)]
        parts = {p.name: p for p in profile.parts}
        for name, cell in zip(names, row[1:], strict=True):
            n, lo, hi = re.fullmatch(r"(\d+) × (\d+)(?:–(\d+))?", cell).groups()
            part = parts[name]
            assert (int(n), float(lo), float(hi or lo)) == (part.n_clips, *part.duration), cell


def test_the_time_quoted_for_make_figures_is_the_measured_one():
    quoted = re.search(r"make figures .*?\(~(\d+) min on 2 cores\)", README)
    targets = pd.read_csv(ROOT / "figures" / "performance_targets.csv")
    measured = targets[targets["target"].str.startswith("make figures")]["measured"].iloc[0]
    minutes = float(re.match(r"([\d.]+) min", measured).group(1))
    assert quoted and abs(int(quoted.group(1)) - minutes) <= 0.15 * minutes, (quoted, measured)


def test_the_shared_code_sweep_figure_shows_the_controls_the_docs_describe():
    """docs/tracks.md: at shared_code 0 music stays learnable (M2M); neither direction transfers."""
    sweep = pd.read_csv(ROOT / "figures" / "shared_code_sweep.csv")
    arousal = sweep[(sweep["metric"] == "ccc") & (sweep["dimension"] == "arousal")]
    ccc = arousal.groupby(["condition", "shared_code"])["value"].mean()
    transfers = max(abs(ccc[("S2M", 0.0)]), abs(ccc[("M2S", 0.0)]))
    assert transfers < 0.1, ccc
    assert ccc[("M2M", 0.0)] > transfers + 0.1, ccc
    for cond in ("S2M", "M2S"):
        assert ccc[(cond, 1.0)] > ccc[(cond, 0.0)] + 0.2, ccc
