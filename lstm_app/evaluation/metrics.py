"""Evaluate forecasts in original units: metrics, naive baselines, tables and plots.

Every forecast here is in the target's original units, shaped `(windows, horizon)` like the
targets it is compared with. The baselines forecast exactly the windows the model forecasts,
from what is known at each window's origin (its last input row):

    persistence      the last observed value, for every step: y_t
    seasonal_naive   the value one season before each step: y_{t+k-m*ceil(k/m)}, m = season_length
    mean             the mean of the train split's target

Metrics, overall and per horizon step: MAE, RMSE, MAPE (%, over non-zero actual values only),
sMAPE (%, 200 |y - f| / (|y| + |f|), 0 where both are 0), and MASE (MAE divided by the MAE of
the seasonal naive forecast within the train split, Hyndman & Koehler 2006). A metric that
cannot be computed (MAPE of an all-zero series, MASE of a constant one) is None.
"""

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lstm_app.data.prepare import PreparedData, SplitData, infer_frequency, time_text

BASELINES = ("persistence", "seasonal_naive", "mean")


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(actual - predicted)))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean(np.square(actual - predicted))))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    """Mean absolute percentage error, over the non-zero actual values; None if there are none."""
    nonzero = actual != 0
    if not nonzero.any():
        return None
    return float(100 * np.mean(np.abs((actual - predicted)[nonzero] / actual[nonzero])))


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE in percent: mean of 200 |y - f| / (|y| + |f|), 0 where both are 0."""
    denominator = np.abs(actual) + np.abs(predicted)
    terms = np.divide(
        200 * np.abs(actual - predicted),
        denominator,
        out=np.zeros_like(denominator, dtype=np.float64),
        where=denominator > 0,
    )
    return float(np.mean(terms))


def seasonal_scale(train_target: np.ndarray, season_length: int) -> float | None:
    """MASE's denominator: the in-sample MAE of the seasonal naive forecast on the train split,
    mean |y_t - y_{t-m}|; None if the split is too short or constant."""
    if len(train_target) <= season_length:
        return None
    scale = float(np.mean(np.abs(train_target[season_length:] - train_target[:-season_length])))
    return scale if scale > 0 else None


def _metrics(actual: np.ndarray, predicted: np.ndarray, scale: float | None) -> dict:
    error = mae(actual, predicted)
    return {
        "mae": error,
        "rmse": rmse(actual, predicted),
        "mape": mape(actual, predicted),
        "smape": smape(actual, predicted),
        "mase": error / scale if scale else None,
    }


def forecast_metrics(actual: np.ndarray, predicted: np.ndarray, scale: float | None) -> dict:
    """Metrics of forecasts `(windows, horizon)` against their targets, over all steps and per
    step: `{"mae", "rmse", "mape", "smape", "mase", "windows", "per_step": [{"step": 1, ...}]}`.

    Args:
        scale: MASE's denominator (see `seasonal_scale`).
    """
    overall = _metrics(actual, predicted, scale)
    per_step = [
        {"step": k + 1, **_metrics(actual[:, k], predicted[:, k], scale)}
        for k in range(actual.shape[1])
    ]
    return {**overall, "windows": int(actual.shape[0]), "per_step": per_step}


# --------------------------------------------------------------------------------------------
# baselines


def persistence_forecast(history: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """The last observed value at each origin, for every step.

    Args:
        history: `(time,)` the whole series in original units.
        origins: `(windows,)` each window's last input row.

    Returns:
        `(windows, horizon)`: row i repeats `history[origins[i]]`.
    """
    return np.repeat(history[origins][:, None], horizon, axis=1)


def seasonal_naive_forecast(
    history: np.ndarray, origins: np.ndarray, horizon: int, season_length: int
) -> np.ndarray:
    """For step k after origin t, the value one season earlier that is already observed:
    `history[t + k - m * ceil(k / m)]`. With m = 1 it is persistence.

    Returns:
        `(windows, horizon)`.
    """
    steps = np.arange(1, horizon + 1)
    back = season_length * np.ceil(steps / season_length).astype(int)  # m, m, .., 2m, ..
    return history[origins[:, None] + steps[None, :] - back[None, :]]


def baseline_forecasts(data: PreparedData, split: SplitData) -> dict[str, np.ndarray]:
    """Every baseline's forecasts of `split`'s windows, `(windows, horizon)` each."""
    history, origins, horizon = data.series.target, split.origins(), split.horizon
    train_mean = float(np.mean(data.splits["train"].raw_target))
    return {
        "persistence": persistence_forecast(history, origins, horizon),
        "seasonal_naive": seasonal_naive_forecast(history, origins, horizon, data.season_length),
        "mean": np.full((len(origins), horizon), train_mean),
    }


def metrics_report(data: PreparedData, forecasts: dict[str, np.ndarray]) -> dict:
    """The content of `metrics.json`.

    Args:
        data: the prepared data.
        forecasts: the model's forecasts per split (all three, or only `test`),
            `(windows, horizon)`, original units.

    Returns:
        `{"test": metrics, "val": .., "train": .., "baselines": {name: metrics on the test
        windows}, "data": {...}}`, each metrics as `forecast_metrics` gives them.
    """
    scale = seasonal_scale(data.splits["train"].raw_target, data.season_length)
    report = {}
    for name, forecast in forecasts.items():
        split = data.splits[name]
        scored = split.scored()
        report[name] = forecast_metrics(split.raw_target_windows()[scored], forecast[scored], scale)
    test = data.splits["test"]
    scored = test.scored()
    report["baselines"] = {
        name: forecast_metrics(test.raw_target_windows()[scored], forecast[scored], scale)
        for name, forecast in baseline_forecasts(data, test).items()
    }
    report["data"] = {
        "rows": {name: len(split.raw_target) for name, split in data.splits.items()},
        "unscored_windows": {name: int((~data.splits[name].scored()).sum()) for name in forecasts},
        "season_length": data.season_length,
        "frequency": infer_frequency(data.series.times),
        "mase_scale": scale,
        "transforms": list(data.pipeline.names),
        "inputs": list(data.feature_names),
        **data.series.cleaning,
    }
    return report


def forecast_table(data: PreparedData, split: SplitData, forecast: np.ndarray) -> pd.DataFrame:
    """One row per window and step: `time, step, actual, scored, predicted` and each baseline;
    `scored` is False for windows whose targets were filled in (not in the metrics)."""
    n, horizon = forecast.shape
    columns = {
        "time": split.target_times().ravel(),
        "step": np.tile(np.arange(1, horizon + 1), n),
        "actual": split.raw_target_windows().ravel(),
        "scored": np.repeat(split.scored(), horizon),
        "predicted": forecast.ravel(),
    }
    for name, values in baseline_forecasts(data, split).items():
        columns[name] = values.ravel()
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------------------------
# plots


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


def plot_forecast(data: PreparedData, forecast: np.ndarray, path, split_name="test") -> None:
    """The split's actual values against the model's and the baselines' first-step forecasts;
    for a horizon above 1, a second panel shows a few windows' whole forecasts."""
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
    ax.plot(times, forecast[:, 0], marker=".", label=f"model (MAE {model_mae:.4g})")
    styles = {"persistence": "--", "seasonal_naive": ":", "mean": "-."}
    for name, values in baselines.items():
        label = f"{name.replace('_', ' ')} (MAE {mae(actual, values[scored]):.4g})"
        ax.plot(times, values[:, 0], ls=styles[name], lw=1, label=label)
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


def finite_or_none(value):
    """JSON-safe: None for NaN or infinite floats, recursively through dicts and lists."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_or_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
