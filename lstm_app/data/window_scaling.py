"""Scaling each window by its own statistics (`data.scaler: window` or `window_abs`), the way
DeepAR and NeuralForecast's temporal scalers do: no statistics are learnt from the train split,
so one model serves series of any level, and the exported model needs no per-series table.

    loc, scale = window_statistics(values, "window")   values (batch, time, columns)
    scaling = WindowScaling("window", columns)         which input columns are scaled
    scaling.scale_inputs(inputs)                       (batch, width, features), scaled
    scaling.target_statistics(history)                 the target's loc, scale per window

Each input column marked in `columns` is scaled by its own statistics over the window's input
rows; the targets (the forecast steps) by the target's statistics over the same input rows,
which the model sees, so a forecast is turned back with what is known at its origin:
`forecast = output * scale + loc`.

    window       loc = the window's mean, scale = its standard deviation
    window_abs   loc = 0, scale = the window's mean absolute value (DeepAR's scale)
    window_last  loc = the window's last value, scale = its mean absolute step-to-step change:
                 the forecast is learnt as moves from the last value in units of the window's
                 own naive error (as MASE counts them)

A flat window (standard deviation below `FLAT` times its mean absolute value) is scaled by its
mean absolute value instead, and a window of zeros by 1, so no window divides by (nearly) 0.

The functions take the array namespace `xp` (numpy, or `keras.ops` inside a graph: `tf.data`
and the exported model), so training, evaluation and serving compute the same formula.
"""

from dataclasses import dataclass

import numpy as np

WINDOW_SCALERS = ("window", "window_abs", "window_last")
FLAT = 1e-4  # a window whose spread is below this share of its level counts as flat


def window_statistics(values, kind: str, xp=np):
    """`loc, scale` of each window of `values` `(batch, time, columns)`, each
    `(batch, 1, columns)`, over the time axis (see the module's docstring)."""
    if kind not in WINDOW_SCALERS:
        raise ValueError(f"kind must be one of {WINDOW_SCALERS}, got {kind!r}")
    level = xp.mean(xp.abs(values), axis=1, keepdims=True)
    fallback = xp.where(level > 0, level, xp.ones_like(level))
    if kind == "window_abs":
        return xp.zeros_like(level), fallback
    if kind == "window_last":
        steps = xp.mean(xp.abs(values[:, 1:, :] - values[:, :-1, :]), axis=1, keepdims=True)
        return values[:, -1:, :], xp.where(steps > FLAT * level, steps, fallback)
    loc = xp.mean(values, axis=1, keepdims=True)
    spread = xp.sqrt(xp.mean(xp.square(values - loc), axis=1, keepdims=True))
    return loc, xp.where(spread > FLAT * level, spread, fallback)


@dataclass(frozen=True)
class WindowScaling:
    """How a model's windows are scaled, each by its own statistics.

    Attributes:
        kind: `window` (mean and standard deviation) or `window_abs` (mean absolute value).
        columns: `(n_features,)` bool, the input columns scaled per window; the others (one-hot
            labels) pass as they are.
    """

    kind: str
    columns: tuple[bool, ...]

    def with_columns(self, extra: int) -> "WindowScaling":
        """The same scaling for `extra` more input columns appended unscaled (static labels)."""
        return WindowScaling(self.kind, (*self.columns, *([False] * extra)))

    def scale_inputs(self, inputs, xp=np):
        """`(batch, width, n_features)` inputs -> the same, marked columns scaled."""
        loc, scale = window_statistics(inputs, self.kind, xp)
        mask = np.asarray(self.columns, dtype=np.float32)  # (n_features,) 1 = scaled
        return inputs + mask * ((inputs - loc) / scale - inputs)

    def target_statistics(self, history, xp=np):
        """`(batch, width)` the target over each window's input rows -> `loc, scale`, each
        `(batch, 1)`, that scale the window's targets `(batch, horizon)`."""
        loc, scale = window_statistics(history[:, :, None], self.kind, xp)
        return loc[:, :, 0], scale[:, :, 0]

    def to_dict(self, names) -> dict:
        """`{"kind": .., "columns": [names scaled per window]}`, for JSON."""
        return {
            "kind": self.kind,
            "columns": [name for name, on in zip(names, self.columns, strict=True) if on],
        }
