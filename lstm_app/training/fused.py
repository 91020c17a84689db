"""Fused training of stacked LSTM layers: the same numbers in less time (`training.fused`).

`keras.layers.LSTM` runs its cell in a `while` loop, layer after layer: the second layer starts
once the first has seen the whole window, and backwards, the loop's gradient multiplies by both
kernels and adds up both kernels' gradients at every step. On a CPU, with the article's small
matrices (batch 64, 50 units), each of those operations costs more in dispatch than in
arithmetic. `FusedLSTM` computes a run of stacked LSTM layers in one graph over time:

    forward   X W_1 + b_1 for the whole window in one matmul; then, step by step, every layer:
              layer 1:  z_t = xw_t + h_{t-1} U_1
              layer k:  z_t = [h^{k-1}_t, h_{t-1}] [W_k; U_k] + b_k      (one matmul)
    backward  step by step, from the top layer down, only what the recurrence needs:
              dz_t from dh_t and dc_t (the gates' derivatives precomputed for every step),
              [dh^{k-1}_t, dh_{t-1}] = dz_t [W_k; U_k]^T                  (one matmul)
              then, once per layer, one matmul each: dW = X^T dZ, dU = H_{t-1}^T dZ, db = Σ dZ

Layer k at step t and layer k-1 at step t+1 depend on nothing of each other, so TensorFlow's
executor runs them side by side: two cores work on the two layers of the article's model (a
wavefront), where the `while` loops kept one of them idle.

Same equations as `keras.layers.LSTM` (tanh and sigmoid, kernel columns `[i | f | c | o]`,
zero initial states); the sums run in another order, so the numbers agree to float32 rounding
(`tests/test_fused.py`: outputs to 1e-5, gradients to 1e-4, losses after five epochs to 1e-4
relative). The loop is unrolled over the window's steps, so it needs a window length known
when the training step is traced (`lstm-train`'s windows have one) and at most `MAX_STEPS`;
otherwise, and for layers it cannot compute (see `fusable`), the layers run as they are.

It is a way of training, not a model format: `fuse(model)` returns a twin of a Sequential model
that holds *the same layer objects* (the same variables), its stacked LSTM layers run by
`FusedLSTM`. Training the twin trains the model; the model that is saved, evaluated and
exported is the plain one, so nothing downstream knows fusion happened.

    twin = fuse(model)            # None when no layer can be fused
    twin.compile(optimizer=model.optimizer, loss=model.loss)
    twin.fit(...)                 # trains model's own variables
"""

import keras
from keras import ops

from lstm_app.models.layers import GateLSTM

# The longest window trained fused. The loop over time is unrolled when the training step is
# traced, and tracing grows with the steps (2 cores: about 10 s at 120 steps, 50 s
# at 480, several minutes with XLA); longer windows run the layers as they are.
MAX_STEPS = 128


def fusable(layer) -> bool:
    """Whether `layer` computes exactly the LSTM that `FusedLSTM` computes: the built-in LSTM
    or a vanilla GateLSTM, with tanh and sigmoid, biases, no dropout, no regularizer, read
    forwards, not stateful, not returning its states."""
    if isinstance(layer, GateLSTM):
        if layer.cell.variant != "vanilla":
            return False
    elif type(layer) is not keras.layers.LSTM:
        return False
    cell = layer.cell
    return (
        cell.activation is keras.activations.tanh
        and cell.recurrent_activation is keras.activations.sigmoid
        and cell.use_bias
        and cell.dropout == 0
        and cell.recurrent_dropout == 0
        and cell.kernel_regularizer is None
        and cell.recurrent_regularizer is None
        and cell.bias_regularizer is None
        and layer.activity_regularizer is None
        and not layer.go_backwards
        and not layer.stateful
        and not layer.return_state
    )


