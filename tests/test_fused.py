"""Fused training (`training.fused`, `lstm_app.training.fused`): the numbers of the plain
layers, the model's own variables trained, and the plain model saved."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_config_dict

import lstm_app.training.fused
from lstm_app.config.load import config_from_dict
from lstm_app.data.prepare import prepare_data
from lstm_app.models.build import build_sequential as build_model
from lstm_app.models.layers import GateLSTM
from lstm_app.pipeline import train
from lstm_app.training.fit import BestCheckpoint, compile_model, fit_model, training_model
from lstm_app.training.fused import FusedLSTM, fusable, fuse, lstm_stack


def _stack(units, input_dim, return_sequences, kind=keras.layers.LSTM, seed=0):
    """Built layers of `units`, bottom first, all but the last returning sequences."""
    keras.utils.set_random_seed(seed)
    layers = [
        kind(u, return_sequences=return_sequences or k < len(units) - 1)
        for k, u in enumerate(units)
    ]
    shape = (None, None, input_dim)
    for layer in layers:
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
        # biases away from their initial zeros and ones, so that a wrong bias term shows
        layer.cell.bias.assign(np.random.default_rng(seed).normal(0, 0.5, layer.cell.bias.shape))
    return layers


def _weights(layers):
    return [
        w
        for layer in layers
        for w in (layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias)
    ]


@pytest.mark.parametrize(
    "units, input_dim, return_sequences, kind, steps",
    [
        ([50, 50], 1, False, keras.layers.LSTM, 11),  # the article's stack
        ([7], 3, False, keras.layers.LSTM, 11),
        ([6, 9, 4], 2, True, keras.layers.LSTM, 11),
        ([5, 8], 3, True, GateLSTM, 11),
        ([3, 2], 1, False, keras.layers.LSTM, 1),  # one step: no recurrence at all
    ],
)
def test_fused_stack_gives_the_layers_outputs_and_gradients(
    units, input_dim, return_sequences, kind, steps
):
    layers = _stack(units, input_dim, return_sequences, kind)
    x = tf.constant(np.random.default_rng(1).normal(size=(5, steps, input_dim)), tf.float32)
    # a loss that weighs every output differently, so each gradient entry is tested
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        expected = x
        for layer in layers:
            expected = layer(expected)
        weights = [tf.convert_to_tensor(w) for w in _weights(layers)]
        tape.watch(weights)
        fused = lstm_stack(x, weights, return_sequences)
        loss_expected = tf.reduce_sum(tf.sin(3 * expected))
        loss_fused = tf.reduce_sum(tf.sin(3 * fused))
    assert fused.shape == expected.shape
    np.testing.assert_allclose(fused, expected, rtol=1e-5, atol=1e-6)
    want = tape.gradient(loss_expected, [x, *_weights(layers)])
    got = tape.gradient(loss_fused, [x, *weights])
    for w, g in zip(want, got, strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5 * float(np.abs(w).max()))


@pytest.mark.parametrize(
    "layer, expected",
    [
        (keras.layers.LSTM(4), True),
        (keras.layers.LSTM(4, return_sequences=True, unroll=True), True),
        (GateLSTM(4), True),
        (GateLSTM(4, variant="peephole"), False),
        (keras.layers.LSTM(4, dropout=0.1), False),
        (keras.layers.LSTM(4, recurrent_dropout=0.1), False),
        (keras.layers.LSTM(4, go_backwards=True), False),
        (keras.layers.LSTM(4, activation="relu"), False),
        (keras.layers.LSTM(4, use_bias=False), False),
        (keras.layers.LSTM(4, kernel_regularizer="l2"), False),
        (keras.layers.LSTM(4, return_state=True), False),
        (keras.layers.GRU(4), False),
        (keras.layers.Dense(4), False),
    ],
)
def test_fusable_only_what_lstm_stack_computes(layer, expected):
    assert fusable(layer) is expected


def test_twin_holds_the_model_layers_and_variables_in_order():
    model = keras.Sequential(
        [
            keras.Input((None, 2)),
            keras.layers.LSTM(4, return_sequences=True),
            keras.layers.LSTM(4, return_sequences=True, dropout=0.2),  # not fusable
            GateLSTM(3, return_sequences=True),
            keras.layers.LSTM(5),
            keras.layers.Dense(1),
        ]
    )
    twin = fuse(model)
    kinds = [type(layer).__name__ for layer in twin.layers]
    assert kinds == ["FusedLSTM", "LSTM", "FusedLSTM", "Dense"]
    assert twin.layers[1] is model.layers[1] and twin.layers[3] is model.layers[4]
    assert twin.layers[2].stacked == model.layers[2:4]
    assert len(twin.variables) == len(model.variables)
    assert all(a is b for a, b in zip(twin.variables, model.variables, strict=True))
    x = np.random.default_rng(0).normal(size=(3, 6, 2)).astype("float32")
    np.testing.assert_allclose(twin(x), model(x), rtol=1e-5, atol=1e-6)


def test_nothing_to_fuse_gives_none():
    model = keras.Sequential([keras.Input((None, 1)), keras.layers.GRU(4), keras.layers.Dense(1)])
    assert fuse(model) is None
    cfg = config_from_dict(tiny_config_dict(training={"fused": False}))
    plain = compile_model(build_model(cfg.model, 1), cfg.training)
    assert training_model(plain, cfg.training) is plain  # fused: false
    fused = training_model(plain, config_from_dict(tiny_config_dict()).training)  # the default
    assert [type(layer).__name__ for layer in fused.layers] == ["FusedLSTM", "Dense"]


def test_unknown_or_long_windows_run_the_layers_as_they_are(monkeypatch):
    layers = _stack([4, 3], 2, False)
    fused = FusedLSTM(layers)
    x = np.random.default_rng(0).normal(size=(2, 7, 2)).astype("float32")
    expected = layers[1](layers[0](x))

    def unrolled(*args, **kwargs):
        raise AssertionError("unrolled")

    monkeypatch.setattr(lstm_app.training.fused, "lstm_stack", unrolled)
    run = tf.function(fused, input_signature=[tf.TensorSpec((None, None, 2), tf.float32)])
    np.testing.assert_allclose(run(x), expected, rtol=1e-6)
    monkeypatch.setattr(lstm_app.training.fused, "MAX_STEPS", 6)
    np.testing.assert_allclose(fused(x), expected, rtol=1e-6)
    monkeypatch.setattr(lstm_app.training.fused, "MAX_STEPS", 7)
    with pytest.raises(AssertionError, match="unrolled"):
        fused(x)


def test_fused_layer_arguments_are_checked_and_it_serializes():
    with pytest.raises(ValueError, match="expected fusable LSTM layers"):
        FusedLSTM([keras.layers.LSTM(4, dropout=0.5)])
    with pytest.raises(ValueError, match="but the last must return sequences"):
        FusedLSTM([keras.layers.LSTM(4), keras.layers.LSTM(4)])
    layer = FusedLSTM([keras.layers.LSTM(4, return_sequences=True), GateLSTM(2)], name="f")
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert [type(s) for s in copy.stacked] == [keras.layers.LSTM, GateLSTM]
    assert copy.name == "f" and copy.stacked[1].units == 2


TWO_LAYERS = {
    "data": {"sine": {"length": 400, "period": 16, "amplitude": 50.0, "trend": 0.5, "noise": 1}},
    "model": {
        "layers": [
            {"type": "lstm", "units": 8, "return_sequences": True},
            {"type": "lstm", "units": 8},
            {"type": "dense", "units": 1},
        ]
    },
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "layer, options",
    [
        ("lstm", {}),
        ("gate_lstm", {}),
        ("lstm", {"jit_compile": True, "steps_per_execution": 4}),
    ],
)
def test_fused_training_keeps_the_losses(layer, options):
    """Five epochs fused: the losses of the plain path to 1e-4 relative (the issue's bar)."""
    raw = tiny_config_dict(**TWO_LAYERS, training={"epochs": 5, **options})
    for entry in raw["model"]["layers"][:2]:
        entry["type"] = layer
    losses = []
    for fused in (False, True):
        cfg = config_from_dict({**raw, "training": {**raw["training"], "fused": fused}})
        data = prepare_data(cfg.data, cfg.seed)
        model = compile_model(build_model(cfg.model, data.n_features), cfg.training)
        trainee = training_model(model, cfg.training)
        assert any(isinstance(x, FusedLSTM) for x in trainee.layers) is fused
        _, history = fit_model(cfg, data, [], verbose=0)
        losses.append(history["loss"] + history["val_loss"])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    assert losses[0][0] != losses[0][4]  # it trained


@pytest.mark.slow
def test_fused_run_saves_the_plain_model(tmp_path):
    raw = tiny_config_dict(
        **TWO_LAYERS,
        training={"epochs": 3, "fused": True, "callbacks": {"checkpoint": {"enabled": True}}},
    )
    result = train(config_from_dict(raw), tmp_path / "run", verbose=0)
    for name in ("model.keras", "best.keras"):
        saved = keras.models.load_model(tmp_path / "run" / name)
        assert [type(x).__name__ for x in saved.layers] == ["LSTM", "LSTM", "Dense"], name
    for a, b in zip(saved.get_weights(), result.model.get_weights(), strict=True):
        assert a.shape == b.shape
    trained = keras.models.load_model(tmp_path / "run" / "model.keras")
    for a, b in zip(trained.get_weights(), result.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_that_would_save_the_fused_twin_is_refused(tmp_path):
    """Fitted fused, a BestCheckpoint must be told which model to write (the plain one): else
    it would write the twin, a model no other command can read."""
    cfg = config_from_dict(tiny_config_dict(**TWO_LAYERS, training={"epochs": 1}))
    data = prepare_data(cfg.data, cfg.seed)
    with pytest.raises(ValueError, match="saves=model"):
        fit_model(cfg, data, [BestCheckpoint(tmp_path / "best.keras")], verbose=0)
    assert not (tmp_path / "best.keras").exists()
