"""GateLSTM against keras.layers.LSTM (same weights, same numbers), its variants against plain
numpy versions of their equations, and its serialization."""

import itertools
import subprocess
import sys
import typing

import keras
import numpy as np
import pytest
import tensorflow as tf

from lstm_app.config.schema import GateVariant
from lstm_app.models.layers import VARIANTS, GateLSTM, GateLSTMCell

UNITS, STEPS, FEATURES = 5, 7, 3


def _inputs(batch=4, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, STEPS, FEATURES)).astype("float32")


def _mask(batch=4):
    mask = np.ones((batch, STEPS), bool)
    mask[1, 5:] = False  # right-padded
    mask[2, :2] = False  # left-padded
    mask[3, 3] = False  # a hole
    return mask


def _pair(seed=1, batch_size=None, **options):
    """A built-in LSTM and a GateLSTM with the same options and the built-in's weights."""
    builtin = keras.layers.LSTM(UNITS, use_cudnn=False, seed=seed, **options)
    gate = GateLSTM(UNITS, seed=seed, **options)
    shape = (batch_size, STEPS, FEATURES)
    builtin.build(shape)
    gate.build(shape)
    weights = builtin.get_weights()
    if len(weights) == 3:  # a bias worth copying: not zeros and ones
        weights[2] = np.random.default_rng(seed).normal(size=weights[2].shape)
    builtin.set_weights(weights)
    gate.set_weights(weights)
    return builtin, gate


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _assert_same_outputs(a, b, atol=1e-5):
    a, b = _as_list(a), _as_list(b)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol, rtol=0)


GRID = list(itertools.product([False, True], repeat=5))


@pytest.mark.parametrize(
    ("return_sequences", "return_state", "go_backwards", "masked", "unroll"), GRID
)
def test_equals_builtin_lstm_over_the_option_grid(
    return_sequences, return_state, go_backwards, masked, unroll
):
    options = dict(
        return_sequences=return_sequences,
        return_state=return_state,
        go_backwards=go_backwards,
        unroll=unroll,
    )
    builtin, gate = _pair(**options)
    x, mask = _inputs(), (_mask() if masked else None)
    _assert_same_outputs(builtin(x, mask=mask), gate(x, mask=mask))


@pytest.mark.parametrize(
    "options",
    [
        {"activation": "relu", "recurrent_activation": "hard_sigmoid"},
        {"activation": "softsign", "recurrent_activation": "tanh"},
        {"use_bias": False},
        {"unit_forget_bias": False, "bias_initializer": "random_normal"},
        {"kernel_regularizer": "l2", "recurrent_regularizer": "l1", "bias_regularizer": "l2"},
    ],
    ids=["relu", "softsign", "no_bias", "no_unit_forget_bias", "regularizers"],
)
def test_equals_builtin_lstm_with_other_arguments(options):
    builtin, gate = _pair(return_sequences=True, **options)
    x = _inputs()
    _assert_same_outputs(builtin(x), gate(x))
    np.testing.assert_allclose(float(sum(builtin.losses)), float(sum(gate.losses)), rtol=1e-6)


def test_weights_have_the_builtin_layout_and_copy_both_ways():
    gate = GateLSTM(UNITS)
    gate.build((None, STEPS, FEATURES))
    assert [w.shape for w in gate.get_weights()] == [
        (FEATURES, 4 * UNITS),
        (UNITS, 4 * UNITS),
        (4 * UNITS,),
    ]
    np.testing.assert_array_equal(gate.get_weights()[2][UNITS : 2 * UNITS], 1.0)  # forget bias
    builtin = keras.layers.LSTM(UNITS, use_cudnn=False)
    builtin.build((None, STEPS, FEATURES))
    builtin.set_weights(gate.get_weights())
    x = _inputs()
    _assert_same_outputs(builtin(x), gate(x))


def test_stateful_layers_agree_across_two_calls():
    builtin, gate = _pair(stateful=True, return_sequences=True, batch_size=4)
    first, second = _inputs(seed=1), _inputs(seed=2)
    _assert_same_outputs(builtin(first), gate(first))
    carried = gate(second)  # starts from the states the first call ended with
    _assert_same_outputs(builtin(second), carried)
    stateless = GateLSTM(UNITS, return_sequences=True)
    stateless.build((4, STEPS, FEATURES))
    stateless.set_weights(gate.get_weights())
    assert not np.allclose(np.asarray(stateless(second)), np.asarray(carried))


