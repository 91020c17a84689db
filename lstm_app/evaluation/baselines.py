"""Baselines: what the model must beat, forecasting exactly the model's windows from what is
known at each window's origin (its last input row), in the target's original units:

    persistence      the last observed value, for every step: y_t
    seasonal_naive   the value one season before each step: y_{t+k-m*ceil(k/m)}, m = season_length
    mean             the mean of the train split's target
    ets              AutoETS (statsforecast), fitted on the rows up to the split's first origin
    theta            AutoTheta (statsforecast), the same way (`lstm_app.models.statistical`)

A run forecasts with the baselines its config names (`evaluation.baselines`, stamped on the
data as `PreparedData.baselines`); the others are left out with the note `not run`. The
forecasts of a split are computed once per prepared series and kept (`PreparedData.memo`):
reports, tables and plots ask for them several times.

`BASELINES` registers each one (its label in reports, its line style in plots, its forecast
function, and what rules it out); the metrics, the reports, the plots and the backtest read it,
so a new baseline is one entry here.

A baseline that could only forecast a split by reading rows it has not seen (the seasonal naive
forecast, when a season before a window's origin falls before the series' first row) is left
out: `baseline_forecasts` omits it, `baseline_notes` says why, and its metrics are None.
"""

from dataclasses import dataclass

import numpy as np

from lstm_app.config.choices import BASELINE_NAMES, check_catalogue
from lstm_app.data.prepare import PreparedData, SplitData
from lstm_app.models.statistical import STATISTICAL, statistical_forecast
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


def seasonal_naive_note(origins: np.ndarray, season_length: int) -> str | None:
    """Why the seasonal naive forecast cannot forecast windows with these `origins` (rows of
    the whole series), or None if it can: step k reads row `t + k - m * ceil(k / m)`, at
    least `t + 1 - m`, which must not fall before row 0 (a negative index would read the end
    of the series: the future)."""
    if len(origins) == 0 or int(origins.min()) + 1 - season_length >= 0:
        return None
    first = int(origins.min())
    return (
        f"left out: data.season_length {season_length} reaches back before the "
        f"series' first row from the first forecast origin (row {first}, which has {first + 1} "
        f"rows of history); it needs a data.season_length of at most {first + 1}"
    )


def train_mean_forecast(data: PreparedData, split: SplitData) -> np.ndarray:
    """The mean of the train split's target, for every window and step `(windows, horizon)`."""
    train_mean = float(np.mean(data.splits["train"].raw_target))
    return np.full((split.n_windows, split.horizon), train_mean)


@dataclass(frozen=True)
class Baseline:
    """A baseline forecaster: `forecast(data, split) -> (windows, horizon)` in original units,
    or `(None, note)` when it cannot forecast this series (a statistical model that fails to
    fit); its `label` in reports and its `style` (matplotlib line style) in plots;
    `unavailable(data, split) -> str | None` says why it cannot forecast `split` honestly
    (None: it can), before anything is computed."""

    label: str
    style: str
    forecast: object
    unavailable: object = None


def _statistical(name: str):
    def forecast(data: PreparedData, split: SplitData):
        return statistical_forecast(
            name, data.series.target, split.origins(), split.horizon, data.season_length
        )

    return forecast


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
        lambda data, split: seasonal_naive_note(split.origins(), data.season_length),
    ),
)
BASELINES.add("mean", Baseline("train mean", "-.", train_mean_forecast))
BASELINES.add("ets", Baseline(STATISTICAL["ets"][1], (0, (5, 1)), _statistical("ets")))
BASELINES.add("theta", Baseline(STATISTICAL["theta"][1], (0, (3, 1, 1, 1)), _statistical("theta")))
check_catalogue("lstm_app.evaluation.baselines.BASELINES", BASELINE_NAMES, BASELINES.names())

NOT_RUN = "not run (evaluation.baselines leaves it out)"


def _results(
    data: PreparedData, split: SplitData, name: str, chosen_only: bool = True
) -> tuple[np.ndarray | None, str]:
    """`(forecasts, None)` or `(None, note)` of baseline `name` on `split`, computed once per
    prepared series (kept in `data.memo`); `chosen_only`: None and `NOT_RUN` for a baseline
    the run does not compare with (`data.baselines`)."""
    chosen = data.baselines if data.baselines is not None else BASELINE_NAMES
    if chosen_only and name not in chosen:
        return None, NOT_RUN
    key = ("baseline", name, split.name, split.first_row, split.n_windows)
    if key not in data.memo:
        baseline = BASELINES[name]
        note = baseline.unavailable(data, split) if baseline.unavailable else None
        result = (None, note) if note else baseline.forecast(data, split)
        data.memo[key] = result if isinstance(result, tuple) else (result, None)
    return data.memo[key]


def baseline_notes(data: PreparedData, split: SplitData, names=None) -> dict[str, str]:
    """`{name: why}` for each baseline (of `names`, default all) left out of `split`: not run
    (`evaluation.baselines`), unable to forecast it honestly, or failed to fit."""
    notes = {}
    for name in BASELINES.names() if names is None else names:
        note = _results(data, split, name)[1]
        if note:
            notes[name] = note
    return notes


def baseline_forecasts(data: PreparedData, split: SplitData, names=None) -> dict[str, np.ndarray]:
    """The forecasts of `split`'s windows by every baseline (of `names`, default all) not left
    out (`baseline_notes`), `(windows, horizon)` each, in `BASELINES` order."""
    forecasts = {}
    for name in BASELINES.names():
        if names is None or name in names:
            values = _results(data, split, name)[0]
            if values is not None:
                forecasts[name] = values
    return forecasts


def forecasts_of(data: PreparedData, split: SplitData, names) -> dict[str, np.ndarray]:
    """The forecasts of `split` by the baselines `names`, whether or not the run compares
    with them (`model.combine` needs its statistical forecasts); those that cannot forecast
    this series are missing."""
    found = {name: _results(data, split, name, chosen_only=False)[0] for name in names}
    return {name: values for name, values in found.items() if values is not None}
