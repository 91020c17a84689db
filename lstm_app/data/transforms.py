"""Target transforms: turn a trending or seasonal series into one a model can learn, and turn
the model's forecasts back into the original units.

    pipeline = TargetPipeline.apply(y, ["log", "diff"], season_length=12)
    pipeline.transformed            # (time,): diff(log(y)), NaN in the first `lag` rows
    pipeline.invert(forecast, origins)   # (windows, horizon) back to y's units

`log`: log(y), for positive series whose changes are proportional to their level.
`diff`: y_t - y_{t-1}, for a trend. `seasonal_diff`: y_t - y_{t-m}, m = `season_length`.

None of them has parameters, so nothing is learnt from any split; each row of the transformed
series depends only on rows at or before it. Inverting a forecast made at origin t (the last
row the model saw) uses the series up to t alone, and, for steps beyond one season, the
forecast's own earlier steps.

Each transform is one class, registered in `TRANSFORMS` under its config name (named in
`lstm_app.config.choices.TRANSFORM_NAMES`, which this module checks on import), that holds
everything about it: the rows it leaves undefined (`lag`), its numpy forms for whole series
(`forward`, `inverse`, used in training and evaluation) and its `keras.ops` forms for windows
(`forward_ops`, `inverse_ops`, used by the exported serving graph, `lstm_app.serving.graph`).
A new transform is one more registered class, and its name in the config's choices. keras is
imported only inside the ops forms, so this module loads without TensorFlow.
"""

from dataclasses import dataclass

import numpy as np

from lstm_app.config.choices import TRANSFORM_NAMES, check_catalogue
from lstm_app.registry import Registry

TRANSFORMS = Registry("transform")


class TransformError(ValueError):
    """A transform cannot apply to a value; `row` is its index in the series."""

    def __init__(self, row: int, message: str):
        self.row = row
        super().__init__(message)


