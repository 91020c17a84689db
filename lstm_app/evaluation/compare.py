"""Compare finished runs: their test metrics and baselines side by side, and their forecasts.

    runs = [load_run(path) for path in run_dirs]
    print(comparison_table(runs))       # markdown: one row per run
    plot_comparison(runs, "comparison.png")

Only runs whose `run.json` says `done` are read; anything else is refused by name.
"""

import json
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from lstm_app.errors import UserInputError
from lstm_app.runs.rundir import require_finished


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


def _read(path: Path, what: str, parse):
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"{path}: missing; {what} is written when a run finishes") from None
    except (ValueError, yaml.YAMLError) as err:
        raise UserInputError(f"{path}: cannot be read ({type(err).__name__})") from None


def load_run(path) -> Run:
    """Reads a finished run directory; UserInputError if it is not one."""
    path = require_finished(path)
    config = _read(path / "config.yaml", "config.yaml", yaml.safe_load)
    metrics = _read(path / "metrics.json", "metrics.json", json.loads)
    forecasts = _read(
        path / "forecasts.csv", "forecasts.csv", lambda text: pd.read_csv(StringIO(text))
    )
    if not pd.api.types.is_numeric_dtype(forecasts["time"]):  # dates, else step numbers
        forecasts["time"] = pd.to_datetime(forecasts["time"])
    return Run(path, config, metrics, forecasts)


def _number(value) -> str:
    return "-" if value is None else f"{value:.4g}"


def comparison_table(runs: list[Run]) -> str:
    """A markdown table: per run, the data, the model's test MAE, RMSE, MASE and sMAPE, and the
    MAE and MASE of the persistence and seasonal naive baselines on the same windows."""
    header = (
        "| run | target | horizon | test windows | MAE | RMSE | MASE | sMAPE % | "
        "persistence MAE | persistence MASE | seasonal naive MAE (m) | seasonal naive MASE |"
    )
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    for run in runs:
        test, baselines = run.metrics["test"], run.metrics["baselines"]
        naive, seasonal = baselines["persistence"], baselines["seasonal_naive"]
        season = run.metrics.get("data", {}).get("season_length", 1)
        lines.append(
            f"| {run.name} | {run.config['data']['target']} | "
            f"{run.config['data']['window']['horizon']} | {test['windows']} | "
            f"{_number(test['mae'])} | {_number(test['rmse'])} | {_number(test['mase'])} | "
            f"{_number(test['smape'])} | {_number(naive['mae'])} | {_number(naive['mase'])} | "
            f"{_number(seasonal['mae'])} ({season}) | {_number(seasonal['mase'])} |"
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
