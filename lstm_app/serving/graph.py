"""The model as shipped: raw feature values in, forecasts in the target's original units out.

    spec = ServingSpec.from_run(run_dir)              # what the run learnt about its data
    serving = build_serving_model(model, spec)        # (batch, time, inputs) -> (batch, horizon)

The serving model wraps the trained model between two layers: `ToModelInputs` applies the
target's transforms, drops the rows they leave undefined and scales every column with the
train split's statistics (or, with `data.scaler: window`, each window by its own);
`ToOriginalUnits` unscales the model's outputs and inverts the transforms from the raw window's
own target values. Both are written with `keras.ops`, so the
whole thing exports as one graph: a consumer feeds raw values and reads forecasts, with no
scaler file to apply and no lstm_app to install (but for the `.keras` file, which needs the
layers registered by importing `lstm_app.serving.graph`).

The transforms are the objects of `lstm_app.data.transforms` (`make_transform`), the same ones
training uses: each holds its own `keras.ops` forms for windows (`forward_ops`, `inverse_ops`)
beside its numpy ones, and the layers here only chain them. `tests/test_transforms.py` checks
that both forms agree transform by transform, and `tests/test_export.py` that the served model
gives the run's forecasts.

The raw window holds `spec.rows = input_width + lag` rows, in the order of `spec.inputs`: the
model's input columns (labels one-hot, as `name=label`), then the target if it is not one of
them. A longer window is accepted and only its last `spec.rows` rows are used (both layers cut
it), so the forecast is the same whatever the length; a shorter one is not checked here (the
graph has no way to refuse it in every format): `lstm-predict` refuses it.
"""

from statistics import NormalDist

import keras
import numpy as np
from keras import ops

from lstm_app.data.transforms import make_transform
from lstm_app.models.ensemble import assemble_ensemble, ensemble_parts, is_ensemble
from lstm_app.serving.spec import ServingSpec


def _steps(s: ServingSpec) -> tuple:
    """The transform objects of `s.transforms`, in the order they apply."""
    return tuple(make_transform(name, s.season_length) for name in s.transforms)


def _stages(target, steps):
    """`[y, T1(y), T2(T1(y)), ...]` of target windows `(batch, time)`; each stage is shorter by
    its transform's lag and all end at the window's last row."""
    stages = [target]
    for step in steps:
        stages.append(step.forward_ops(stages[-1]))
    return stages


