"""A sequence classifier (`task: classification`): the stacked layers of `model.layers`
between the raw sequence and one probability per class.

    model = build_classifier(cfg, data)    # data: lstm_app.data.sequences.PreparedSequences
    # numeric: (batch, time, features) in original units, NaN after each sequence's end
    #   -> SequenceInputs (first max_length steps, scaled) -> PaddingMask -> layers -> (batch, K)
    # text:    (batch,) strings -> TextVectorization -> Embedding(mask_zero) -> layers -> (batch, K)

The model takes what a user has (raw feature values, raw text) and returns class
probabilities, so the trained model is the one exported (`lstm_app.serving`). The output
layer (`dense`, `units: auto`) gives one score per class, turned into probabilities by
`ClassProbabilities`: a softmax, or for two classes one score through a sigmoid, `[1 - p, p]`.
The loss (`training.loss: cross_entropy`) is `CrossEntropy`: the sparse categorical
cross-entropy of those probabilities, which for two classes is the binary cross-entropy of p.
"""

import dataclasses

import keras
import numpy as np
from keras import ops

from lstm_app.data.sequences import output_units
from lstm_app.models.build import build_layer
from lstm_app.models.padding import PaddingMask


@keras.saving.register_keras_serializable(package="lstm_app")
class SequenceInputs(keras.layers.Layer):
    """Raw sequences `(batch, time, features)` -> their first `max_length` steps, each feature
    scaled by the train split's statistics, `(x - offset) / scale` (padding, NaN, stays NaN
    for `PaddingMask`).

    Args:
        offset, scale: `(features,)` the statistics.
        max_length: steps kept; a longer sequence is cut to its first ones.
    """

    def __init__(self, offset, scale, max_length: int, **kwargs):
        super().__init__(**kwargs)
        if int(max_length) < 1:
            raise ValueError(f"Expected max_length >= 1, got max_length={max_length}")
        self.offset = [float(v) for v in offset]
        self.scale = [float(v) for v in scale]
        if len(self.offset) != len(self.scale):
            raise ValueError(
                f"Expected offset and scale of one length, got {len(self.offset)} and "
                f"{len(self.scale)}"
            )
        self.max_length = int(max_length)
        # numpy constants: every exported graph embeds them
        self._offset = np.asarray(self.offset, dtype="float32")
        self._scale = np.asarray(self.scale, dtype="float32")

    def call(self, raw):
        return (raw[:, : self.max_length, :] - self._offset) / self._scale

    def compute_output_shape(self, input_shape):
        batch, time, features = input_shape
        return (batch, None if time is None else min(time, self.max_length), features)

    def get_config(self):
        return {
            **super().get_config(),
            "offset": self.offset,
            "scale": self.scale,
            "max_length": self.max_length,
        }


@keras.saving.register_keras_serializable(package="lstm_app")
class ClassProbabilities(keras.layers.Layer):
    """Scores `(batch, K)` -> probabilities `(batch, K)` by a softmax; one score `(batch, 1)`
    of two classes -> `(batch, 2)`, `[1 - sigmoid(s), sigmoid(s)]`."""

    def call(self, scores):
        if scores.shape[-1] == 1:
            p = ops.sigmoid(scores)
            return ops.concatenate([1.0 - p, p], axis=-1)
        return ops.softmax(scores, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], max(2, input_shape[-1]))

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="lstm_app")
class CrossEntropy(keras.losses.Loss):
    """Cross-entropy of class probabilities `(batch, K)` against integer classes `(batch,)`:
    -log p(class), Keras's sparse categorical cross-entropy (probabilities clipped to
    [1e-7, 1 - 1e-7]); with two classes the binary cross-entropy of p = the second column."""

    @classmethod
    def for_model(cls, model) -> "CrossEntropy":
        """The loss of classifier `model` (nothing to read from it)."""
        return cls()

    def __init__(self, name="cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        if y_pred.shape[-1] == 2:
            return keras.losses.binary_crossentropy(
                ops.cast(ops.reshape(y_true, (-1, 1)), y_pred.dtype), y_pred[:, 1:]
            )
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred)


def build_classifier(cfg, data) -> keras.Model:
    """The classifier of config `cfg` for prepared sequences `data` (its classes, features,
    scaler or vocabulary), not compiled: raw sequences (or texts) in, `(batch, classes)`
    probabilities out. UserInputError if the output layer's units are not `auto` nor the
    number of classes (`output_units`)."""
    layers = list(cfg.model.layers)
    units = output_units(cfg.model, data.classes)
    layers[-1] = dataclasses.replace(layers[-1], units=units)
    if data.is_text:
        tokenizer = cfg.data.tokenizer
        raw = keras.Input(shape=(), dtype="string", name="text")
        x = keras.layers.TextVectorization(
            max_tokens=tokenizer.max_tokens,
            output_sequence_length=tokenizer.sequence_length,
            vocabulary=data.vocabulary,
            name="words",
        )(raw)
        embedding = layers.pop(0)
        x = keras.layers.Embedding(
            len(data.vocabulary) + 2, embedding.output_dim, mask_zero=True, name="embedding"
        )(x)
    else:
        raw = keras.Input(shape=(None, len(data.feature_names)), name="sequence")
        x = SequenceInputs(
            data.scaler.offset, data.scaler.scale, data.max_length, name="sequence_inputs"
        )(raw)
        x = PaddingMask(name="padding_mask")(x)
    for layer in layers:
        x = build_layer(layer)(x)
    probabilities = ClassProbabilities(name="probabilities")(x)
    return keras.Model(raw, probabilities, name="classifier")