def _backward_factors(kept):
    """What each backward step multiplies by, for every step at once.

    Args:
        kept: the forward pass's lists over time of `i, f, g, o, c, tanh_c`, `(batch, u)` each.

    Returns:
        `(a, d)`, lists over time: `a_t` `(batch, 4u)` with `dz_t = [dc, dc, dc, dh] ⊙ a_t`, and
        `d_t` `(batch, u)` with `dc_t = dc_{t+1} ⊙ f_{t+1} + dh ⊙ d_t`.
    """
    i, f, g, o, c, tanh_c = (
        ops.stack(kept[k], axis=1) for k in ("i", "f", "g", "o", "c", "tanh_c")
    )  # (batch, time, u) each
    c_prev = ops.pad(c[:, :-1], ((0, 0), (1, 0), (0, 0)))  # c_0 = 0
    a = ops.concatenate(
        [
            g * i * (1 - i),  # dz_i = dc ⊙ g ⊙ σ'
            c_prev * f * (1 - f),  # dz_f = dc ⊙ c_{t-1} ⊙ σ'
            i * (1 - g * g),  # dz_c = dc ⊙ i ⊙ tanh'
            tanh_c * o * (1 - o),  # dz_o = dh ⊙ tanh(c_t) ⊙ σ'
        ],
        axis=-1,
    )
    d = o * (1 - tanh_c * tanh_c)  # dc += dh ⊙ o ⊙ tanh'(c_t)
    return ops.unstack(a, axis=1), ops.unstack(d, axis=1)


def _flat(a):
    """`(batch, time, n)` -> `(batch * time, n)`."""
    return ops.reshape(a, (-1, ops.shape(a)[-1]))


def lstm_stack(inputs, weights, return_sequences=False):
    """Stacked standard LSTM layers with zero initial states, differentiated as in the module
    docstring.

    Args:
        inputs: `(batch, time, input_dim)`, `time` known.
        weights: `[kernel, recurrent_kernel, bias]` of each layer, bottom first, as the built-in
            layer holds them: `(input_dim, 4u)`, `(u, 4u)`, `(4u,)`.
        return_sequences: the top layer's h at every step, else at the last only.

    Returns:
        The top layer's `(batch, time, u)` or `(batch, u)`.
    """

    @ops.custom_gradient
    def run(x, *flat_weights):
        layers = [flat_weights[k : k + 3] for k in range(0, len(flat_weights), 3)]
        n = len(layers)
        # layer 1's input projection for every step in one matmul; layer k's [W_k; U_k]
        xw = ops.unstack(ops.matmul(x, layers[0][0]) + layers[0][2], axis=1)
        joint = [None] + [ops.concatenate([w, u], axis=0) for w, u, _ in layers[1:]]
        steps = len(xw)
        kept = [{k: [] for k in ("h", "c", "tanh_c", "i", "f", "g", "o")} for _ in layers]
        h, c = [None] * n, [None] * n  # h_{t-1}, c_{t-1} of each layer; None: zeros
        for t in range(steps):
            below = None  # h_t of the layer below
            for k, (kernel, recurrent_kernel, bias) in enumerate(layers):
                if k == 0:
                    z = xw[t] if h[k] is None else xw[t] + ops.matmul(h[k], recurrent_kernel)
                elif h[k] is None:
                    z = ops.matmul(below, kernel) + bias
                else:
                    z = ops.matmul(ops.concatenate([below, h[k]], axis=-1), joint[k]) + bias
                i, f, g, o = ops.split(z, 4, axis=-1)
                i, f, g, o = ops.sigmoid(i), ops.sigmoid(f), ops.tanh(g), ops.sigmoid(o)
                c[k] = i * g if c[k] is None else f * c[k] + i * g
                tanh_c = ops.tanh(c[k])
                h[k] = below = o * tanh_c
                for key, value in zip(kept[k], (h[k], c[k], tanh_c, i, f, g, o), strict=True):
                    kept[k][key].append(value)
        output = ops.stack(kept[-1]["h"], axis=1) if return_sequences else h[-1]

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            if return_sequences:
                from_above = ops.unstack(upstream, axis=1)
            else:  # only the top layer's last h reached the output
                from_above = [None] * (steps - 1) + [upstream]
            factors = [_backward_factors(kept[k]) for k in range(n)]
            back = [ops.transpose(layers[0][1])] + [ops.transpose(w) for w in joint[1:]]
            dz = [[] for _ in layers]  # per layer, dz_t from the last step back
            dh_next, dc_next = [None] * n, [None] * n
            for t in reversed(range(steps)):
                dh_above = from_above[t]
                for k in reversed(range(n)):
                    a, d = factors[k]
                    parts = [p for p in (dh_above, dh_next[k]) if p is not None]
                    dh = parts[0] if len(parts) == 1 else parts[0] + parts[1]
                    dc = dh * d[t] if dc_next[k] is None else dc_next[k] + dh * d[t]
                    dz_t = ops.concatenate([dc, dc, dc, dh], axis=-1) * a[t]
                    dz[k].append(dz_t)
                    dc_next[k] = dc * kept[k]["f"][t]
                    if k == 0:
                        dh_next[k] = ops.matmul(dz_t, back[k]) if t else None
                    else:
                        input_dim = ops.shape(layers[k][0])[0]
                        dh_above, dh_next[k] = ops.split(
                            ops.matmul(dz_t, back[k]), [input_dim], axis=-1
                        )
            grads = []
            below = x
            for k, (kernel, _, _) in enumerate(layers):
                d_z = ops.stack(dz[k][::-1], axis=1)  # (batch, time, 4u)
                h_seq = ops.stack(kept[k]["h"], axis=1)
                h_prev = ops.pad(h_seq[:, :-1], ((0, 0), (1, 0), (0, 0)))  # h_0 = 0
                flat_dz = _flat(d_z)
                grads += [
                    ops.matmul(ops.transpose(_flat(below)), flat_dz),  # dW
                    ops.matmul(ops.transpose(_flat(h_prev)), flat_dz),  # dU
                    ops.sum(flat_dz, axis=0),  # db
                ]
                if k == 0:
                    dx = ops.matmul(d_z, ops.transpose(kernel))
                below = h_seq
            return (dx, *grads)

        return output, grad

    return run(inputs, *weights)


