"""Speed without other numbers: `jit_compile: auto` and `steps_per_execution: auto`
(`lstm_app.training.speed`), one dataset iterator for a whole fit (epoch ranges), and each
epoch's validation pass in one call (`lstm_app.training.validation`)."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_config_dict

from lstm_app.config.load import config_from_dict
from lstm_app.config.validate import ConfigError
from lstm_app.data.prepare import prepare_data
from lstm_app.data.windows import all_windows, make_dataset
from lstm_app.models import inference
from lstm_app.training import fit as fit_module
from lstm_app.training.fit import fit_model, new_model, with_speed_options
from lstm_app.training.speed import (
    AUTO_STEPS,
    XLA_MAX_STEPS,
    XLA_MIN_BATCHES,
    auto_steps,
    speed_options,
)
from lstm_app.training.validation import held_validation


def test_auto_steps_divide_a_short_epoch_and_stop_at_eight():
    assert auto_steps(1) == 1  # the article: one batch an epoch
    assert [auto_steps(n) for n in (2, 4, 6, 12, 16, 63)] == [2, 4, 6, 6, 8, 7]
    assert auto_steps(13) == 1  # a prime above 8: one step, one iterator for the fit
    assert auto_steps(219) == auto_steps(10_000) == auto_steps(None) == AUTO_STEPS


def test_xla_is_chosen_only_for_a_long_fit_of_a_short_fused_window():
    many = XLA_MIN_BATCHES  # batches * epochs
    args = dict(window=XLA_MAX_STEPS, batches=many // 10, epochs=10, fused=True, gpu=False)
    assert speed_options("auto", "auto", **args) == (True, AUTO_STEPS)
    assert speed_options("auto", 1, **{**args, "epochs": 9})[0] is False  # too few batches
    assert speed_options("auto", 1, **{**args, "window": XLA_MAX_STEPS + 1})[0] is False
    assert speed_options("auto", 1, **{**args, "fused": False})[0] is False
    assert speed_options("auto", 1, **{**args, "gpu": True})[0] is False
    assert speed_options("auto", 1, **{**args, "window": None})[0] is False
    # what the config says is kept
    assert speed_options(False, 3, **args) == (False, 3)
    assert speed_options(True, "auto", **{**args, "gpu": True}) == (True, AUTO_STEPS)


def test_the_config_takes_auto_true_false_and_numbers():
    raw = tiny_config_dict()
    cfg = config_from_dict(raw)
    assert (cfg.training.jit_compile, cfg.training.steps_per_execution) == ("auto", "auto")
    cfg = config_from_dict({**raw, "training": {"jit_compile": True, "steps_per_execution": 3}})
    assert (cfg.training.jit_compile, cfg.training.steps_per_execution) == (True, 3)
    with pytest.raises(
        ConfigError, match=r"training.jit_compile: expected true or false, or 'auto'"
    ):
        config_from_dict({**raw, "training": {"jit_compile": "yes"}})
    with pytest.raises(ConfigError, match=r"steps_per_execution: expected an integer >= 1, or 'a"):
        config_from_dict({**raw, "training": {"steps_per_execution": 0}})


def test_auto_is_resolved_from_the_data_before_compiling():
    cfg = config_from_dict(tiny_config_dict(training={"epochs": 2, "batch_size": 64}))
    data = prepare_data(cfg.data, cfg.seed)
    batches = -(-data.splits["train"].n_windows // 64)
    resolved = with_speed_options(cfg, data).training
    assert resolved.steps_per_execution == auto_steps(batches)
    assert resolved.jit_compile is False  # two epochs of a few batches: compiling would not pay
    model = new_model(cfg, data)  # compiled as Keras would: its forecasts, its saved config
    assert model.steps_per_execution == 1 and model.jit_compile is False
    unfused = dataclasses.replace(resolved, fused=False)
    trainee = fit_module.training_model(model, unfused)  # a twin: the same layers
    assert trainee is not model and trainee.steps_per_execution == auto_steps(batches)
    assert [w.path for w in trainee.weights] == [w.path for w in model.weights]
    ones = dataclasses.replace(unfused, steps_per_execution=1)
    assert fit_module.training_model(model, ones) is model
    distributed = config_from_dict(
        tiny_config_dict(training={"distribute": {"strategy": "mirrored"}})
    )
    assert with_speed_options(distributed, data).training.steps_per_execution == 1


def _epochs_apart(split, **keys):
    """The targets of epochs 2, 3 and 4, each from its own dataset."""
    return [
        y.numpy() for e in (2, 3, 4) for _, y in make_dataset(split, 16, epoch=e, seed=5, **keys)
    ]


@pytest.mark.parametrize("keys", [{"shuffle": True}, {"shuffle": False}, {"windows_per_series": 7}])
def test_a_range_of_epochs_gives_each_epochs_batches_in_turn(keys):
    cfg = config_from_dict(tiny_config_dict())
    split = prepare_data(cfg.data, cfg.seed).splits["train"]
    together = make_dataset(split, 16, epoch=range(2, 5), seed=5, **keys)
    apart = _epochs_apart(split, **keys)
    assert int(together.cardinality()) == len(apart)
    got = [y.numpy() for _, y in together]
    assert len(got) == len(apart)
    for a, b in zip(got, apart, strict=True):
        np.testing.assert_array_equal(a, b)


def test_all_windows_are_the_batches_joined():
    cfg = config_from_dict(tiny_config_dict())
    split = prepare_data(cfg.data, cfg.seed).splits["val"]
    inputs, targets = all_windows(split)
    batches = list(make_dataset(split, 16))
    np.testing.assert_array_equal(inputs.numpy(), np.concatenate([x for x, _ in batches]))
    np.testing.assert_array_equal(targets.numpy(), np.concatenate([y for _, y in batches]))


def _history(cfg, data, monkeypatch, one_iterator: bool):
    if not one_iterator:
        monkeypatch.setattr(fit_module, "one_iterator", lambda *args: False)
    _, history = fit_model(cfg, data, [], verbose=0)
    monkeypatch.undo()
    return history


@pytest.mark.parametrize("batch_size", [64, 16])  # one val batch, and two (a while_loop)
def test_one_iterator_and_held_validation_keep_the_losses(monkeypatch, batch_size):
    """The fast path (one iterator, the validation pass in one call, auto steps) against
    Keras's own loop with an iterator per epoch and a step per call: the same losses."""
    raw = tiny_config_dict(training={"epochs": 4, "batch_size": batch_size})
    cfg = config_from_dict(raw)
    data = prepare_data(cfg.data, cfg.seed)
    assert fit_module.one_iterator(cfg, data, 0, several=False)
    fast = _history(cfg, data, monkeypatch, one_iterator=True)
    plain = config_from_dict({**raw, "training": {**raw["training"], "steps_per_execution": 1}})
    slow = _history(plain, data, monkeypatch, one_iterator=False)
    assert set(fast) == set(slow) == {"loss", "val_loss"}
    np.testing.assert_allclose(fast["loss"], slow["loss"], rtol=1e-5)
    np.testing.assert_allclose(fast["val_loss"], slow["val_loss"], rtol=1e-5)
    assert fast["loss"][0] != fast["loss"][-1]  # it trained


