"""What an exported model expects, readable without TensorFlow: the serving spec (input
columns, scaling, transforms, window). The export formats, their files and their packages are
in `lstm_app.serving.formats`.
"""

import dataclasses
import math
from dataclasses import dataclass

from lstm_app.config.schema import DISTRIBUTION_LOSSES, interval_quantiles, quantile_levels
from lstm_app.data.transforms import transforms_lag
from lstm_app.data.window_scaling import WindowScaling
from lstm_app.errors import UserInputError
from lstm_app.runs.rundir import RunDir


def spec_from_dict(cls, values: dict):
    """A spec dataclass `cls` from its `to_dict` (read back from JSON: lists become tuples,
    keys it does not know are ignored)."""
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return cls(**{k: v for k, v in values.items() if k in fields})


@dataclass(frozen=True)
class ServingSpec:
    """What the serving model needs to know about the data.

    Attributes:
        inputs: the raw input columns, in order.
        target: the target column; `target_index` is its position in `inputs`.
        n_features: the model's inputs are the first `n_features` columns.
        target_is_feature: whether the model sees the (transformed) target as a feature.
        transforms: the target's transforms, in order; `season_length` for seasonal_diff.
        feature_offset, feature_scale: `(n_features,)` the feature scaler's statistics.
        target_offset, target_scale: the target scaler's statistics.
        input_width, horizon: the window the model was trained on.
        categorical: `{column: [labels]}` for one-hot columns (and a panel's static columns).
        window_scaler: `window` or `window_abs` when each window is scaled by its own
            statistics (`lstm_app.data.window_scaling`), else None; `window_columns`
            `(n_features,)` marks the columns it scales.
        series_scaled: a panel scaled series by series (`data.scaler: series`): the graph
            takes windows already scaled by their series' statistics (the card's
            `series_scaling`) and returns forecasts in those scaled units.
        distribution: `quantile` or `gaussian` for a distribution head (`training.loss`), whose
            forecasts are `(batch, horizon, len(quantiles))` at the levels `quantiles`, plus
            `quantile_offsets` `(horizon, len(quantiles))` in original units: the conformal
            calibration of the intervals `calibrated` (their levels, as metrics.json names
            them); None: `(batch, horizon)` point forecasts.
    """

    wrapped = True  # served inside build_serving_model (lstm_app.serving.graph.served)

    inputs: tuple[str, ...]
    target: str
    target_index: int
    n_features: int
    target_is_feature: bool
    transforms: tuple[str, ...]
    season_length: int
    feature_offset: tuple[float, ...]
    feature_scale: tuple[float, ...]
    target_offset: float
    target_scale: float
    input_width: int
    horizon: int
    categorical: dict
    window_scaler: str | None = None
    window_columns: tuple[bool, ...] = ()
    series_scaled: bool = False
    distribution: str | None = None
    quantiles: tuple[float, ...] = ()
    quantile_offsets: tuple[tuple[float, ...], ...] = ()
    calibrated: tuple[str, ...] = ()

    @property
    def window_scaling(self) -> WindowScaling | None:
        """The WindowScaling of the model's inputs, or None."""
        if self.window_scaler is None:
            return None
        return WindowScaling(self.window_scaler, self.window_columns)

    @property
    def lag(self) -> int:
        """Leading rows the transforms leave undefined."""
        return transforms_lag(self.transforms, self.season_length)

    @property
    def rows(self) -> int:
        """Raw rows a forecast needs: the window plus what the transforms use up."""
        return self.input_width + self.lag

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    compiles_with_xla = True  # the SavedModel's serve function is XLA-compiled

    def input_signature(self, rows: int | None = None):
        """The serving model's input, a `tf.TensorSpec` `(batch, rows, inputs)` float32."""
        import tensorflow as tf

        return tf.TensorSpec((None, rows, len(self.inputs)), tf.float32, name="raw_window")

    @classmethod
    def from_dict(cls, values: dict) -> "ServingSpec":
        return spec_from_dict(cls, values)

    @classmethod
    def from_run(cls, run_dir) -> "ServingSpec":
        """The spec of a run directory, from its `config.yaml` and `scaler.json`."""
        run = RunDir(run_dir)
        config, scalers = run.read_config(), run.read_scalers()
        data = config["data"]
        series_scaled = scalers.get("kind") == "series"
        if series_scaled:  # each series' statistics travel in the card, applied outside
            if scalers.get("target_transforms"):
                raise UserInputError(
                    f"{run.path}: a panel scaled series by series (data.scaler: series) with "
                    f"data.transforms {scalers['target_transforms']} is not exported yet (each "
                    "series' statistics apply after the transforms); train it with "
                    "data.scaler: window, or without transforms"
                )
            features = {name: {"offset": 0.0, "scale": 1.0} for name in scalers["inputs"]}
            target_stats = {"offset": 0.0, "scale": 1.0}
        else:
            features = scalers["features"]["columns"]
            (target_stats,) = scalers["target"]["columns"].values()
        names = list(features)
        target = data["target"]
        inputs = names if target in names else [*names, target]
        categorical = {
            column: [name.split("=", 1)[1] for name in names if name.startswith(f"{column}=")]
            for column in (*(data.get("categorical") or ()), *(data.get("static") or ()))
        }
        window = scalers.get("window")
        return cls(
            inputs=tuple(inputs),
            target=target,
            target_index=inputs.index(target),
            n_features=len(names),
            target_is_feature=target in names,
            transforms=tuple(scalers.get("target_transforms", ())),
            season_length=int(data.get("season_length", 1)),
            feature_offset=tuple(features[n]["offset"] for n in names),
            feature_scale=tuple(features[n]["scale"] for n in names),
            target_offset=target_stats["offset"],
            target_scale=target_stats["scale"],
            input_width=int(data["window"]["input_width"]),
            horizon=int(data["window"]["horizon"]),
            categorical=categorical,
            window_scaler=window and window["kind"],
            window_columns=tuple(n in window["columns"] for n in names) if window else (),
            series_scaled=series_scaled,
            **_distribution(
                config, run.read_metrics() if (run.path / RunDir.METRICS).exists() else {}
            ),
        )


def _distribution(config: dict, metrics: dict) -> dict:
    """The spec's fields of a distribution head: its quantile levels, and the conformal offsets
    of the calibrated intervals from `metrics.json` (an interval too few validation windows
    could calibrate, with infinite offsets, stays uncalibrated)."""
    loss = config.get("training", {}).get("loss")
    if loss not in DISTRIBUTION_LOSSES:
        return {}
    intervals = config.get("evaluation", {}).get("intervals", {})
    levels = quantile_levels(config["data"].get("quantiles") or (), intervals.get("levels") or ())
    horizon = int(config["data"]["window"]["horizon"])
    offsets, calibrated = [[0.0] * len(levels) for _ in range(horizon)], []
    for key, scores in metrics.get("intervals", {}).get("model", {}).get("intervals", {}).items():
        offset = scores.get("offset")
        if not offset or any(o is None or not math.isfinite(o) for o in offset):
            continue
        lower, upper = (levels.index(q) for q in interval_quantiles(float(key)))
        for step, o in enumerate(offset):
            offsets[step][lower] -= o
            offsets[step][upper] += o
        calibrated.append(key)
    return {
        "distribution": loss,
        "quantiles": tuple(levels),
        "quantile_offsets": tuple(tuple(row) for row in offsets),
        "calibrated": tuple(calibrated),
    }
