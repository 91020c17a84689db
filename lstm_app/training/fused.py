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

from dataclasses import dataclass, field
from typing import Any

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


def _add(a, b):
    """`a + b`, where None stands for zeros (not both None)."""
    if a is None:
        return b
    return a if b is None else a + b


# What the forward pass keeps of every step of every layer, in `_Layer.kept`.
_KEPT = ("h", "c", "tanh_c", "i", "f", "g", "o")


@dataclass
class _Layer:
    """One layer of the stack while `lstm_stack` runs it: its weights, what the forward pass
    keeps of every step, and the state carried from step to step, forwards then backwards.

    `u` is the layer's units, `input_dim` the width of what it reads: the sequences' features
    for the bottom layer, the units of the layer below above it. None stands for zeros.
    """

    kernel: Any  # W `(input_dim, 4u)`
    recurrent_kernel: Any  # U `(u, 4u)`
    bias: Any  # b `(4u,)`
    bottom: bool  # its x_t W + b comes computed for the whole window, from `lstm_stack`
    joint: Any = None  # [W; U] `(input_dim + u, 4u)`, above the bottom layer
    # forward: lists over time, `(batch, u)` each, keyed by `_KEPT`; h_{t-1} and c_{t-1}
    kept: dict = field(default_factory=lambda: {key: [] for key in _KEPT})
    h: Any = None
    c: Any = None
    # backward: `_backward_factors`' `(a, d)`; what dz_t is multiplied by to go back, U^T for
    # the bottom layer, [W; U]^T above it; the dh_t and dc_t that came back from step t + 1;
    # dz_t `(batch, 4u)` from the last step back
    gate_factors: list | None = None
    cell_factors: list | None = None
    back_matrix: Any = None
    dh_next: Any = None
    dc_next: Any = None
    dz: list = field(default_factory=list)


def _forward_step(layer, step_input):
    """One time step of one layer: z_t, the gates, c_t and h_t. Keeps them in `layer.kept`
    and carries h_t, c_t on to the next step.

    Args:
        layer: a `_Layer`, its `h` and `c` those of step t - 1.
        step_input: for the bottom layer its x_t W + b `(batch, 4u)`, above it the h_t of the
            layer below `(batch, input_dim)`.

    Returns:
        h_t `(batch, u)`, the step input of the layer above.
    """
    if layer.bottom:
        z = step_input
        if layer.h is not None:
            z = step_input + ops.matmul(layer.h, layer.recurrent_kernel)
    elif layer.h is None:
        z = ops.matmul(step_input, layer.kernel) + layer.bias
    else:
        z = ops.matmul(ops.concatenate([step_input, layer.h], axis=-1), layer.joint) + layer.bias
    i, f, g, o = ops.split(z, 4, axis=-1)
    i, f, g, o = ops.sigmoid(i), ops.sigmoid(f), ops.tanh(g), ops.sigmoid(o)
    layer.c = i * g if layer.c is None else f * layer.c + i * g
    tanh_c = ops.tanh(layer.c)
    layer.h = o * tanh_c
    for key, value in zip(_KEPT, (layer.h, layer.c, tanh_c, i, f, g, o), strict=True):
        layer.kept[key].append(value)
    return layer.h


def _start_backward(layers):
    """Readies every `_Layer` for a backward pass: its factors for every step, its matrix to go
    back by, no gradient carried yet."""
    for layer in layers:
        layer.gate_factors, layer.cell_factors = _backward_factors(layer.kept)
        layer.dh_next = layer.dc_next = None
        layer.dz = []
    for layer in layers:
        layer.back_matrix = ops.transpose(layer.recurrent_kernel if layer.bottom else layer.joint)


def _backward_step(layer, t, dh_from_above):
    """One time step of one layer backwards: dz_t from dh_t and dc_t, then the gradients that go
    to the layer below and to step t - 1. Appends dz_t to `layer.dz`, carries dh and dc on.

    Args:
        layer: a `_Layer` after `_start_backward`, its `dh_next` and `dc_next` from step t + 1.
        t: the step.
        dh_from_above: the gradient of h_t from the layer above, or for the top layer from the
            output, `(batch, u)`.

    Returns:
        The gradient of the h_t of the layer below, `(batch, input_dim)`; None for the bottom
        layer (the gradient of its input is computed for the whole window, from dz).
    """
    dh = _add(dh_from_above, layer.dh_next)
    dc = _add(layer.dc_next, dh * layer.cell_factors[t])
    dz = ops.concatenate([dc, dc, dc, dh], axis=-1) * layer.gate_factors[t]
    layer.dz.append(dz)
    layer.dc_next = dc * layer.kept["f"][t]
    if layer.bottom:
        layer.dh_next = ops.matmul(dz, layer.back_matrix) if t else None
        return None
    input_dim = ops.shape(layer.kernel)[0]
    dh_below, layer.dh_next = ops.split(ops.matmul(dz, layer.back_matrix), [input_dim], axis=-1)
    return dh_below


def _weight_gradients(inputs, h, dz):
    """dW, dU and db of one layer over the whole window, one matmul each.

    Args:
        inputs: what the layer read, `(batch, time, input_dim)`.
        h: its h_t at every step, `(batch, time, u)`.
        dz: its dz_t at every step, `(batch, time, 4u)`.

    Returns:
        `[dW, dU, db]`: `(input_dim, 4u)`, `(u, 4u)`, `(4u,)`.
    """
    h_prev = ops.pad(h[:, :-1], ((0, 0), (1, 0), (0, 0)))  # h_0 = 0
    flat_dz = _flat(dz)
    return [
        ops.matmul(ops.transpose(_flat(inputs)), flat_dz),  # dW = X^T dZ
        ops.matmul(ops.transpose(_flat(h_prev)), flat_dz),  # dU = H_{t-1}^T dZ
        ops.sum(flat_dz, axis=0),  # db = Σ dZ
    ]


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
        layers = [
            _Layer(*flat_weights[k : k + 3], bottom=k == 0) for k in range(0, len(flat_weights), 3)
        ]
        # the bottom layer's x_t W_1 + b_1 for every step in one matmul; above it, [W_k; U_k]
        bottom, top = layers[0], layers[-1]
        projected = ops.unstack(ops.matmul(x, bottom.kernel) + bottom.bias, axis=1)
        for layer in layers[1:]:
            layer.joint = ops.concatenate([layer.kernel, layer.recurrent_kernel], axis=0)
        steps = len(projected)
        for t in range(steps):
            step_input = projected[t]
            for layer in layers:
                step_input = _forward_step(layer, step_input)
        output = ops.stack(top.kept["h"], axis=1) if return_sequences else top.h

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            if return_sequences:
                dh_output = ops.unstack(upstream, axis=1)
            else:  # only the top layer's last h reached the output
                dh_output = [None] * (steps - 1) + [upstream]
            _start_backward(layers)
            for t in reversed(range(steps)):
                dh_from_above = dh_output[t]
                for layer in reversed(layers):
                    dh_from_above = _backward_step(layer, t, dh_from_above)
            grads, layer_inputs = [], x
            for layer in layers:
                dz = ops.stack(layer.dz[::-1], axis=1)  # (batch, time, 4u)
                h = ops.stack(layer.kept["h"], axis=1)
                grads += _weight_gradients(layer_inputs, h, dz)
                if layer.bottom:
                    dx = ops.matmul(dz, ops.transpose(layer.kernel))
                layer_inputs = h
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