def test_held_validation_serves_fit_alone_and_calls_the_test_hooks():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mean_squared_error")
    x = np.random.default_rng(0).normal(size=(50, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    val = (x[:20], y[:20])
    hooks = []

    class Hooks(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            hooks.append("begin")

        def on_test_end(self, logs=None):
            hooks.append(logs["loss"])

    expected = model.evaluate(*val, batch_size=8, verbose=0)  # Keras's own, before fitting
    with held_validation(model, tf.constant(val[0]), tf.constant(val[1]), batch_size=8):
        assert model.evaluate(*val, batch_size=8, verbose=0) == pytest.approx(expected)
        history = model.fit(
            x, y, batch_size=8, epochs=3, validation_data=val, callbacks=[Hooks()], verbose=0
        )
    assert "evaluate" not in vars(model)  # Keras's own method again
    assert hooks[0::2] == ["begin"] * 3
    np.testing.assert_allclose(hooks[1::2], history.history["val_loss"])
    after = model.evaluate(*val, batch_size=8, verbose=0)
    assert after == pytest.approx(history.history["val_loss"][-1], rel=1e-5)


def test_resolved_options_are_a_config_like_any_other():
    cfg = config_from_dict(tiny_config_dict(training={"jit_compile": False}))
    data = prepare_data(cfg.data, cfg.seed)
    resolved = with_speed_options(cfg, data)
    assert with_speed_options(resolved, data) is resolved  # nothing left to choose
    assert dataclasses.replace(
        resolved.training, steps_per_execution="auto"
    ) == dataclasses.replace(cfg.training, steps_per_execution="auto")


def test_forecasts_do_not_depend_on_the_predict_batch():
    """`forecast` sends 1,024 windows at a time (`predict_batch`): each window's forecast is
    the one a batch of 64 gives."""
    cfg = config_from_dict(tiny_config_dict(training={"epochs": 1}))
    data = prepare_data(cfg.data, cfg.seed)
    model, _ = fit_model(cfg, data, [], verbose=0)
    split = data.splits["train"]
    assert inference.predict_batch(64) == inference.PREDICT_BATCH > split.n_windows
    by_64 = data.to_original_units(split, model.predict(make_dataset(split, 64), verbose=0))
    np.testing.assert_allclose(inference.forecast(model, data, split, 64), by_64, rtol=1e-6)
