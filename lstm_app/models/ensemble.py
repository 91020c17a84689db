"""An ensemble of forecasters as one Keras model (`model.ensemble`): several copies of the
stacked layers, each with its own initial weights and, optionally, its own lookback, trained
side by side and forecasting the median of their forecasts.

    model = build_ensemble(make_member, n_features, lookbacks=[None, 18, 12])
    # inputs (batch, time, features) -> fit: (batch, horizon, members); predict: (batch, horizon)

`EnsembleMedian` stacks the members' forecasts on a last axis while training, so a point loss
(`mean_absolute_error`, ...) compares each member with the same target (Keras expands the
target `(batch, horizon)` to `(batch, horizon, 1)`) and every member learns from its own error
only; otherwise (evaluation, prediction, every export) it gives their median, so early
stopping watches the ensemble's own validation loss and the exported model is one graph:
windows in, the members' median out.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lstm_app")
class LastSteps(keras.layers.Layer):
    """`(batch, time, features)` -> its last `steps` rows `(batch, steps, features)`: a
    member that looks back less far than the window."""

    def __init__(self, steps: int, **kwargs):
        super().__init__(**kwargs)
        if int(steps) < 1:
            raise ValueError(f"steps must be at least 1, got {steps!r}")
        self.steps = int(steps)

    def call(self, inputs):
        return inputs[:, -self.steps :, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.steps, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "steps": self.steps}


@keras.saving.register_keras_serializable(package="lstm_app")
class EnsembleMedian(keras.layers.Layer):
    """The members' forecasts, a list of `(batch, horizon)`: stacked `(batch, horizon,
    members)` while training, their median `(batch, horizon)` otherwise (with an even number
    of members, the mean of the two middle ones). `lookbacks` records how far each member
    looks back (None: the whole window), so the ensemble can be rebuilt (`ensemble_parts`)."""

    def __init__(self, lookbacks=None, **kwargs):
        super().__init__(**kwargs)
        self.lookbacks = list(lookbacks) if lookbacks is not None else None

    def call(self, members, training=None):
        stacked = ops.stack(members, axis=-1)
        if training:
            return stacked
        return median_last(stacked)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "lookbacks": self.lookbacks}


@keras.saving.register_keras_serializable(package="lstm_app")
class EachMember(keras.losses.Loss):
    """A point loss (Keras's, by name) of every member of an ensemble: the target
    `(batch, horizon)` against each member's forecast in `(batch, horizon, members)` (training),
    or against the median `(batch, horizon)` (evaluation); the mean over all of them."""

    def __init__(self, loss: str, name=None, **kwargs):
        super().__init__(name=name or f"each_member_{loss}", **kwargs)
        self.loss = loss
        self._function = keras.losses.get(loss)

    def call(self, y_true, y_pred):
        if len(y_pred.shape) == len(y_true.shape) + 1:
            y_true = ops.expand_dims(y_true, -1)
            y_pred = ops.moveaxis(y_pred, -1, 1)  # (batch, members, horizon): one row each
            y_true = ops.moveaxis(y_true, -1, 1)
        return self._function(y_true, y_pred)

    def get_config(self):
        return {"loss": self.loss, "name": self.name, "reduction": self.reduction}


def is_ensemble(model) -> bool:
    """Whether `model` ends with an `EnsembleMedian` (built by `build_ensemble`)."""
    return bool(model.layers) and isinstance(model.layers[-1], EnsembleMedian)


def median_last(values):
    """The median over the last axis of `values` `(..., n)`, written with a sort, which every
    export format takes."""
    n = values.shape[-1]
    ordered = ops.sort(values, axis=-1)
    if n % 2:
        return ordered[..., n // 2]
    return 0.5 * (ordered[..., n // 2 - 1] + ordered[..., n // 2])


def lookback_steps(input_width: int, shares, members: int) -> list[int | None]:
    """How far each member looks back: `round(share * input_width)` steps (at least 1) of
    `shares` in turn, None for the whole window."""
    steps = []
    for i in range(members):
        k = max(1, round(shares[i % len(shares)] * input_width))
        steps.append(None if k >= input_width else k)
    return steps


def build_ensemble(make_member, n_features: int, lookbacks: list[int | None]) -> keras.Model:
    """One model of `len(lookbacks)` members, each `make_member(name)` (a new model
    `(batch, time, n_features) -> (batch, horizon)`) fed its last `lookbacks[i]` steps (None:
    all), ended by `EnsembleMedian`."""
    members = [make_member(f"member_{i}") for i in range(len(lookbacks))]
    return assemble_ensemble(members, n_features, lookbacks)


def assemble_ensemble(members, n_features: int, lookbacks, time_steps=None) -> keras.Model:
    """The ensemble of the models `members`, member i fed the last `lookbacks[i]` steps (None:
    all) of windows of `time_steps` steps (None: any)."""
    inputs = keras.Input(shape=(time_steps, n_features))
    outputs = []
    for i, (member, steps) in enumerate(zip(members, lookbacks, strict=True)):
        seen = inputs if steps is None else LastSteps(steps, name=f"last_{steps}_{i}")(inputs)
        outputs.append(member(seen))
    median = EnsembleMedian(lookbacks=list(lookbacks), name="median")
    return keras.Model(inputs, median(outputs), name="ensemble")


def ensemble_parts(model: keras.Model) -> list[tuple[keras.Model, int | None]]:
    """`[(member, lookback)]` of an ensemble built by `build_ensemble`, in order."""
    members = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return list(zip(members, model.layers[-1].lookbacks, strict=True))
