"""Compare finished runs: read them, and plot their forecasts side by side.

    runs = [load_run(path) for path in run_dirs]     # with the kind each run.json records
    plot_comparison(runs, "comparison.png")

Their tables are each kind's job's (`lstm_app.jobs.compare.comparison_table`).

Only runs whose `run.json` says `done` are read; anything else is refused by name.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lstm_app.config.kinds import PANEL_KINDS
from lstm_app.evaluation.report import BASELINE_LABELS
from lstm_app.runs.rundir import RunDir


@dataclass(frozen=True)
class Run:
    """A finished run, as its directory records it.

    Attributes:
        path: the run directory.
        config: its resolved config (plain values).
        metrics: its `metrics.json`.
        forecasts: its `forecasts.csv`: time, step, actual, predicted and the baselines
            (None for a panel, whose series are scored in `series_metrics.csv`, and for a
            classification, whose sequences are in `predictions.csv`).
    """

    path: Path
    config: dict
    metrics: dict
    forecasts: pd.DataFrame | None
    kind: str = "series"  # lstm_app.config.kinds.RUN_KINDS, as run.json records it

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_panel(self) -> bool:
        return self.kind in PANEL_KINDS

    @property
    def is_classification(self) -> bool:
        return self.kind == "classification"


def load_run(path) -> Run:
    """Reads a finished run directory; UserInputError if it is not one."""
    run = RunDir.finished(path)
    kind = run.read_kind()
    forecasts = run.read_forecasts() if kind == "series" else None
    return Run(run.path, run.read_config(), run.read_metrics(), forecasts, kind)


def plot_comparison(runs: list[Run], path) -> None:
    """Every single-series run's first-step test forecasts over its actual values, one panel
    per target; panel runs, one bar per run: their mean MASE beside seasonal naive's."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        if run.is_classification:
            key = "classifiers (test accuracy)"
        elif run.is_panel:
            key = "panels (mean MASE over the series)"
        else:
            key = run.config["data"]["target"]
        groups.setdefault(key, []).append(run)
    fig = Figure(figsize=(10, 4 * len(groups)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(groups), 1))
    for ax, (target, members) in zip(axes, groups.items(), strict=True):
        if members[0].is_panel:
            _plot_panels(ax, members)
            continue
        if members[0].is_classification:
            _plot_classifiers(ax, members)
            continue
        first = members[0].forecasts
        first = first[first["step"] == 1]
        ax.plot(first["time"], first["actual"], color="black", lw=1.5, label="actual")
        for run in members:
            steps = run.forecasts[run.forecasts["step"] == 1]
            ax.plot(
                steps["time"],
                steps["predicted"],
                lw=1,
                label=f"{run.name} (MAE {run.metrics['test']['mae']:.4g})",
            )
        ax.set_title(f"{target}: test forecasts, one step ahead")
        ax.set_ylabel(target)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.savefig(path, format="png", dpi=100)


def _plot_panels(ax, runs: list[Run]) -> None:
    """Bars: each panel run's mean MASE over its series, beside seasonal naive's on them."""
    x = np.arange(len(runs))
    model = [run.metrics["panel"]["model"]["mase"]["mean"] or np.nan for run in runs]
    naive = [run.metrics["panel"]["seasonal_naive"]["mase"]["mean"] or np.nan for run in runs]
    ax.bar(x - 0.2, model, width=0.4, label="model")
    ax.bar(x + 0.2, naive, width=0.4, label="seasonal naive", color="gray")
    ax.axhline(1.0, color="black", lw=0.8, ls=":")
    ax.set_xticks(x, [run.name for run in runs], fontsize=8)
    ax.set_title("Panels: mean MASE over the series (test blocks)")
    ax.set_ylabel("MASE")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)


def _plot_classifiers(ax, runs: list[Run]) -> None:
    """Bars: each classification run's test accuracy beside its baselines'."""
    x = np.arange(len(runs))
    labels = {"model": "model", **BASELINE_LABELS}
    width = 0.8 / len(labels)
    for i, (name, label) in enumerate(labels.items()):
        values = [
            (
                run.metrics["test"] if name == "model" else run.metrics["baselines"].get(name, {})
            ).get("accuracy", np.nan)
            for run in runs
        ]
        ax.bar(x + (i - 1.5) * width, values, width=width, label=label)
    ax.set_xticks(x, [run.name for run in runs], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title("Classifiers: test accuracy beside the baselines on the same split")
    ax.set_ylabel("accuracy")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
