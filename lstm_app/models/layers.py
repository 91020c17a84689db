"""The gate-equation LSTM: one time step written gate by gate, equal to `keras.layers.LSTM`.

`GateLSTMCell` (`lstm_app.models.gate_cell`, imported here) computes one time step; `GateLSTM`
runs it over a sequence with `keras.layers.RNN`, exactly as `keras.layers.LSTM` runs its
`LSTMCell`. Only the step differs from the built-in layer: here it reads like the equations
(`docs/equations.md` maps each line to them). Both are written with `keras.ops`, so they run on
any Keras backend.

The standard equations (`variant="vanilla"`; Hochreiter & Schmidhuber 1997, with the forget
gate of Gers, Schmidhuber & Cummins 2000), as `keras.layers.LSTM` computes them:

    i_t = σ(W_i x_t + U_i h_{t-1} + b_i)          input gate
    f_t = σ(W_f x_t + U_f h_{t-1} + b_f)          forget gate
    g_t = tanh(W_c x_t + U_c h_{t-1} + b_c)       candidate cell state
    o_t = σ(W_o x_t + U_o h_{t-1} + b_o)          output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t               cell state
    h_t = o_t ⊙ tanh(c_t)                         hidden state: the output

The weights have the built-in layer's layout: `kernel` `(input_dim, 4 * units)` holds
`[W_i | W_f | W_c | W_o]`, `recurrent_kernel` `(units, 4 * units)` holds `[U_i | U_f | U_c | U_o]`
and `bias` `(4 * units,)` holds `[b_i | b_f | b_c | b_o]`, so
`gate.set_weights(builtin.get_weights())` and the reverse just work.

Variants (`variant=`), each described in `VARIANTS` and in `docs/equations.md`:
    peephole: Gers & Schmidhuber (2000): the gates also read the cell state,
        `+ p_i ⊙ c_{t-1}` in i, `+ p_f ⊙ c_{t-1}` in f, `+ p_o ⊙ c_t` in o.
    cifg, no_input_gate, no_forget_gate, no_output_gate, no_input_activation,
        no_output_activation: the reduced LSTMs of Greff et al. (2017), taken from the standard
        equations above (without peepholes). A gate a variant removes has no weights.
    article: the formulas of section 4 of the reference article, exactly as written; not an
        LSTM in the standard sense (see `VARIANTS["article"]`).

References:
    S. Hochreiter, J. Schmidhuber (1997). Long short-term memory. Neural Computation 9(8).
    F. A. Gers, J. Schmidhuber, F. Cummins (2000). Learning to forget: continual prediction
        with LSTM. Neural Computation 12(10).
    F. A. Gers, J. Schmidhuber (2000). Recurrent nets that time and count. IJCNN 2000.
    K. Greff, R. K. Srivastava, J. Koutník, B. R. Steunebrink, J. Schmidhuber (2017). LSTM: a
        search space odyssey. IEEE Transactions on Neural Networks and Learning Systems 28(10).
"""

import inspect

import keras
from keras import regularizers

from lstm_app.models.gate_cell import GateLSTMCell
from lstm_app.models.variants import VARIANTS

__all__ = ["VARIANTS", "GateLSTM", "GateLSTMCell"]


# The arguments GateLSTM passes on to its cell (and lists in its config).
CELL_ARGUMENTS = tuple(
    name for name in inspect.signature(GateLSTMCell).parameters if name != "kwargs"
)


@keras.saving.register_keras_serializable(package="lstm_app")
class GateLSTM(keras.layers.RNN):
    """The gate-equation LSTM layer: `GateLSTMCell` run over time by `keras.layers.RNN`.

    A drop-in for `keras.layers.LSTM` (with `use_cudnn=False`): the same arguments, weights and
    numbers, plus `variant` (see `VARIANTS`). Masks, `go_backwards`, `stateful`, `unroll`,
    `return_sequences` and `return_state` are handled by `keras.layers.RNN`, as for the built-in.

    Args:
        units, activation, recurrent_activation, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer, peephole_initializer, unit_forget_bias,
        kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
        recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, variant:
            as for `GateLSTMCell`.
        activity_regularizer: applied to the layer's output.
        return_sequences: return h_t for every step, `(batch, time, units)`, rather than the
            last, `(batch, units)`. Default: `False`.
        return_state: also return the final h and c, each `(batch, units)`. Default: `False`.
        go_backwards: read the sequence from its end; the returned sequence is reversed too.
        stateful: start each batch from the previous batch's final states (fixed batch size).
        unroll: unroll the loop over time (needs a fixed number of steps).

    Call arguments:
        sequences: `(batch, time, input_dim)`.
        initial_state: optional `[h_0, c_0]`, each `(batch, units)`; default zeros.
        mask: optional `(batch, time)` booleans; a masked step keeps the previous states.
        training: whether dropout applies.

    Example:
        >>> layer = GateLSTM(50, return_sequences=True)
        >>> layer(np.zeros((8, 12, 1))).shape
        (8, 12, 50)
        >>> builtin = keras.layers.LSTM(50, return_sequences=True)
        >>> builtin.build((None, None, 1))
        >>> layer.set_weights(builtin.get_weights())  # same layout, same numbers
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        peephole_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        variant="vanilla",
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        **kwargs,
    ):
        cell = GateLSTMCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            peephole_initializer=peephole_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            variant=variant,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="gate_lstm_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, mask=mask, training=training, initial_state=initial_state)

    @property
    def units(self):
        return self.cell.units

    @property
    def variant(self):
        return self.cell.variant

    def get_config(self):
        cell_config = self.cell.get_config()
        config = {name: cell_config[name] for name in CELL_ARGUMENTS}
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        base_config = super().get_config()
        del base_config["cell"]
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