class Transform:
    """What every transform provides.

    Attributes:
        lag: the leading rows `forward` leaves undefined (NaN).

    numpy forms, on a whole series:
        forward(y): `(time,)` -> `(time,)`, NaN in the first `lag` rows.
        inverse(forecast, history, origins): `forecast` `(windows, horizon)` of the
            transformed series for the steps after each origin, `history` `(time,)` the
            series the transform applied to, `origins` `(windows,)` the row of each window's
            last input -> `(windows, horizon)` in `history`'s units.

    `keras.ops` forms, on windows (for the serving graph):
        forward_ops(y): `(batch, time)` -> `(batch, time - lag)`, ending at the same row.
        inverse_ops(forecast, history): `forecast` `(batch, horizon)`, `history`
            `(batch, time)` the series the transform applied to, ending at the origin ->
            `(batch, horizon)` in `history`'s units.
    """

    lag: int = 0

    @classmethod
    def from_season_length(cls, season_length: int) -> "Transform":
        """The transform for a series with `season_length` steps per season (most ignore it)."""
        return cls()

    def forward(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse(self, forecast, history, origins):
        raise NotImplementedError

    def forward_ops(self, y):
        raise NotImplementedError

    def inverse_ops(self, forecast, history):
        raise NotImplementedError


@TRANSFORMS.register("log")
@dataclass(frozen=True)
class Log(Transform):
    """y -> log(y); needs y > 0."""

    lag = 0

    def forward(self, y: np.ndarray) -> np.ndarray:
        bad = np.flatnonzero(~(y > 0))
        if len(bad):
            raise TransformError(int(bad[0]), f"log needs positive values, got {y[bad[0]]:g}")
        return np.log(y)

    def inverse(self, forecast, history, origins):
        return np.exp(forecast)

    def forward_ops(self, y):
        from keras import ops

        return ops.log(y)

    def inverse_ops(self, forecast, history):
        from keras import ops

        return ops.exp(forecast)


@TRANSFORMS.register("diff")
@dataclass(frozen=True)
class Diff(Transform):
    """y -> y_t - y_{t-1}; the first row has no difference (NaN)."""

    lag = 1

    def forward(self, y: np.ndarray) -> np.ndarray:
        out = np.full_like(y, np.nan)
        out[1:] = y[1:] - y[:-1]
        return out

    def inverse(self, forecast, history, origins):
        """y_{t+k} = y_t + (d_{t+1} + ... + d_{t+k})."""
        return history[origins][:, None] + np.cumsum(forecast, axis=1)

    def forward_ops(self, y):
        return y[:, 1:] - y[:, :-1]

    def inverse_ops(self, forecast, history):
        """y_{t+k} = y_t + d_{t+1} + ... + d_{t+k}."""
        from keras import ops

        return history[:, -1:] + ops.cumsum(forecast, axis=1)


@TRANSFORMS.register("seasonal_diff")
@dataclass(frozen=True)
class SeasonalDiff(Transform):
    """y -> y_t - y_{t-m}; the first m rows have no difference (NaN)."""

    period: int

    @classmethod
    def from_season_length(cls, season_length: int) -> "SeasonalDiff":
        return cls(season_length)

    @property
    def lag(self) -> int:
        return self.period

    def forward(self, y: np.ndarray) -> np.ndarray:
        out = np.full_like(y, np.nan)
        out[self.period :] = y[self.period :] - y[: -self.period]
        return out

    def inverse(self, forecast, history, origins):
        """y_{t+k} = d_{t+k} + y_{t+k-m}, where y_{t+k-m} is observed when k <= m and is the
        forecast's own step k-m otherwise."""
        result = np.empty_like(forecast)
        for k in range(forecast.shape[1]):  # step k + 1
            if k + 1 <= self.period:
                previous = history[origins + k + 1 - self.period]
            else:
                previous = result[:, k - self.period]
            result[:, k] = forecast[:, k] + previous
        return result

    def forward_ops(self, y):
        m = self.period
        return y[:, m:] - y[:, :-m]

    def inverse_ops(self, forecast, history):
        """As `inverse`, one step at a time (the horizon must be static): the history's last
        m rows for the first season, the forecast's own steps after it."""
        from keras import ops

        m = self.period
        steps = []
        for k in range(forecast.shape[1]):  # step k + 1
            previous = history[:, k - m] if k < m else steps[k - m]
            steps.append(forecast[:, k] + previous)
        return ops.stack(steps, axis=1)


check_catalogue("lstm_app.data.transforms.TRANSFORMS", TRANSFORM_NAMES, TRANSFORMS.names())


def make_transform(name: str, season_length: int) -> Transform:
    """The transform registered as `name`; KeyError listing the choices if there is none."""
    return TRANSFORMS[name].from_season_length(season_length)


def transforms_lag(names, season_length: int) -> int:
    """How many leading rows the chain of transforms `names` leaves undefined."""
    return sum(make_transform(name, season_length).lag for name in names)


@dataclass(frozen=True)
class TargetPipeline:
    """A chain of transforms applied to the target, with every intermediate series kept.

    Attributes:
        names: the transforms, in the order they apply.
        steps: the transform objects.
        stages: `stages[0]` is the series in original units, `stages[j + 1]` is `stages[j]`
            after `steps[j]`; each `(time,)`.
    """

    names: tuple[str, ...]
    steps: tuple
    stages: tuple[np.ndarray, ...]

    @classmethod
    def apply(cls, y: np.ndarray, names, season_length: int = 1) -> "TargetPipeline":
        """Applies the transforms `names` to `y` `(time,)`. Raises TransformError."""
        steps = tuple(make_transform(name, season_length) for name in names)
        stages = [np.asarray(y, dtype=np.float64)]
        for step in steps:
            stages.append(step.forward(stages[-1]))
        return cls(tuple(names), steps, tuple(stages))

    @property
    def lag(self) -> int:
        """How many leading rows the transforms leave undefined."""
        return sum(step.lag for step in self.steps)

    @property
    def transformed(self) -> np.ndarray:
        """The series the model learns, `(time,)`: NaN in the first `lag` rows."""
        return self.stages[-1]

    def invert(self, forecast: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Forecasts of the transformed series back in original units.

        Args:
            forecast: `(windows, horizon)`, of the transformed series, for the steps right
                after each origin.
            origins: `(windows,)` the row (in the whole series) of each window's last input.

        Returns:
            `(windows, horizon)` in the original units.
        """
        for step, history in zip(reversed(self.steps), reversed(self.stages[:-1]), strict=True):
            forecast = step.inverse(forecast, history, origins)
        return forecast
