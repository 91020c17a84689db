"""Distribution heads and their losses (`training.loss: quantile` or `gaussian`): the model
forecasts, for each horizon step, quantiles or a mean and a scale instead of one value.

    QuantileHead(horizon, levels)   (batch, horizon * Q) -> (batch, horizon, Q), never crossing
    GaussianHead(horizon)           (batch, horizon * 2) -> (batch, horizon, 2): mean, scale > 0
    PinballLoss(levels)             targets (batch, horizon) against (batch, horizon, Q)
    GaussianNLL()                   targets (batch, horizon) against (batch, horizon, 2)

The quantiles cannot cross: the first is the head's first input, each next one adds a positive
gap (softplus), so `q_1 <= q_2 <= ... <= q_Q` for any weights.
"""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lstm_app")
class QuantileHead(keras.layers.Layer):
    """`(batch, horizon * Q)` -> `(batch, horizon, Q)` increasing quantiles per step.

    Args:
        horizon: forecast steps.
        levels: the quantile levels, strictly increasing in (0, 1).
    """

    def __init__(self, horizon: int, levels, **kwargs):
        super().__init__(**kwargs)
        self.horizon, self.levels = int(horizon), tuple(float(q) for q in levels)
        if not self.levels or any(not 0 < q < 1 for q in self.levels):
            raise ValueError(f"levels must be one or more numbers in (0, 1), got {levels}")
        if any(b <= a for a, b in zip(self.levels, self.levels[1:], strict=False)):
            raise ValueError(f"levels must be strictly increasing, got {levels}")

    def call(self, inputs):
        raw = ops.reshape(inputs, (-1, self.horizon, len(self.levels)))
        quantiles = [raw[..., :1]]
        for k in range(1, len(self.levels)):  # unrolled (no cumsum): every export takes it
            quantiles.append(quantiles[-1] + ops.softplus(raw[..., k : k + 1]))
        return ops.concatenate(quantiles, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.horizon, len(self.levels))

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon, "levels": list(self.levels)}


@keras.saving.register_keras_serializable(package="lstm_app")
class GaussianHead(keras.layers.Layer):
    """`(batch, horizon * 2)` -> `(batch, horizon, 2)`: each step's mean and a positive scale
    (softplus, at least `MIN_SCALE`)."""

    MIN_SCALE = 1e-4

    def __init__(self, horizon: int, **kwargs):
        super().__init__(**kwargs)
        self.horizon = int(horizon)

    def call(self, inputs):
        raw = ops.reshape(inputs, (-1, self.horizon, 2))
        scale = ops.softplus(raw[..., 1:]) + self.MIN_SCALE
        return ops.concatenate([raw[..., :1], scale], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.horizon, 2)

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon}


@keras.saving.register_keras_serializable(package="lstm_app")
class PinballLoss(keras.losses.Loss):
    """The mean pinball loss over windows, steps and quantile levels."""

    @classmethod
    def for_model(cls, model) -> "PinballLoss":
        """The loss of `model`, whose last layer is a `QuantileHead` (its levels)."""
        return cls(model.layers[-1].levels)

    def __init__(self, levels, name="pinball", **kwargs):
        super().__init__(name=name, **kwargs)
        self.levels = tuple(float(q) for q in levels)

    def call(self, y_true, y_pred):
        error = ops.expand_dims(y_true, -1) - y_pred  # (batch, horizon, Q)
        q = ops.convert_to_tensor(self.levels, dtype=y_pred.dtype)
        return ops.mean(ops.maximum(q * error, (q - 1) * error), axis=(-2, -1))

    def get_config(self):
        return {**super().get_config(), "levels": list(self.levels)}


@keras.saving.register_keras_serializable(package="lstm_app")
class GaussianNLL(keras.losses.Loss):
    """The mean negative log-likelihood of the targets under each step's normal distribution."""

    @classmethod
    def for_model(cls, model) -> "GaussianNLL":
        """The loss of `model` (its `GaussianHead`: nothing to read from it)."""
        return cls()

    def __init__(self, name="gaussian_nll", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        mean, scale = y_pred[..., 0], y_pred[..., 1]
        z = (y_true - mean) / scale
        return ops.mean(0.5 * z * z + ops.log(scale) + 0.5 * math.log(2 * math.pi), axis=-1)
