"""Metrics of forecasts in original units, and the content of `metrics.json`.

Every forecast here is in the target's original units, shaped `(windows, horizon)` like the
targets it is compared with; the baselines (`lstm_app.evaluation.baselines`) forecast exactly
the windows the model forecasts.

Metrics, overall and per horizon step: MAE, RMSE, MAPE (%, over non-zero actual values only),
sMAPE (%, 200 |y - f| / (|y| + |f|), 0 where both are 0), and MASE (MAE divided by the MAE of
the seasonal naive forecast within the train split, Hyndman & Koehler 2006). A metric that
cannot be computed (MAPE of an all-zero series, MASE of a constant one) is None, and so is
every metric of a baseline left out of the test windows (`baselines.baseline_notes`), whose
entry in `metrics.json` then has a `note` saying why.
"""

import math

import numpy as np
import pandas as pd

from lstm_app.data.prepare import PreparedData, SplitData
from lstm_app.data.steps import infer_frequency
from lstm_app.evaluation.baselines import BASELINES, baseline_forecasts, baseline_notes


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


def missing_metrics(windows: int, horizon: int, note: str) -> dict:
    """The metrics entry of a forecaster left out, shaped as `forecast_metrics`'s: every
    metric None, and `note` saying why."""
    empty = dict.fromkeys(("mae", "rmse", "mape", "smape", "mase"))
    per_step = [{"step": k + 1, **empty} for k in range(horizon)]
    return {**empty, "windows": windows, "per_step": per_step, "note": note}


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


def in_sample(data: PreparedData) -> np.ndarray:
    """The target MASE is scaled by: the train split's (fractions), or, with
    `data.split.test_last`, every row before the test block (what a forecaster of the test
    block has seen, as the textbook protocol scales it)."""
    origin = data.prepared_from and data.prepared_from["data"].split.test_last
    if not origin:
        return data.splits["train"].raw_target
    return data.series.target[: data.splits["test"].origins()[0] + 1]


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
    scale = seasonal_scale(in_sample(data), data.season_length)
    report = {}
    for name, forecast in forecasts.items():
        split = data.splits[name]
        scored = split.scored()
        report[name] = forecast_metrics(split.raw_target_windows()[scored], forecast[scored], scale)
    test = data.splits["test"]
    scored = test.scored()
    baselines = baseline_forecasts(data, test)
    notes = baseline_notes(data, test)
    report["baselines"] = {
        name: (
            forecast_metrics(test.raw_target_windows()[scored], baselines[name][scored], scale)
            if name in baselines
            else missing_metrics(int(scored.sum()), test.horizon, notes[name])
        )
        for name in BASELINES
    }
    choice = data.transform_choice
    report["data"] = {
        "rows": {name: len(split.raw_target) for name, split in data.splits.items()},
        "unscored_windows": {name: int((~data.splits[name].scored()).sum()) for name in forecasts},
        "season_length": data.season_length,
        "frequency": infer_frequency(data.series.times),
        "mase_scale": scale,
        "transforms": list(data.pipeline.names),
        # data.transforms: auto: each candidate's validation MAE (lstm_app.training.choose)
        "transforms_auto": None
        if choice is None
        else {"validation_mae": choice.scores, "left_out": choice.skipped},
        "inputs": list(data.feature_names),
        **data.series.cleaning,
    }
    return report


def forecast_table(data: PreparedData, split: SplitData, forecast: np.ndarray) -> pd.DataFrame:
    """One row per window and step: `time, step, actual, scored, predicted` and each baseline;
    `scored` is False for windows whose targets were filled in (not in the metrics); a baseline
    left out has a column of empty (NaN) cells."""
    n, horizon = forecast.shape
    columns = {
        "time": split.target_times().ravel(),
        "step": np.tile(np.arange(1, horizon + 1), n),
        "actual": split.raw_target_windows().ravel(),
        "scored": np.repeat(split.scored(), horizon),
        "predicted": forecast.ravel(),
    }
    baselines = baseline_forecasts(data, split)
    for name in BASELINES:
        columns[name] = (
            baselines[name].ravel() if name in baselines else np.full(n * horizon, np.nan)
        )
    return pd.DataFrame(columns)


def finite_or_none(value):
    """JSON-safe: None for NaN or infinite floats, recursively through dicts and lists."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_or_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