@keras.saving.register_keras_serializable(package="lstm_app")
class ToModelInputs(keras.layers.Layer):
    """Raw windows `(batch, time, inputs)` -> the model's inputs `(batch, rows - lag, features)`
    from the window's last `rows` rows: the target column transformed, every column scaled by
    the train split's statistics."""

    def __init__(self, spec: dict, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        s = ServingSpec.from_dict(spec)
        self._s = s
        self._steps = _steps(s)
        # numpy constants, so every exported graph embeds them (captured tensors would
        # become extra inputs of the ONNX graph)
        self._offset = np.asarray(s.feature_offset, dtype="float32")
        self._scale = np.asarray(s.feature_scale, dtype="float32")

    def call(self, raw):
        s = self._s
        raw = raw[:, -s.rows :, :]  # the last rows only: the same forecast from longer windows
        features = raw[:, s.lag :, : s.n_features]  # (batch, rows - lag, features)
        if s.target_is_feature:
            target = _stages(raw[:, :, s.target_index], self._steps)[-1]
            i = s.target_index
            pieces = [features[:, :, :i], target[:, :, None], features[:, :, i + 1 :]]
            # no empty pieces: TFLite's concatenation mishandles zero-width inputs
            widths = [i, 1, s.n_features - i - 1]
            features = ops.concatenate([p for p, w in zip(pieces, widths, strict=True) if w], -1)
        features = (features - self._offset) / self._scale
        if s.window_scaling is not None:  # each window by its own statistics
            features = s.window_scaling.scale_inputs(features, ops)
        return features

    def compute_output_shape(self, input_shape):
        batch, time, _ = input_shape
        s = self._s
        return (batch, None if time is None else min(time, s.rows) - s.lag, s.n_features)

    def get_config(self):
        return {**super().get_config(), "spec": self.spec}


@keras.saving.register_keras_serializable(package="lstm_app")
class ToOriginalUnits(keras.layers.Layer):
    """`[model outputs (batch, horizon), raw windows (batch, time, inputs)]` -> forecasts
    `(batch, horizon)` in the target's units: unscaled, and the transforms inverted from the
    window's own target values. A distribution head's outputs `(batch, horizon, Q or 2)` give
    quantiles `(batch, horizon, len(spec.quantiles))`, each turned back on its own, plus the
    conformal offsets of the calibrated intervals."""

    def __init__(self, spec: dict, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self._s = ServingSpec.from_dict(spec)
        self._steps = _steps(self._s)
        s = self._s
        self._z = np.array([NormalDist().inv_cdf(q) for q in s.quantiles], dtype="float32")
        self._offsets = np.asarray(s.quantile_offsets, dtype="float32").reshape(
            s.horizon, len(s.quantiles)
        )

    def call(self, inputs):
        outputs, raw = inputs
        s = self._s
        raw = raw[:, -s.rows :, :]  # the rows ToModelInputs used
        stages = _stages(raw[:, :, s.target_index], self._steps)
        if s.distribution is None:
            return self._to_units(outputs, stages)
        if s.distribution == "gaussian":
            columns = [outputs[..., 0] + outputs[..., 1] * z for z in self._z]
        else:
            columns = [outputs[..., j] for j in range(len(s.quantiles))]
        quantiles = ops.stack([self._to_units(c, stages) for c in columns], axis=-1)
        return quantiles + self._offsets

    def _to_units(self, scaled, stages):
        """Scaled forecasts `(batch, horizon)` -> original units."""
        s = self._s
        if s.window_scaling is not None:  # by the statistics the targets were scaled with
            history = (stages[-1] - s.target_offset) / s.target_scale  # the model's input rows
            loc, scale = s.window_scaling.target_statistics(history, ops)
            scaled = scaled * scale + loc
        forecast = scaled * s.target_scale + s.target_offset
        # each stage's inverse starts from the stage before it, up to the window's last row
        for step, history in zip(reversed(self._steps), reversed(stages[:-1]), strict=True):
            forecast = step.inverse_ops(forecast, history)
        return forecast

    def compute_output_shape(self, input_shapes):
        s = self._s
        if s.distribution is None:
            return input_shapes[0]
        return (input_shapes[0][0], s.horizon, len(s.quantiles))

    def get_config(self):
        return {**super().get_config(), "spec": self.spec}


def build_serving_model(
    model: keras.Model, spec: ServingSpec, time_steps: int | None = None
) -> keras.Model:
    """`model` between `ToModelInputs` and `ToOriginalUnits`: raw windows
    `(batch, time_steps, len(spec.inputs))` in, forecasts `(batch, horizon)` out.

    Args:
        time_steps: a fixed number of raw rows (for formats that need one), or None.
    """
    raw = keras.Input((time_steps, len(spec.inputs)), name="raw_window")
    scaled = ToModelInputs(spec.to_dict(), name="to_model_inputs")(raw)
    forecast = ToOriginalUnits(spec.to_dict(), name="to_original_units")([model(scaled), raw])
    return keras.Model(raw, forecast, name="forecaster")


def unrolled_copy(model: keras.Model, time_steps: int) -> keras.Model:
    """A copy of `model` for inputs of `time_steps` steps, with the same weights and every
    recurrent layer unrolled: no loop over time, so formats such as TFLite take any batch
    size."""

    def clone(layer):
        config = layer.get_config()
        if "unroll" in config:
            config["unroll"] = True
        for inner in ("layer", "backward_layer"):  # keras.layers.Bidirectional's two
            if isinstance(config.get(inner), dict) and "unroll" in config[inner]["config"]:
                config[inner]["config"]["unroll"] = True
        return layer.__class__.from_config(config)

    if is_ensemble(model):  # each member unrolled over the steps it looks back
        members, lookbacks = zip(*ensemble_parts(model), strict=True)
        copies = [
            unrolled_copy(member, steps or time_steps)
            for member, steps in zip(members, lookbacks, strict=True)
        ]
        return assemble_ensemble(copies, model.input_shape[-1], lookbacks, time_steps)
    inputs = keras.Input((time_steps, model.input_shape[-1]))
    copy = keras.models.clone_model(model, input_tensors=inputs, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def served(model: keras.Model, spec, time_steps: int | None = None) -> keras.Model:
    """The model as a format serves it: a forecaster wrapped by `build_serving_model` (raw
    units in and out, `spec` a ServingSpec); a classifier as it is (it takes raw sequences or
    texts itself, `spec` a ClassifierSpec: `wrapped` False)."""
    if not spec.wrapped:
        return model
    return build_serving_model(model, spec, time_steps)
