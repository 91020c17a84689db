"""Naive baselines: what the model must beat, forecasting exactly the model's windows from what
is known at each window's origin (its last input row), in the target's original units:

    persistence      the last observed value, for every step: y_t
    seasonal_naive   the value one season before each step: y_{t+k-m*ceil(k/m)}, m = season_length
    mean             the mean of the train split's target

`BASELINES` registers each one (its label in reports, its line style in plots, its forecast
function); the metrics, the reports, the plots and the backtest read it, so a new baseline is
one entry here.
"""

from dataclasses import dataclass

import numpy as np

from lstm_app.data.prepare import PreparedData, SplitData
from lstm_app.registry import Registry


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


def train_mean_forecast(data: PreparedData, split: SplitData) -> np.ndarray:
    """The mean of the train split's target, for every window and step `(windows, horizon)`."""
    train_mean = float(np.mean(data.splits["train"].raw_target))
    return np.full((split.n_windows, split.horizon), train_mean)


@dataclass(frozen=True)
class Baseline:
    """A naive forecaster: `forecast(data, split) -> (windows, horizon)` in original units,
    its `label` in reports and its `style` (matplotlib line style) in plots."""

    label: str
    style: str
    forecast: object


BASELINES = Registry("baseline")
BASELINES.add(
    "persistence",
    Baseline(
        "persistence",
        "--",
        lambda data, split: persistence_forecast(
            data.series.target, split.origins(), split.horizon
        ),
    ),
)
BASELINES.add(
    "seasonal_naive",
    Baseline(
        "seasonal naive",
        ":",
        lambda data, split: seasonal_naive_forecast(
            data.series.target, split.origins(), split.horizon, data.season_length
        ),
    ),
)
BASELINES.add("mean", Baseline("train mean", "-.", train_mean_forecast))


def baseline_forecasts(data: PreparedData, split: SplitData) -> dict[str, np.ndarray]:
    """Every baseline's forecasts of `split`'s windows, `(windows, horizon)` each."""
    return {name: baseline.forecast(data, split) for name, baseline in BASELINES.items()}
