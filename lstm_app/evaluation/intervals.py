"""Forecast distributions scored: quantiles and intervals against what happened, and intervals
calibrated on the validation windows (split conformal).

    pinball_loss(actual, quantiles, levels)       (Q,) the mean pinball loss of each quantile
    weighted_quantile_loss(actual, quantiles, levels)   GluonTS's mean_wQuantileLoss
    coverage, mean_width, msis                     an interval against the actual values
    conformal_offset(actual, lower, upper, level)  (horizon,) CQR's widening per step
    residual_quantiles(residuals, levels)          (horizon, Q) a point forecast's quantiles

Every array is in the target's original units: `actual` `(windows, horizon)`, quantiles
`(windows, horizon, Q)` for the levels `levels` `(Q,)`, bounds `(windows, horizon)`.
"""

import math

import numpy as np

from lstm_app.config.schema import interval_quantiles
from lstm_app.data.prepare import PreparedData
from lstm_app.evaluation.baselines import baseline_forecasts
from lstm_app.evaluation.metrics import in_sample, seasonal_scale


def pinball_loss(actual: np.ndarray, quantiles: np.ndarray, levels) -> np.ndarray:
    """`(Q,)` the mean over windows and steps of each quantile's pinball (quantile) loss:
    `max(q * (y - f), (q - 1) * (y - f))`."""
    error = actual[..., None] - quantiles  # (windows, horizon, Q)
    q = np.asarray(levels, dtype=np.float64)
    return np.maximum(q * error, (q - 1) * error).mean(axis=(0, 1))


def weighted_quantile_loss(actual: np.ndarray, quantiles: np.ndarray, levels) -> float:
    """The mean over the levels of `2 * sum(pinball) / sum(|actual|)` (GluonTS's
    `mean_wQuantileLoss`, an estimate of the CRPS scaled by the series' size); NaN when the
    actual values are all 0."""
    scale = np.abs(actual).sum()
    if scale == 0:
        return math.nan
    sums = pinball_loss(actual, quantiles, levels) * actual.size
    return float(np.mean(2 * sums / scale))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """The share of actual values inside `[lower, upper]`."""
    return float(((actual >= lower) & (actual <= upper)).mean())


def mean_width(lower: np.ndarray, upper: np.ndarray) -> float:
    return float((upper - lower).mean())


def msis(actual, lower, upper, level: float, scale: float | None) -> float | None:
    """The mean scaled interval score of the central `level` % interval (M4 competition):
    `(upper - lower) + 2/a * (lower - y) [y < lower] + 2/a * (y - upper) [y > upper]`,
    `a = 1 - level/100`, averaged over windows and steps and divided by `scale` (the in-sample
    seasonal naive MAE, as MASE's); None without a scale."""
    if not scale:
        return None
    alpha = 1 - level / 100
    score = (
        (upper - lower)
        + 2 / alpha * np.maximum(lower - actual, 0)
        + 2 / alpha * np.maximum(actual - upper, 0)
    )
    return float(score.mean() / scale)


def conformal_offset(actual, lower, upper, level: float) -> np.ndarray:
    """`(horizon,)` how much to widen (or, negative, narrow) the central `level` % interval at
    each step so that it covers `level` % of exchangeable new windows (conformalized quantile
    regression, Romano et al. 2019): the `ceil((n + 1) * level/100) / n` empirical quantile of
    the scores `max(lower - y, y - upper)` of the `n` calibration windows; inf where `n` is too
    small for the level (the interval cannot be calibrated: it becomes unbounded)."""
    scores = np.maximum(lower - actual, actual - upper)  # (windows, horizon)
    n = len(scores)
    rank = math.ceil((n + 1) * level / 100)
    if rank > n:
        return np.full(scores.shape[1], np.inf)
    return np.sort(scores, axis=0)[rank - 1]


def residual_quantiles(residuals: np.ndarray, levels) -> np.ndarray:
    """`(horizon, Q)` the empirical quantiles at `levels` of a point forecast's residuals
    `actual - forecast` `(windows, horizon)`, per step: added to a point forecast, its
    quantiles."""
    return np.quantile(residuals, np.asarray(levels), axis=0).T


