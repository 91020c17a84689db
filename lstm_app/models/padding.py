"""Sequences of different lengths in one batch (issue 19): padded with NaN after their last
step, and a layer that turns that padding into Keras's mask, so that the LSTM layers after it
never read it.

    inputs = keras.Input((None, n_features))           # any length, up to the longest padded
    x = PaddingMask()(inputs)                          # NaN steps -> 0, masked
    x = keras.layers.LSTM(64)(x)                       # reads each sequence's own steps only

NaN cannot be a real value here (`lstm_app.data.sequences` refuses empty cells), so no real
step is ever taken for padding, which a `keras.layers.Masking(mask_value=0.0)` would do to a
step whose scaled features are all 0. The mask travels with the tensor: built-in LSTM and
`GateLSTM` layers (and `Dense` after a sequence output) keep it.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lstm_app")
class PaddingMask(keras.layers.Layer):
    """Masks the steps of `(batch, time, features)` whose features are all NaN, and replaces
    NaN by 0 (masked steps are not read; the 0 only keeps arithmetic finite).

    Call arguments:
        inputs: `(batch, time, features)` float; padding steps all NaN.

    Returns:
        The inputs with NaN replaced by 0, `(batch, time, features)`, carrying the mask
        `(batch, time)`: True for a real step.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return ops.where(ops.isnan(inputs), ops.zeros_like(inputs), inputs)

    def compute_mask(self, inputs, mask=None):
        real = ops.logical_not(ops.all(ops.isnan(inputs), axis=-1))
        return real if mask is None else ops.logical_and(real, mask)

    def compute_output_shape(self, input_shape):
        return input_shape