@pytest.mark.parametrize("recurrent_dropout", [0.0, 0.3])
def test_dropout_masks_match_the_builtin_in_training(recurrent_dropout):
    builtin, gate = _pair(dropout=0.4, recurrent_dropout=recurrent_dropout, return_sequences=True)
    x = _inputs()
    trained = gate(x, training=True)
    _assert_same_outputs(builtin(x, training=True), trained)
    assert not np.allclose(np.asarray(trained), np.asarray(gate(x, training=False)))


@pytest.mark.parametrize("masked", [False, True])
def test_gradients_agree_for_inputs_and_weights(masked):
    builtin, gate = _pair(return_sequences=True)
    x = tf.constant(_inputs())
    mask = _mask() if masked else None
    target = np.random.default_rng(3).normal(size=(4, STEPS, UNITS)).astype("float32")

    def gradients(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_mean((layer(x, mask=mask) - target) ** 2)
        return tape.gradient(loss, [x, *layer.trainable_variables])

    for a, b in zip(gradients(builtin), gradients(gate), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-4, rtol=1e-4)


def _article_model(layer_class, **options):
    return keras.Sequential(
        [
            keras.Input((None, 1)),
            layer_class(50, return_sequences=True, **options),
            layer_class(50, **options),
            keras.layers.Dense(1),
        ]
    )


def test_five_epochs_of_training_give_the_same_loss_curve():
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(400) / 6.0) + 0.1 * rng.normal(size=400)
    x = np.lib.stride_tricks.sliding_window_view(series[:-1], 12)[:, :, None].astype("float32")
    y = series[12:, None].astype("float32")
    keras.utils.set_random_seed(0)
    builtin = _article_model(keras.layers.LSTM, use_cudnn=False)
    gate = _article_model(GateLSTM)
    gate.set_weights(builtin.get_weights())
    losses = []
    for model in (builtin, gate):
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mean_squared_error")
        history = model.fit(x, y, epochs=5, batch_size=64, shuffle=False, verbose=0)
        losses.append(history.history["loss"])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    assert losses[0][-1] < losses[0][0]  # it did learn


# --------------------------------------------------------------------------------------------
# variants, each against its equations written here in numpy

LAYOUT = {  # the gates with weights, in kernel column order, as documented
    "vanilla": "ifco",
    "peephole": "ifco",
    "cifg": "ico",
    "no_input_gate": "fco",
    "no_forget_gate": "ico",
    "no_output_gate": "ifc",
    "no_input_activation": "ifco",
    "no_output_activation": "ifco",
}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _numpy_step(cell, x, h, c):
    """One step of `cell.variant`'s equations in numpy; returns (output, h_t, c_t)."""
    w = {v.name: np.asarray(v) for v in cell.weights}
    if cell.variant == "article":
        h_t = np.tanh(x @ w["W_hx"] + h @ w["W_hh"] + w["b_h"])
        f = _sigmoid(x @ w["W_cx"] + c @ w["W_cc"] + w["b_c"])
        i = _sigmoid(x @ w["W_ix"] + c @ w["W_ic"] + w["b_i"])
        c_t = f * c + i * np.tanh(x @ w["W_hx"] + h @ w["W_hh"] + w["b_h"])
        o = _sigmoid(c_t @ w["W_co"] + h_t @ w["W_ch"] + w["b_o"])
        return o, h_t, c_t
    names = LAYOUT[cell.variant]
    n = len(names)
    W = dict(zip(names, np.split(w["kernel"], n, axis=1), strict=True))
    U = dict(zip(names, np.split(w["recurrent_kernel"], n, axis=1), strict=True))
    b = dict(zip(names, np.split(w["bias"], n), strict=True))
    z = {k: x @ W[k] + h @ U[k] + b[k] for k in names}
    peep = cell.variant == "peephole"
    i = 1.0 if "i" not in z else _sigmoid(z["i"] + (w["peephole_i"] * c if peep else 0))
    if cell.variant == "cifg":
        f = 1 - i
    else:
        f = 1.0 if "f" not in z else _sigmoid(z["f"] + (w["peephole_f"] * c if peep else 0))
    g = z["c"] if cell.variant == "no_input_activation" else np.tanh(z["c"])
    c_t = f * c + i * g
    o = 1.0 if "o" not in z else _sigmoid(z["o"] + (w["peephole_o"] * c_t if peep else 0))
    h_t = o * c_t if cell.variant == "no_output_activation" else o * np.tanh(c_t)
    return h_t, h_t, c_t


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_one_step_of_each_variant_follows_its_equations(variant):
    rng = np.random.default_rng(4)
    cell = GateLSTMCell(UNITS, variant=variant)
    cell.build((None, FEATURES))
    for weight in cell.weights:  # nothing zero, so every term counts
        weight.assign(rng.normal(scale=0.5, size=weight.shape))
    x = rng.normal(size=(6, FEATURES)).astype("float32")
    h, c = (rng.normal(size=(6, UNITS)).astype("float32") for _ in range(2))
    output, (h_t, c_t) = cell(x, [h, c])
    expected = _numpy_step(cell, x, h, c)
    for got, want in zip((output, h_t, c_t), expected, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-5)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_each_variant_has_the_documented_weights(variant):
    cell = GateLSTMCell(UNITS, variant=variant)
    cell.build((None, FEATURES))
    names = {w.name: tuple(w.shape) for w in cell.weights}
    if variant == "article":
        assert set(names) == {
            "W_hx",
            "W_hh",
            "W_cx",
            "W_cc",
            "W_ix",
            "W_ic",
            "W_co",
            "W_ch",
            "b_h",
            "b_c",
            "b_i",
            "b_o",
        }
        assert names["W_hx"] == (FEATURES, UNITS) and names["W_co"] == (UNITS, UNITS)
        return
    n = len(LAYOUT[variant])
    assert names["kernel"] == (FEATURES, n * UNITS)
    assert names["recurrent_kernel"] == (UNITS, n * UNITS)
    peepholes = {"peephole_i", "peephole_f", "peephole_o"}
    assert (peepholes <= set(names)) == (variant == "peephole")


