"""Evaluate forecasts in original units: metrics, the persistence baseline, tables and plots.

Every function takes forecasts already turned back into the target's original units, shaped
`(windows, horizon)` like the targets they are compared with.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lstm_app.data import SplitData


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error over every window and step."""
    return float(np.mean(np.abs(actual - predicted)))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error over every window and step."""
    return float(np.sqrt(np.mean(np.square(actual - predicted))))


def forecast_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict:
    """`{"mae", "rmse", "windows"}` of forecasts `(windows, horizon)` against their targets."""
    return {
        "mae": mae(actual, predicted),
        "rmse": rmse(actual, predicted),
        "windows": int(actual.shape[0]),
    }


def persistence_forecast(split: SplitData) -> np.ndarray:
    """The naive forecast: each window's last observed target value, for every horizon step.

    Returns:
        `(windows, horizon)` in original units: row `i` repeats `raw_target[i + input_width - 1]`.
    """
    last = split.raw_target[split.input_width - 1 : split.input_width - 1 + split.n_windows]
    return np.repeat(last[:, None], split.horizon, axis=1)


def metrics_report(splits: dict[str, SplitData], forecasts: dict[str, np.ndarray]) -> dict:
    """The content of `metrics.json`: the model on each split, and the baseline on test.

    Args:
        splits: `{"train": SplitData, "val": ..., "test": ...}`.
        forecasts: the model's forecasts per split, `(windows, horizon)`, original units.

    Returns:
        `{"test": {"mae", "rmse", "windows"}, "val": .., "train": ..,
          "baselines": {"persistence": {"mae", "rmse", "windows"}}}`; the baselines are
        measured on exactly the test windows of the model.
    """
    report = {
        name: forecast_metrics(splits[name].raw_target_windows(), forecasts[name])
        for name in ("test", "val", "train")
    }
    test = splits["test"]
    report["baselines"] = {
        "persistence": forecast_metrics(test.raw_target_windows(), persistence_forecast(test))
    }
    return report


def forecast_table(split: SplitData, forecast: np.ndarray) -> pd.DataFrame:
    """One row per window and horizon step: `time, step, actual, predicted, persistence`."""
    n, horizon = forecast.shape
    return pd.DataFrame(
        {
            "time": split.target_times().ravel(),
            "step": np.tile(np.arange(1, horizon + 1), n),
            "actual": split.raw_target_windows().ravel(),
            "predicted": forecast.ravel(),
            "persistence": persistence_forecast(split).ravel(),
        }
    )


def plot_loss(history: dict[str, list[float]], path) -> None:
    """Train and validation loss per epoch (log scale), written as a PNG to `path`."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    for key, label in (("loss", "train"), ("val_loss", "validation")):
        if key in history:
            epochs = np.arange(1, len(history[key]) + 1)
            ax.plot(epochs, history[key], label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (scaled units)")
    ax.set_title("Loss per epoch")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(path, format="png", dpi=100)


def plot_forecast(split: SplitData, forecast: np.ndarray, target_name: str, path) -> None:
    """The test split's actual values against the one-step-ahead forecast and persistence.

    For a horizon above 1 the first step of each window's forecast is drawn.
    """
    times = split.target_times()[:, 0]
    persistence = persistence_forecast(split)
    model_mae = mae(split.raw_target_windows(), forecast)
    naive_mae = mae(split.raw_target_windows(), persistence)
    fig = Figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(split.times, split.raw_target, color="black", lw=1.5, label="actual")
    ax.plot(times, forecast[:, 0], marker=".", label=f"model (MAE {model_mae:.4g})")
    ax.plot(times, persistence[:, 0], ls="--", lw=1, label=f"persistence (MAE {naive_mae:.4g})")
    ax.set_title(f"{target_name}: {split.name} split, forecast one step ahead")
    ax.set_ylabel(target_name)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(path, format="png", dpi=100)
