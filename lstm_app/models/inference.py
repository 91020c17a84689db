"""Inference with a trained model: forecasts in the target's original units (points, or a
distribution head's quantiles) and a classifier's class probabilities.

    values = forecast(model, data, data.splits["test"], batch_size)   # (windows, horizon)
    quantiles = forecast_quantiles(model, data, split, [0.1, 0.5, 0.9], batch_size)
    per_series = forecast_each(model, panel.parts, "test", batch_size)
    probabilities = class_probabilities(model, sequences, "test", batch_size)

Every forecast goes through the model `predict_batch` windows at a time: each window's
forecast is its own, so the batch size changes no number.
"""

from statistics import NormalDist

import keras
import numpy as np

from lstm_app.data.prepare import PreparedData, SplitData, join_splits
from lstm_app.data.sequence_batches import sequence_dataset
from lstm_app.data.windows import make_dataset
from lstm_app.models.heads import GaussianHead, QuantileHead

# Forecasts go through the model this many windows at a time at least: each window's forecast
# is its own (the same numbers at any batch size, to float32 rounding: bitwise here), and a
# bigger batch makes fewer calls (a 14,000-window split: 0.64 s against 1.0 s at 64, 2 cores)
PREDICT_BATCH = 1024


def predict_batch(batch_size: int) -> int:
    """The batch size to forecast with: `training.batch_size`, or `PREDICT_BATCH` if larger."""
    return max(batch_size, PREDICT_BATCH)


def forecast(model: keras.Model, data: PreparedData, split: SplitData, batch_size: int):
    """The model's forecasts for every window of `split`, `(windows, horizon)`, original units
    (a distribution head's median, or its normal's mean)."""
    outputs = model.predict(make_dataset(split, predict_batch(batch_size)), verbose=0)
    return data.to_original_units(split, point_forecast(model, outputs))


def point_forecast(model: keras.Model, outputs: np.ndarray) -> np.ndarray:
    """`(windows, horizon)` of the model's outputs: as they are, or a distribution head's
    median (`QuantileHead`) or mean (`GaussianHead`)."""
    if outputs.ndim == 2:
        return outputs
    head = model.layers[-1]
    if isinstance(head, QuantileHead):
        return outputs[..., head.levels.index(0.5)]
    return outputs[..., 0]


def forecast_quantiles(model: keras.Model, data: PreparedData, split: SplitData, levels, batch):
    """`(windows, horizon, len(levels))` the model's quantiles at `levels` for every window of
    `split`, in original units; None for a point model. Each quantile is turned back through the
    scaler and the inverse transforms on its own, which keeps it a quantile for monotone
    transforms taken step by step (scaling, log); differencing sums steps, for which it is the
    quantile of paths moving together."""
    head = model.layers[-1]
    if not isinstance(head, QuantileHead | GaussianHead):
        return None
    outputs = model.predict(make_dataset(split, predict_batch(batch)), verbose=0)
    scaled = _quantile_columns(model, outputs, levels)
    return np.stack(
        [data.to_original_units(split, scaled[..., j]) for j in range(len(levels))], axis=-1
    )


def forecast_each(model: keras.Model, parts, split_name: str, batch_size: int, levels=None) -> list:
    """The model's forecasts for the split `split_name` of each of `parts` (PreparedData of the
    series of a panel), `[(windows, horizon)]` in original units: one `predict` over the windows
    of all of them (`join_splits`), then each part's back into its own units (a distribution
    head's median or mean; with `levels`, its quantiles at them, `[(windows, horizon, Q)]`, as
    `forecast_quantiles` gives them)."""
    splits = [part.splits[split_name] for part in parts]
    joined = make_dataset(join_splits(splits), predict_batch(batch_size))
    outputs = model.predict(joined, verbose=0)
    ends = np.cumsum([split.n_windows for split in splits])[:-1]
    if levels is not None:
        scaled = _quantile_columns(model, outputs, levels)
        return [
            np.stack([part.to_original_units(split, q[..., j]) for j in range(len(levels))], -1)
            for part, split, q in zip(parts, splits, np.split(scaled, ends), strict=True)
        ]
    point = point_forecast(model, outputs)
    return [
        part.to_original_units(split, values)
        for part, split, values in zip(parts, splits, np.split(point, ends), strict=True)
    ]


def _quantile_columns(model: keras.Model, outputs: np.ndarray, levels) -> np.ndarray:
    """A distribution head's outputs `(windows, horizon, ..)` -> its quantiles at `levels`,
    `(windows, horizon, len(levels))`, in the model's (scaled) units."""
    head = model.layers[-1]
    if isinstance(head, QuantileHead):
        return outputs[..., [head.levels.index(q) for q in levels]]
    z = np.array([NormalDist().inv_cdf(q) for q in levels])
    return outputs[..., :1] + outputs[..., 1:] * z


def class_probabilities(model: keras.Model, data, split: str, batch_size: int) -> np.ndarray:
    """`(k, classes)` the model's probabilities for every sequence of `split` of prepared
    sequences `data`, in order."""
    return model.predict(sequence_dataset(data, split, predict_batch(batch_size)), verbose=0)