def _scores(actual, quantiles, levels, intervals, scale) -> dict:
    """Pinball loss per level, weighted quantile loss, and per interval its coverage, mean
    width and MSIS (`intervals`: `{level: (lower, upper)}`)."""
    return {
        "pinball": dict(
            zip(map(str, levels), map(float, pinball_loss(actual, quantiles, levels)), strict=True)
        ),
        "wql": weighted_quantile_loss(actual, quantiles, levels),
        "intervals": {
            level_key(level): {
                "coverage": coverage(actual, lower, upper),
                "width": mean_width(lower, upper),
                "msis": msis(actual, lower, upper, level, scale),
            }
            for level, (lower, upper) in intervals.items()
        },
    }


def _bounds(quantiles, levels, interval_levels) -> dict:
    """`{level: (lower, upper)}` from the quantile columns of each interval's bounds."""
    return {
        level: tuple(quantiles[..., levels.index(q)] for q in interval_quantiles(level))
        for level in interval_levels
    }


def interval_report(
    data: PreparedData,
    point: dict[str, np.ndarray],
    quantiles: dict[str, np.ndarray] | None,
    levels,
    interval_levels,
    calibrate: str,
) -> dict:
    """`metrics.json`'s `intervals`: the model's and the baselines' quantiles and intervals
    scored on the scored test windows, in original units.

    Args:
        point: the model's point forecasts of `val` and `test`, `(windows, horizon)`.
        quantiles: its quantiles at `levels` for `val` and `test`, `(windows, horizon, Q)`, or
            None for a point model: then they are its point forecast plus the empirical
            quantiles of its validation residuals, step by step (already calibrated on the
            validation windows).
        levels: the quantile levels, increasing; they hold every interval's bounds.
        interval_levels: the central intervals, in percent.
        calibrate: `conformal`: each interval of a distribution head widened (or narrowed) by
            `conformal_offset` of the validation windows, step by step; `none`.

    Returns:
        `(report, bands)`: the report `{"levels", "calibration", "model": scores,
        "baselines": {name: scores}}`, each scores `{"pinball": {level: loss}, "wql",
        "intervals": {level: {"coverage", "width", "msis"}}}` (a calibrated model's intervals
        also hold `uncalibrated`, its scores before, and `offset` per step); and the model's
        intervals as scored, `{level: (lower, upper)}` over the scored test windows.
    """
    levels = [float(q) for q in levels]
    val, test = data.splits["val"], data.splits["test"]
    actual = {
        name: s.raw_target_windows()[s.scored()] for name, s in (("val", val), ("test", test))
    }
    scale = seasonal_scale(in_sample(data), data.season_length)
    if quantiles is None:  # a point model: quantiles of its validation residuals
        residuals = actual["val"] - point["val"][val.scored()]
        model_q = point["test"][test.scored()][..., None] + residual_quantiles(residuals, levels)
        calibration = "validation residuals"
    else:
        model_q = quantiles["test"][test.scored()]
        calibration = calibrate
    bounds = _bounds(model_q, levels, interval_levels)
    model = _scores(actual["test"], model_q, levels, bounds, scale)
    if quantiles is not None and calibrate == "conformal":
        q_val = quantiles["val"][val.scored()]
        _calibrate(model, bounds, actual, q_val, model_q, levels, interval_levels, scale, "offset")
    report = {"levels": levels, "calibration": calibration, "model": model, "baselines": {}}
    for name, q in baseline_quantiles(data, levels).items():
        q = q[test.scored()]
        report["baselines"][name] = _scores(
            actual["test"], q, levels, _bounds(q, levels, interval_levels), scale
        )
    return report, bounds


def _calibrate(model, bounds, actual, q_val, q_test, levels, interval_levels, scale, key):
    """Split conformal calibration of the model's intervals, in place: each of `bounds`
    (`{level: (lower, upper)}` of the test windows) widened by `conformal_offset` of the
    validation windows (`actual["val"]`, quantiles `q_val`), and its scores in `model`
    replaced by the calibrated ones, with `uncalibrated` (the scores before), the offset per
    step under `key`, and a note where too few windows leave it unbounded."""
    val_bounds = _bounds(q_val, levels, interval_levels)
    for level, (lower, upper) in bounds.items():
        offset = conformal_offset(actual["val"], *val_bounds[level], level)
        bounds[level] = (lower - offset, upper + offset)
        after = _scores(actual["test"], q_test, levels, {level: bounds[level]}, scale)
        calibrated = {
            **after["intervals"][level_key(level)],
            "uncalibrated": model["intervals"][level_key(level)],
            key: [float(o) for o in offset],
        }
        if not np.all(np.isfinite(offset)):
            calibrated["note"] = (
                f"{len(actual['val'])} validation windows are too few to calibrate a "
                f"{level:g}% interval (it needs {math.ceil(100 / (100 - level)) - 1}): unbounded"
            )
        model["intervals"][level_key(level)] = calibrated


