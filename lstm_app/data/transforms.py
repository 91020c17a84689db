"""Target transforms: turn a trending or seasonal series into one a model can learn, and turn
the model's forecasts back into the original units.

    pipeline = TargetPipeline.fit(y, ["log", "diff"], season_length=12)
    pipeline.transformed            # (time,): diff(log(y)), NaN in the first `lag` rows
    pipeline.invert(forecast, origins)   # (windows, horizon) back to y's units

`log`: log(y), for positive series whose changes are proportional to their level.
`diff`: y_t - y_{t-1}, for a trend. `seasonal_diff`: y_t - y_{t-m}, m = `season_length`.

None of them has parameters, so nothing is learnt from any split; each row of the transformed
series depends only on rows at or before it. Inverting a forecast made at origin t (the last
row the model saw) uses the series up to t alone, and, for steps beyond one season, the
forecast's own earlier steps.
"""

from dataclasses import dataclass

import numpy as np


class TransformError(ValueError):
    """A transform cannot apply to a value; `row` is its index in the series."""

    def __init__(self, row: int, message: str):
        self.row = row
        super().__init__(message)


@dataclass(frozen=True)
class Log:
    """y -> log(y); needs y > 0."""

    lag = 0

    def forward(self, y: np.ndarray) -> np.ndarray:
        bad = np.flatnonzero(~(y > 0))
        if len(bad):
            raise TransformError(int(bad[0]), f"log needs positive values, got {y[bad[0]]:g}")
        return np.log(y)

    def inverse(self, forecast, history, origins):
        return np.exp(forecast)


@dataclass(frozen=True)
class Diff:
    """y -> y_t - y_{t-1}; the first row has no difference (NaN)."""

    lag = 1

    def forward(self, y: np.ndarray) -> np.ndarray:
        out = np.full_like(y, np.nan)
        out[1:] = y[1:] - y[:-1]
        return out

    def inverse(self, forecast, history, origins):
        """y_{t+k} = y_t + (d_{t+1} + ... + d_{t+k})."""
        return history[origins][:, None] + np.cumsum(forecast, axis=1)


@dataclass(frozen=True)
class SeasonalDiff:
    """y -> y_t - y_{t-m}; the first m rows have no difference (NaN)."""

    period: int

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


def make_transform(name: str, season_length: int):
    """The transform called `name` (`log`, `diff` or `seasonal_diff`)."""
    if name == "log":
        return Log()
    if name == "diff":
        return Diff()
    if name == "seasonal_diff":
        return SeasonalDiff(season_length)
    raise ValueError(f"unknown transform {name!r}; expected log, diff or seasonal_diff")


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
    def fit(cls, y: np.ndarray, names, season_length: int = 1) -> "TargetPipeline":
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
