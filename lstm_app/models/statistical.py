"""The statistical forecasters: AutoETS and AutoTheta (statsforecast, the field's standard),
forecasting exactly the network's windows from what is known at each window's origin; the
baselines of every run (`lstm_app.evaluation.baselines`) and the partners of `model.combine`.

    forecasts, note = statistical_forecast("ets", history, origins, horizon, season_length)
    combined = combine(network, [ets, theta])     the median, element by element

Each model is fitted once, on every row up to the split's first origin (what a forecaster of
the split has seen), then applied with its parameters fixed to the rows up to each later origin
(statsforecast's `forward`: the states are filtered again, nothing is refitted), as the LSTM,
trained once, is applied at each origin. `forward` reads at most `FORWARD_ROWS` rows back from
each origin, so a test split of thousands of origins on a long series costs seconds, not hours.

statsforecast is imported when a forecast is asked for, not when this module is.
"""

import warnings

import numpy as np

STATISTICAL = {  # name: (statsforecast model class, its label)
    "ets": ("AutoETS", "ETS"),
    "theta": ("AutoTheta", "Theta"),
}
FORWARD_ROWS = 1000  # history re-filtered at each later origin (the first uses the whole fit)
MIN_ROWS = 3  # fewer rows before an origin: left out (statsforecast needs a few to fit)


def statistical_model(name: str, season_length: int):
    """A new, unfitted statsforecast model (`STATISTICAL[name]`) for seasons of
    `season_length` steps (1: none; statsforecast fits no seasonal model above 24)."""
    import statsforecast.models as models

    cls = getattr(models, STATISTICAL[name][0])
    return cls(season_length=max(1, int(season_length)))


def statistical_forecast(
    name: str, history: np.ndarray, origins: np.ndarray, horizon: int, season_length: int
) -> tuple[np.ndarray | None, str | None]:
    """The forecasts of model `name` from each origin, and None; or None and why not.

    Args:
        history: `(time,)` the whole series in original units (finite).
        origins: `(windows,)` each window's last input row, ascending.
        horizon: steps forecast from each origin.

    Returns:
        `((windows, horizon), None)`, or `(None, note)` when the series before the first
        origin is too short or the model fails to fit it.
    """
    origins = np.asarray(origins, dtype=np.int64)
    if len(origins) == 0:
        return np.zeros((0, horizon)), None
    first = int(origins[0])
    if first + 1 < MIN_ROWS:
        return None, f"left out: {first + 1} row(s) before the first origin; it needs {MIN_ROWS}"
    history = np.asarray(history, dtype=np.float64)
    model = statistical_model(name, season_length)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            model.fit(history[: first + 1])
            rows = [model.predict(h=horizon)["mean"]]
            for origin in origins[1:]:
                start = max(0, int(origin) + 1 - FORWARD_ROWS)
                rows.append(model.forward(y=history[start : int(origin) + 1], h=horizon)["mean"])
    except Exception as error:  # statsforecast's own errors on degenerate series
        return None, f"left out: {STATISTICAL[name][1]} failed to fit ({error})"
    forecasts = np.asarray(rows, dtype=np.float64)
    if not np.isfinite(forecasts).all():
        return None, f"left out: {STATISTICAL[name][1]} forecast non-finite values"
    return forecasts, None


def combine(network: np.ndarray, statistical: list[np.ndarray]) -> np.ndarray:
    """The median of the forecasts `(windows, horizon)` of the network and of each statistical
    model, element by element (`model.combine`)."""
    return np.median(np.stack([network, *statistical]), axis=0)
