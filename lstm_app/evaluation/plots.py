"""Plots of a run, written as PNG files: the loss per epoch, and the test forecasts against the
actual values and the baselines.

Every forecast here is in the target's original units, shaped `(windows, horizon)`.
"""

import numpy as np
from matplotlib.figure import Figure

from lstm_app.data.prepare import PreparedData, SplitData
from lstm_app.data.times import time_text
from lstm_app.evaluation.baselines import BASELINES, baseline_forecasts
from lstm_app.evaluation.metrics import mae


def plot_loss(history: dict[str, list[float]], path) -> None:
    """Train and validation loss per epoch, written as a PNG to `path`: on a log scale, or a
    linear one where a loss reaches 0 (a constant series), which a log scale cannot show."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    positive = True
    for key, label in (("loss", "train"), ("val_loss", "validation")):
        if key in history:
            epochs = np.arange(1, len(history[key]) + 1)
            ax.plot(epochs, history[key], label=label)
            values = np.asarray(history[key], dtype=np.float64)
            positive = positive and bool(np.all(values[np.isfinite(values)] > 0))
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (scaled units)")
    ax.set_title("Loss per epoch")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(path, format="png", dpi=100)


def plot_forecast(
    data: PreparedData, forecast: np.ndarray, path, split_name="test", bands=None
) -> None:
    """The split's actual values against the model's and the baselines' first-step forecasts;
    for a horizon above 1, a second panel shows a few windows' whole forecasts. `bands`
    `{level: (lower, upper)}`, each `(scored windows, horizon)`: the model's intervals, shaded
    around its first-step forecasts (a fan chart), widest first."""
    split = data.splits[split_name]
    scored = split.scored()
    actual = split.raw_target_windows()[scored]
    baselines = baseline_forecasts(data, split)
    horizon = split.horizon
    shown = _spread(split.n_windows, 4) if horizon > 1 else []
    layout = [["all"] * max(len(shown), 1)] + ([[f"w{i}" for i in shown]] if shown else [])
    fig = Figure(figsize=(10, 4.5 if not shown else 8), layout="constrained")
    axes = fig.subplot_mosaic(layout, height_ratios=[1.3, 1] if shown else None)
    ax = axes["all"]
    times = split.target_times()[:, 0]
    ax.plot(split.times, split.raw_target, color="black", lw=1.5, label="actual")
    model_mae = mae(actual, forecast[scored])
    for k, (level, (lower, upper)) in enumerate(sorted((bands or {}).items(), reverse=True)):
        if not (np.isfinite(lower).all() and np.isfinite(upper).all()):
            continue  # an interval too few validation windows could calibrate: unbounded
        ax.fill_between(
            times[scored],
            lower[:, 0],
            upper[:, 0],
            color="C0",
            alpha=0.15 + 0.15 * k,
            lw=0,
            label=f"model {level:g}% interval",
        )
    ax.plot(times, forecast[:, 0], marker=".", label=f"model (MAE {model_mae:.4g})")
    for name, values in baselines.items():
        label = f"{name.replace('_', ' ')} (MAE {mae(actual, values[scored]):.4g})"
        ax.plot(times, values[:, 0], ls=BASELINES[name].style, lw=1, label=label)
    step = "one step ahead" if horizon == 1 else f"step 1 of {horizon}"
    ax.set_title(f"{data.series.target_name}: {split.name} split, forecasts {step}")
    ax.set_ylabel(data.series.target_name)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    for i in shown:
        _plot_window(axes[f"w{i}"], data, split, forecast, i)
    fig.savefig(path, format="png", dpi=100)


def _spread(n: int, count: int) -> list[int]:
    """Up to `count` indices spread evenly over `range(n)`."""
    return sorted({int(i) for i in np.linspace(0, n - 1, count)})


def _plot_window(ax, data: PreparedData, split: SplitData, forecast: np.ndarray, i: int) -> None:
    """Window `i`: its inputs, its actual future and the model's forecast, against steps from
    its origin (0 is the last input)."""
    width, horizon = split.input_width, split.horizon
    origin = split.origins()[i]
    inputs = data.series.target[origin - width + 1 : origin + 1]
    ax.plot(np.arange(-width + 1, 1), inputs, color="gray", lw=1, label="inputs")
    future = np.arange(1, horizon + 1)
    ax.plot(future, split.raw_target_windows()[i], color="black", marker=".", label="actual")
    ax.plot(future, forecast[i], color="C0", marker="o", ms=3, label="forecast")
    ax.set_title(f"from {time_text(data.series.times[origin])}", fontsize=9)
    ax.set_xlabel("steps from the origin", fontsize=8)
    ax.grid(True, alpha=0.3)
    if i == 0:
        ax.legend(fontsize=7)