@keras.saving.register_keras_serializable(package="lstm_app")
class FusedLSTM(keras.layers.Layer):
    """Runs stacked LSTM layers (each `fusable`) as one: `lstm_stack` on their own variables.

    Args:
        layers: the layers, bottom first, built; all but the last return sequences.

    Call arguments:
        sequences: `(batch, time, input_dim)`; with `time` unknown or above `MAX_STEPS`, the
            layers run one by one, as they are.

    Returns:
        What the last layer returns: `(batch, time, u)` or `(batch, u)`.
    """

    def __init__(self, layers, **kwargs):
        super().__init__(**kwargs)
        layers = list(layers)
        bad = [layer.name for layer in layers if not fusable(layer)]
        if not layers or bad:
            raise ValueError(
                "Received an invalid value for argument `layers`, expected fusable LSTM "
                f"layers, got {bad or layers}."
            )
        if any(not layer.return_sequences for layer in layers[:-1]):
            raise ValueError(
                "Received an invalid value for argument `layers`: every layer but the last "
                "must return sequences."
            )
        self.stacked = layers

    def call(self, sequences, mask=None):
        steps = sequences.shape[1]
        if steps is None or steps > MAX_STEPS or mask is not None:
            for layer in self.stacked:
                sequences = layer(sequences, mask=mask)
            return sequences
        # values read here, outside the custom gradient: it differentiates by tensors
        weights = [
            ops.copy(w)
            for layer in self.stacked
            for w in (layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias)
        ]
        return lstm_stack(sequences, weights, self.stacked[-1].return_sequences)

    def compute_output_shape(self, input_shape):
        for layer in self.stacked:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        layers = [keras.saving.serialize_keras_object(layer) for layer in self.stacked]
        return {**super().get_config(), "layers": layers}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        layers = [keras.saving.deserialize_keras_object(c) for c in config.pop("layers")]
        return cls(layers, **config)


def fuse(model: keras.Model) -> keras.Model | None:
    """A twin of the Sequential `model` for training: the same layer objects, every run of
    consecutive `fusable` LSTM layers inside one `FusedLSTM`. None if there is none.

    Training the twin trains `model`'s variables; its variables come in `model`'s order.
    """
    if not isinstance(model, keras.Sequential):
        return None
    groups, run = [], []
    for layer in model.layers:
        if fusable(layer):
            run.append(layer)
            if not layer.return_sequences:
                groups.append(run)
                run = []
            continue
        groups += [run] if run else []
        groups.append(layer)
        run = []
    groups += [run] if run else []
    if not any(isinstance(group, list) for group in groups):
        return None
    layers = [
        FusedLSTM(group, name="fused_" + "_".join(layer.name for layer in group))
        if isinstance(group, list)
        else group
        for group in groups
    ]
    return keras.Sequential(
        [keras.Input(batch_shape=model.input_shape), *layers], name=f"{model.name}_fused"
    )
