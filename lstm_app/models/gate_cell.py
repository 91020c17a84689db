"""`GateLSTMCell`: one time step of the gate-equation LSTM, written gate by gate (the standard
equations or a variant of `VARIANTS`), its weights in `keras.layers.LSTMCell`'s layout.

The equations, the weight layout and the variants are described in `lstm_app.models.layers`,
beside `GateLSTM`, the layer that runs this cell over a sequence; both are imported from there.
"""

import keras
from keras import activations, constraints, initializers, ops, regularizers

from lstm_app.keras_compat import dropout_rnn_cell_mixin
from lstm_app.models.variants import VARIANTS

# Not exported by Keras, but it is what makes `keras.layers.RNN` prepare and reset a cell's
# dropout masks (and what `keras.layers.LSTMCell` itself mixes in); see `keras_compat`.
DropoutRNNCell = dropout_rnn_cell_mixin()

# The gates that have weights, in the order of their columns in `kernel` and `recurrent_kernel`
# (`c` is the candidate g_t, named after the cell state as in keras.layers.LSTM).
GATE_ORDER = {
    "vanilla": "ifco",
    "peephole": "ifco",
    "cifg": "ico",
    "no_input_gate": "fco",
    "no_forget_gate": "ico",
    "no_output_gate": "ifc",
    "no_input_activation": "ifco",
    "no_output_activation": "ifco",
}

# The article variant's weights, named as in the article: (name, rows, kind).
ARTICLE_WEIGHTS = (
    ("W_hx", "input", "kernel"),
    ("W_hh", "units", "recurrent"),
    ("W_cx", "input", "kernel"),
    ("W_cc", "units", "recurrent"),
    ("W_ix", "input", "kernel"),
    ("W_ic", "units", "recurrent"),
    ("W_co", "units", "recurrent"),
    ("W_ch", "units", "recurrent"),
)
ARTICLE_BIASES = ("b_h", "b_c", "b_i", "b_o")