def baseline_quantiles(data: PreparedData, levels) -> dict[str, np.ndarray]:
    """`{name: (test windows, horizon, Q)}`: each interval baseline's (`INTERVAL_BASELINES`)
    test forecasts plus the quantiles at `levels` of its own residuals on the train windows,
    step by step; a baseline left out of the train or test windows is left out."""
    train, test = data.splits["train"], data.splits["test"]
    train_forecasts = baseline_forecasts(data, train, INTERVAL_BASELINES)
    train_actual = train.raw_target_windows()[train.scored()]
    quantiles = {}
    for name, values in baseline_forecasts(data, test, INTERVAL_BASELINES).items():
        if name in INTERVAL_BASELINES and name in train_forecasts:
            residuals = train_actual - train_forecasts[name][train.scored()]
            quantiles[name] = values[..., None] + residual_quantiles(residuals, levels)
    return quantiles


INTERVAL_BASELINES = ("persistence", "seasonal_naive")  # given intervals from train residuals


def level_key(level: float) -> str:
    """How `metrics.json` names an interval: `80`, `97.5`."""
    return f"{level:g}"


def panel_interval_report(
    parts, point: dict, quantiles: dict | None, levels, interval_levels, calibrate: str
) -> dict:
    """`interval_report` for a panel: every series' windows scored together, each series
    divided by its own MASE scale (the in-sample seasonal naive MAE) so that every series
    weighs alike, as the panel's mean MASE does.

    Coverage is the share of every series' test values inside their intervals; widths, MSIS and
    the weighted quantile loss are in those scaled units. Calibration pools the series: the
    conformal offsets are quantiles of the scaled scores of every series' validation windows,
    each series' interval widened by them times its own scale (a point model: its quantiles are
    the pooled scaled validation residuals' quantiles, times its scale). Series without a scale
    (too short, or constant) are left out, and counted.

    Args:
        parts: the series' PreparedData.
        point: `{"val": [(windows, horizon)], "test": [...]}` one array per series.
        quantiles: the same, `(windows, horizon, Q)`, or None for a point model.
    """
    levels = [float(q) for q in levels]
    kept, scales = [], []
    for i, part in enumerate(parts):
        scale = seasonal_scale(in_sample(part), part.season_length)
        if scale:
            kept.append(i)
            scales.append(scale)

    def pooled(split_name, values):
        """Every kept series' scored windows of `values` (per series), scaled, stacked."""
        out = []
        for i, scale in zip(kept, scales, strict=True):
            split = parts[i].splits[split_name]
            out.append(values[i][split.scored()] / scale)
        return np.concatenate(out)

    actual = {
        name: [part.splits[name].raw_target_windows() for part in parts] for name in ("val", "test")
    }
    y = {name: pooled(name, actual[name]) for name in actual}
    if quantiles is None:
        residuals = y["val"] - pooled("val", point["val"])
        model_q = pooled("test", point["test"])[..., None] + residual_quantiles(residuals, levels)
        calibration = "validation residuals, pooled over the series"
    else:
        model_q = pooled("test", quantiles["test"])
        calibration = calibrate
    bounds = _bounds(model_q, levels, interval_levels)
    model = _scores(y["test"], model_q, levels, bounds, 1.0)
    if quantiles is not None and calibrate == "conformal":  # the offsets: in scaled units
        q_val = pooled("val", quantiles["val"])
        _calibrate(model, bounds, y, q_val, model_q, levels, interval_levels, 1.0, "scaled_offset")
    report = {
        "levels": levels,
        "calibration": calibration,
        "units": "each series divided by its MASE scale",
        "series": {"scored": len(kept), "left_out": len(parts) - len(kept)},
        "model": model,
        "baselines": {},
    }
    each = {i: baseline_quantiles(parts[i], levels) for i in kept}
    for name in INTERVAL_BASELINES:
        if all(name in each[i] for i in kept):  # scored only where every series has it
            q = pooled("test", {i: each[i][name] for i in kept})
            report["baselines"][name] = _scores(
                y["test"], q, levels, _bounds(q, levels, interval_levels), 1.0
            )
    return report
