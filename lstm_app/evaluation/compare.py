"""Compare finished runs: their test metrics and baselines side by side, and their forecasts.

    runs = [load_run(path) for path in run_dirs]
    print(comparison_table(runs))       # markdown: one row per run
    plot_comparison(runs, "comparison.png")

Only runs whose `run.json` says `done` are read; anything else is refused by name.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lstm_app.evaluation.report import number_text
from lstm_app.runs.rundir import RunDir


@dataclass(frozen=True)
class Run:
    """A finished run, as its directory records it.

    Attributes:
        path: the run directory.
        config: its resolved config (plain values).
        metrics: its `metrics.json`.
        forecasts: its `forecasts.csv`: time, step, actual, predicted and the baselines.
    """

    path: Path
    config: dict
    metrics: dict
    forecasts: pd.DataFrame

    @property
    def name(self) -> str:
        return self.path.name


def load_run(path) -> Run:
    """Reads a finished run directory; UserInputError if it is not one."""
    run = RunDir.finished(path)
    return Run(run.path, run.read_config(), run.read_metrics(), run.read_forecasts())


def comparison_table(runs: list[Run]) -> str:
    """A markdown table: per run, the data, the model's test MAE, RMSE, MASE and sMAPE, and the
    MAE and MASE of the persistence and seasonal naive baselines on the same windows."""
    header = (
        "| run | target | horizon | test windows | MAE | RMSE | MASE | sMAPE % | "
        "persistence MAE | persistence MASE | seasonal naive MAE (m) | seasonal naive MASE |"
    )
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    n = number_text
    for run in runs:
        test, baselines = run.metrics["test"], run.metrics["baselines"]
        naive, seasonal = baselines["persistence"], baselines["seasonal_naive"]
        season = run.metrics.get("data", {}).get("season_length", 1)
        lines.append(
            f"| {run.name} | {run.config['data']['target']} | "
            f"{run.config['data']['window']['horizon']} | {test['windows']} | "
            f"{n(test['mae'])} | {n(test['rmse'])} | {n(test['mase'])} | {n(test['smape'])} | "
            f"{n(naive['mae'])} | {n(naive['mase'])} | {n(seasonal['mae'])} ({season}) | "
            f"{n(seasonal['mase'])} |"
        )
    return "\n".join(lines)


def plot_comparison(runs: list[Run], path) -> None:
    """Every run's first-step test forecasts over its actual values, one panel per target."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.config["data"]["target"], []).append(run)
    fig = Figure(figsize=(10, 4 * len(groups)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(groups), 1))
    for ax, (target, members) in zip(axes, groups.items(), strict=True):
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