def _check_rate(name, value):
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`, expected a float between 0 "
            f"and 1, got {value}."
        )


@keras.saving.register_keras_serializable(package="lstm_app")
class GateLSTMCell(keras.layers.Layer, DropoutRNNCell):
    """One LSTM time step, written gate by gate (the standard equations or a variant).

    Args:
        units: positive integer, the size of the hidden state h and the cell state c.
        activation: for the candidate g_t and the output tanh(c_t). Default: `"tanh"`.
        recurrent_activation: for the gates i, f, o. Default: `"sigmoid"`.
        use_bias: whether the gates have biases b. Default: `True`.
        kernel_initializer: for `kernel` (the W matrices). Default: `"glorot_uniform"`.
        recurrent_initializer: for `recurrent_kernel` (the U matrices). Default: `"orthogonal"`.
        bias_initializer: for `bias`. Default: `"zeros"`.
        peephole_initializer: for the peephole weights p (peephole variant). Default: `"zeros"`,
            so that a new peephole LSTM starts as the standard one.
        unit_forget_bias: add 1 to the forget gate's bias at initialization (Jozefowicz et al.
            2015), as keras.layers.LSTM does. Default: `True`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: for those weights.
        kernel_constraint, recurrent_constraint, bias_constraint: for those weights.
        dropout: fraction of the inputs x_t to drop, in training. Default: 0.
        recurrent_dropout: fraction of the recurrent state h_{t-1} to drop, in training; as in
            keras.layers.LSTM, each gate then gets masks of its own. Default: 0.
        seed: seed of the dropout masks.
        variant: which equations, one of `VARIANTS`. Default: `"vanilla"`.

    Call arguments:
        inputs: `(batch, input_dim)`, the input x_t at one time step.
        states: `[h_{t-1}, c_{t-1}]`, each `(batch, units)`.
        training: whether dropout applies.

    Returns:
        `(output, [h_t, c_t])`: the output `(batch, units)` is h_t (o_t for the article
        variant), and the new states are each `(batch, units)`.

    Example:
        >>> cell = GateLSTMCell(4)
        >>> layer = keras.layers.RNN(cell)  # what GateLSTM(4) does
        >>> layer(np.zeros((32, 10, 8))).shape
        (32, 4)
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
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        variant="vanilla",
        **kwargs,
    ):
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                "Received an invalid value for argument `units`, expected a positive integer, "
                f"got {units}."
            )
        if variant not in VARIANTS:
            raise ValueError(
                "Received an invalid value for argument `variant`, expected one of "
                f"{', '.join(VARIANTS)}, got {variant!r}."
            )
        _check_rate("dropout", dropout)
        _check_rate("recurrent_dropout", recurrent_dropout)
        super().__init__(**kwargs)
        self.units = units
        self.variant = variant
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.peephole_initializer = initializers.get(peephole_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.gates = GATE_ORDER.get(variant, "")
        # With recurrent dropout, keras.layers.LSTM (its implementation 1) draws an input mask
        # and a recurrent mask per gate, and multiplies gate by gate; so does this cell.
        self.mask_per_gate = self.recurrent_dropout > 0 and variant != "article"
        if self.mask_per_gate:
            self.dropout_mask_count = len(self.gates)  # read by DropoutRNNCell
        self.state_size = [units, units]
        self.output_size = units

    # ---------------------------------------------------------------------------------------
    # weights

    def _add(self, name, shape, kind):
        """Adds a weight whose initializer, regularizer and constraint are those of `kind`."""
        return self.add_weight(
            shape=shape,
            name=name,
            initializer=getattr(self, f"{kind}_initializer"),
            regularizer=getattr(self, f"{kind}_regularizer", None),
            constraint=getattr(self, f"{kind}_constraint", None),
        )

    def _gate_bias_initializer(self, gates):
        """`bias_initializer` for each gate's slice, with ones for f if `unit_forget_bias`."""

        def initializer(shape, dtype=None):
            ones = initializers.get("ones")
            parts = [
                ones if gate == "f" and self.unit_forget_bias else self.bias_initializer
                for gate in gates
            ]
            return ops.concatenate([init((self.units,), dtype=dtype) for init in parts])

        return initializer

    def build(self, input_shape):
        super().build(input_shape)
        input_dim, units = input_shape[-1], self.units
        if self.variant == "article":
            rows = {"input": input_dim, "units": units}
            for name, rows_of, kind in ARTICLE_WEIGHTS:
                setattr(self, name, self._add(name, (rows[rows_of], units), kind))
            for name in ARTICLE_BIASES:
                bias = None
                if self.use_bias:
                    forget = name == "b_c" and self.unit_forget_bias  # b_c is f's bias
                    init = initializers.get("ones") if forget else self.bias_initializer
                    bias = self.add_weight(
                        shape=(units,),
                        name=name,
                        initializer=init,
                        regularizer=self.bias_regularizer,
                        constraint=self.bias_constraint,
                    )
                setattr(self, name, bias)
            return
        n = len(self.gates)
        self.kernel = self._add("kernel", (input_dim, n * units), "kernel")
        self.recurrent_kernel = self._add("recurrent_kernel", (units, n * units), "recurrent")
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(n * units,),
                name="bias",
                initializer=self._gate_bias_initializer(self.gates),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        if self.variant == "peephole":
            for gate in "ifo":
                name = f"peephole_{gate}"
                setattr(self, name, self._add(name, (units,), "peephole"))

    # ---------------------------------------------------------------------------------------
    # one time step

    def _dropped(self, x, h_prev, training):
        """x_t and h_{t-1}, each as a list of one tensor per gate, after dropout in training."""
        n = max(len(self.gates), 1)
        xs, hs = [x] * n, [h_prev] * n
        if training and 0.0 < self.dropout < 1.0:
            mask = self.get_dropout_mask(x)
            xs = [x * m for m in mask] if isinstance(mask, list) else [x * mask] * n
        if training and 0.0 < self.recurrent_dropout < 1.0:
            mask = self.get_recurrent_dropout_mask(h_prev)
            hs = [h_prev * m for m in mask] if isinstance(mask, list) else [h_prev * mask] * n
        return xs, hs

    def _preactivations(self, x, h_prev, training):
        """`{k: W_k x_t + U_k h_{t-1} + b_k}` for each gate k of the variant, `(batch, units)`."""
        n = len(self.gates)
        xs, hs = self._dropped(x, h_prev, training)
        if self.mask_per_gate:  # a product per gate
            kernels = ops.split(self.kernel, n, axis=1)
            recurrent_kernels = ops.split(self.recurrent_kernel, n, axis=1)
            z = [
                ops.matmul(xs[k], kernels[k]) + ops.matmul(hs[k], recurrent_kernels[k])
                for k in range(n)
            ]
            if self.use_bias:
                z = [z_k + b_k for z_k, b_k in zip(z, ops.split(self.bias, n), strict=True)]
        else:  # every gate at once: (batch, n * units), then split
            z = ops.matmul(xs[0], self.kernel) + ops.matmul(hs[0], self.recurrent_kernel)
            if self.use_bias:
                z = z + self.bias
            z = ops.split(z, n, axis=-1)
        return dict(zip(self.gates, z, strict=True))

    def step(self, inputs, states, training=False):
        """One time step, every intermediate kept: what `call` computes, and gate inspection reads.

        Args:
            inputs: x_t, `(batch, input_dim)`.
            states: `[h_{t-1}, c_{t-1}]`, each `(batch, units)`.

        Returns:
            `{"i", "f", "g", "o", "c", "h", "output"}`: the gates, the candidate, the new cell and
            hidden states, and the output, each `(batch, units)`; a gate that the variant
            removes is the number 1.0 (and cifg's f is `1 - i`).
        """
        h_prev, c_prev = states[0], states[1]
        if self.variant == "article":
            return self._article_step(inputs, h_prev, c_prev, training)
        σ, tanh = self.recurrent_activation, self.activation
        z = self._preactivations(inputs, h_prev, training)  # z["k"] = W_k x_t + U_k h_{t-1} + b_k

        # i_t = σ(W_i x_t + U_i h_{t-1} + b_i)                       input gate
        if self.variant == "no_input_gate":
            i = 1.0
        elif self.variant == "peephole":
            i = σ(z["i"] + self.peephole_i * c_prev)  # ... + p_i ⊙ c_{t-1}
        else:
            i = σ(z["i"])

        # f_t = σ(W_f x_t + U_f h_{t-1} + b_f)                       forget gate
        if self.variant == "no_forget_gate":
            f = 1.0
        elif self.variant == "cifg":
            f = 1.0 - i  # coupled to the input gate
        elif self.variant == "peephole":
            f = σ(z["f"] + self.peephole_f * c_prev)  # ... + p_f ⊙ c_{t-1}
        else:
            f = σ(z["f"])

        # g_t = tanh(W_c x_t + U_c h_{t-1} + b_c)                    candidate cell state
        g = z["c"] if self.variant == "no_input_activation" else tanh(z["c"])

        # c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                            cell state
        c = f * c_prev + i * g

        # o_t = σ(W_o x_t + U_o h_{t-1} + b_o)                       output gate
        if self.variant == "no_output_gate":
            o = 1.0
        elif self.variant == "peephole":
            o = σ(z["o"] + self.peephole_o * c)  # ... + p_o ⊙ c_t, the new cell state
        else:
            o = σ(z["o"])

        # h_t = o_t ⊙ tanh(c_t)                                      hidden state, the output
        h = o * c if self.variant == "no_output_activation" else o * tanh(c)

        return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h, "output": h}

    def _article_step(self, x, h_prev, c_prev, training):
        """Section 4 of the reference article, as written (see `VARIANTS["article"]`)."""
        σ, tanh = self.recurrent_activation, self.activation
        (x,), (h_prev,) = self._dropped(x, h_prev, training)

        def linear(*terms):  # Σ a @ W (+ b)
            *products, bias = terms
            total = sum(ops.matmul(a, w) for a, w in products)
            return total if bias is None else total + bias

        # h_t = tanh(W_hx x_t + W_hh h_{t-1} + b_h)         a plain RNN update: no gate in it
        h = tanh(linear((x, self.W_hx), (h_prev, self.W_hh), self.b_h))
        # f = σ(W_cx x_t + W_cc C_{t-1} + b_c)              reads C_{t-1}, not h_{t-1}
        f = σ(linear((x, self.W_cx), (c_prev, self.W_cc), self.b_c))
        # i = σ(W_ix x_t + W_ic C_{t-1} + b_i)              reads C_{t-1}, not h_{t-1}
        i = σ(linear((x, self.W_ix), (c_prev, self.W_ic), self.b_i))
        # C_t = f ⊙ C_{t-1} + i ⊙ tanh(W_hx x_t + W_hh h_{t-1} + b_h)   the candidate is h_t
        c = f * c_prev + i * h
        # o_t = σ(W_co C_t + W_ch h_t + b_o)                the output; it gates nothing
        o = σ(linear((c, self.W_co), (h, self.W_ch), self.b_o))

        return {"i": i, "f": f, "g": h, "o": o, "c": c, "h": h, "output": o}

    def call(self, inputs, states, training=False):
        step = self.step(inputs, states, training)
        return step["output"], [step["h"], step["c"]]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, d), dtype=self.compute_dtype) for d in self.state_size]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "peephole_initializer": initializers.serialize(self.peephole_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "variant": self.variant,
        }
        return {**super().get_config(), **config}