def test_config_schema_lists_every_variant():
    assert typing.get_args(GateVariant) == tuple(VARIANTS)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"units": 0}, "argument `units`, expected a positive integer, got 0"),
        ({"units": 4, "variant": "gru"}, "argument `variant`, expected one of vanilla, "),
        ({"units": 4, "dropout": 1.5}, "argument `dropout`, expected a float between 0 and 1"),
    ],
)
def test_bad_arguments_are_refused_naming_the_value(arguments, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        GateLSTM(**arguments)


# --------------------------------------------------------------------------------------------
# serialization and export


def test_config_round_trips():
    layer = GateLSTM(
        7,
        variant="peephole",
        dropout=0.1,
        return_sequences=True,
        go_backwards=True,
        kernel_regularizer="l2",
        seed=3,
    )
    config = layer.get_config()
    again = GateLSTM.from_config(config)
    assert again.get_config() == config
    assert (again.units, again.variant, again.go_backwards) == (7, "peephole", True)


@pytest.mark.parametrize("variant", ["vanilla", "peephole", "article"])
def test_model_saves_to_keras_file_and_loads_back(tmp_path, variant):
    model = keras.Sequential(
        [
            keras.Input((None, FEATURES)),
            GateLSTM(UNITS, variant=variant, return_sequences=True),
            GateLSTM(UNITS, variant=variant),
            keras.layers.Dense(1),
        ]
    )
    x = _inputs()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[0], GateLSTM) and loaded.layers[0].variant == variant
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.slow
def test_exported_saved_model_serves_without_lstm_app(tmp_path):
    model = _article_model(GateLSTM)
    x = _inputs()[:, :, :1]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", model.predict(x, verbose=0))
    model.export(str(tmp_path / "served"), verbose=False)
    script = f"""
import sys
sys.modules["lstm_app"] = None  # any import of lstm_app now fails
import numpy as np, tensorflow as tf
served = tf.saved_model.load({str(tmp_path / "served")!r})
x = np.load({str(tmp_path / "x.npy")!r})
got = served.serve(tf.constant(x)).numpy()
np.testing.assert_allclose(got, np.load({str(tmp_path / "expected.npy")!r}), atol=1e-5)
print("served", got.shape, "lstm_app" in sys.modules and sys.modules["lstm_app"] is None)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "served (4, 1) True" in done.stdout
