"""The sections of a config about what is done with the trained model: how it is judged
(`EvaluationConfig`: backtest, prediction intervals), where it is exported (`ExportConfig`) and
where the run is recorded (`TrackingConfig`); and the quantile levels an interval needs.
"""

from dataclasses import dataclass, field
from typing import Literal

from lstm_app.config.choices import BASELINE_NAMES, FORMAT_NAMES
from lstm_app.config.validate import bounded, choice, limit, unique
from lstm_app.errors import ConfigError


def interval_quantiles(level: float) -> tuple[float, float]:
    """The quantile levels bounding the central `level` % interval: 80 -> (0.1, 0.9)."""
    tail = (1 - level / 100) / 2
    return round(tail, 10), round(1 - tail, 10)


def quantile_levels(quantiles, interval_levels) -> list[float]:
    """The quantile levels forecast and scored: `data.quantiles` and the bounds of every
    interval (`evaluation.intervals.levels`), sorted."""
    bounds = {q for level in interval_levels for q in interval_quantiles(level)}
    return sorted(set(map(float, quantiles)) | bounds)


# --------------------------------------------------------------------------------------------
# evaluation


@dataclass(frozen=True)
class BacktestConfig:
    """Rolling-origin evaluation: `folds` test blocks, each of the test split's size, the last
    being the test split itself; each fold trains on everything before its own val block."""

    # 1000 folds: each trains a model; more would run for months (and the list of folds alone
    # would exhaust memory at 1e23)
    folds: int = bounded(1, ge=1, le=limit(1000))  # 1: the test split alone


@dataclass(frozen=True)
class IntervalsConfig:
    """Central prediction intervals scored on the test windows: `levels` in percent (80: the
    0.1 and 0.9 quantiles), calibrated on the validation windows with `calibrate: conformal`."""

    levels: tuple[float, ...] = unique((), item="{}")  # e.g. [80, 95]; each in (0, 100)
    calibrate: Literal["none", "conformal"] = "none"

    def _finish(self):
        for i, level in enumerate(self.levels):
            if not 0 < level < 100:
                raise ConfigError(("levels", i), f"expected a percentage in (0, 100), got {level}")
        if self.calibrate != "none" and not self.levels:
            raise ConfigError(("calibrate",), "calibrates intervals: list their levels too")
        return self


@dataclass(frozen=True)
class EvaluationConfig:
    """How the model is judged beyond its test split."""

    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    intervals: IntervalsConfig = field(default_factory=IntervalsConfig)
    # the forecasts the model is compared with (lstm_app.evaluation.baselines); ets and theta
    # (statsforecast's AutoETS and AutoTheta) cost about 0.05 s per series each; auto: all of
    # them, but ets and theta for a panel read shard by shard (they would cost more than the
    # training): see run_baselines
    baselines: tuple[str, ...] | Literal["auto"] = choice("auto", BASELINE_NAMES, unique=True)


# --------------------------------------------------------------------------------------------
# export


@dataclass(frozen=True)
class ExportConfig:
    """Formats to export the trained model to, into RUN/export/, when training ends."""

    # see lstm_app.serving.formats
    formats: tuple[str, ...] = choice((), FORMAT_NAMES, unique=True)


# --------------------------------------------------------------------------------------------
# tracking


@dataclass(frozen=True)
class MLflowConfig:
    """Log the finished run to MLflow (the extra `lstm-app[tracking]`): the resolved config as
    params, each epoch's losses, the metrics of every split and the baselines', the plots and
    the model. The store: `MLFLOW_TRACKING_URI` when set, else `mlflow.db` (SQLite, no server)
    beside the run directory: `runs/mlflow.db`, `mlflow ui --backend-store-uri
    sqlite:///runs/mlflow.db`."""

    enabled: bool = False
    experiment: str | None = None  # the MLflow experiment; default: the config's name


@dataclass(frozen=True)
class TrackingConfig:
    """Where else the run is recorded (TensorBoard: `training.callbacks.tensorboard`)."""

    mlflow: MLflowConfig = field(default_factory=MLflowConfig)
