"""The Keras internals `lstm_app.keras_compat` relies on are still there: each test fails,
naming the Keras version, when an upgrade moves or renames one of them."""

import keras
import numpy as np
import pytest

from lstm_app import keras_compat
from lstm_app.keras_compat import (
    BEST_WEIGHTS,
    CALLBACK_COUNTERS,
    KERAS_CHECKED,
    callback_best_weights,
    callback_state,
    dropout_rnn_cell_mixin,
    restore_callback_best_weights,
    restore_callback_state,
)
from lstm_app.models.layers import GateLSTM, GateLSTMCell
from lstm_app.training.fit import BestCheckpoint

KERAS = f"Keras {keras.__version__} (lstm_app.keras_compat checked with {', '.join(KERAS_CHECKED)})"

# the mixin's methods: GateLSTMCell calls the first two, keras.layers.RNN the last two
MIXIN_METHODS = (
    "get_dropout_mask",
    "get_recurrent_dropout_mask",
    "reset_dropout_mask",
    "reset_recurrent_dropout_mask",
)


def _callback(name: str, tmp_path):
    """A fresh callback of each class in the tables, as the package builds them."""
    if name == "BestCheckpoint":
        return BestCheckpoint(tmp_path / "best.keras")
    if name == "EarlyStopping":
        return keras.callbacks.EarlyStopping(monitor="loss", restore_best_weights=True)
    return getattr(keras.callbacks, name)(monitor="loss")


def _tiny_model() -> keras.Model:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def _rows():
    x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0]], dtype="float32")


def test_dropout_mixin_is_where_keras_keeps_it():
    mixin = dropout_rnn_cell_mixin()
    path = f"{keras_compat._DROPOUT_MODULE}.{keras_compat._DROPOUT_CLASS}"
    assert mixin.__module__ == keras_compat._DROPOUT_MODULE, (
        f"{KERAS}: {path} has moved to {mixin.__module__} (found as a base of LSTMCell); "
        "update keras_compat._DROPOUT_MODULE"
    )
    assert issubclass(keras.layers.LSTMCell, mixin), (
        f"{KERAS}: keras.layers.LSTMCell no longer mixes in {path}: keras.layers.RNN may now "
        "prepare dropout masks another way; see dropout_rnn_cell_mixin"
    )
    assert issubclass(GateLSTMCell, mixin), f"{KERAS}: GateLSTMCell does not mix in {path}"
    missing = [name for name in MIXIN_METHODS if not callable(getattr(mixin, name, None))]
    assert not missing, f"{KERAS}: {path} no longer provides {missing}"


def test_dropout_mixin_falls_back_to_lstm_cells_base_then_fails_naming_keras(monkeypatch):
    expected = dropout_rnn_cell_mixin()
    monkeypatch.setattr(keras_compat, "_DROPOUT_MODULE", "keras.src.no_such_module")
    assert dropout_rnn_cell_mixin() is expected
    monkeypatch.setattr(keras_compat, "_DROPOUT_CLASS", "NoSuchCell")
    with pytest.raises(ImportError, match=f"Keras {keras.__version__} has no"):
        dropout_rnn_cell_mixin()


def test_rnn_resets_the_dropout_masks_between_calls():
    """keras.layers.RNN draws new masks for every batch only for cells of the mixin: two calls
    in training differ (one mask per call, not one forever)."""
    layer = GateLSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=1)
    x = np.ones((2, 3, 2), dtype="float32")
    first, second = (keras.ops.convert_to_numpy(layer(x, training=True)) for _ in range(2))
    assert not np.allclose(first, second), (
        f"{KERAS}: keras.layers.RNN no longer resets GateLSTMCell's dropout masks between "
        "calls (the same masks were reused); see keras_compat.dropout_rnn_cell_mixin"
    )


@pytest.mark.parametrize("name", sorted(CALLBACK_COUNTERS))
def test_each_callback_has_the_counters_of_the_table(name, tmp_path):
    callback = _callback(name, tmp_path)
    callback.set_model(_tiny_model())
    callback.on_train_begin()
    missing = [n for n in CALLBACK_COUNTERS[name] if not hasattr(callback, n)]
    assert not missing, (
        f"{KERAS}: {name} no longer has the attributes {missing} after on_train_begin: "
        "update keras_compat.CALLBACK_COUNTERS, or resumed runs lose these counters"
    )


@pytest.mark.parametrize("name", sorted(CALLBACK_COUNTERS))
def test_callback_state_round_trips(name, tmp_path):
    callback = _callback(name, tmp_path)
    callback.set_model(_tiny_model())
    callback.on_train_begin()
    state = {n: i + 0.5 for i, n in enumerate(CALLBACK_COUNTERS[name])}
    restore_callback_state(callback, state)
    assert callback_state(callback) == state, f"{KERAS}: {name}'s counters do not round-trip"


def test_callbacks_without_counters_have_no_state():
    assert callback_state(keras.callbacks.TerminateOnNaN()) == {}
    assert callback_best_weights(keras.callbacks.TerminateOnNaN()) is None


def test_table_names_are_callback_classes():
    for name in [*CALLBACK_COUNTERS, *BEST_WEIGHTS]:
        assert name == "BestCheckpoint" or hasattr(keras.callbacks, name), (
            f"{KERAS}: keras.callbacks.{name} is gone"
        )


def test_early_stopping_keeps_best_weights_under_that_name():
    model = _tiny_model()
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)
    assert callback_best_weights(stop) is None
    model.fit(*_rows(), epochs=2, batch_size=4, verbose=0, callbacks=[stop])
    weights = callback_best_weights(stop)
    assert weights is not None, (
        f"{KERAS}: EarlyStopping(restore_best_weights=True) no longer keeps its best weights as "
        "`best_weights` after an improving epoch: resumed runs would lose them; update "
        "keras_compat.BEST_WEIGHTS"
    )
    shapes = [np.shape(w) for w in model.get_weights()]
    assert [np.shape(w) for w in weights] == shapes, (
        f"{KERAS}: EarlyStopping.best_weights is no longer a list like model.get_weights()"
    )

    fresh = keras.callbacks.EarlyStopping(monitor="loss", restore_best_weights=True)
    fresh.set_model(model)
    fresh.on_train_begin()
    assert restore_callback_best_weights(fresh, lambda: weights)
    assert callback_best_weights(fresh) is weights
    model.set_weights([np.zeros_like(w) for w in weights])
    fresh.on_train_end()  # restores the best weights
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights, strict=True)), (
        f"{KERAS}: EarlyStopping no longer restores the `best_weights` put back on resume"
    )


def test_best_weights_are_put_back_only_on_callbacks_that_keep_them(tmp_path):
    def load():
        raise AssertionError("read although the callback keeps no best weights")

    assert not restore_callback_best_weights(BestCheckpoint(tmp_path / "best.keras"), load)
    assert not restore_callback_best_weights(keras.callbacks.ReduceLROnPlateau(), load)


def test_fit_marks_its_validation_passes_and_their_logs_are_evaluates():
    """`is_fit_validation` tells `fit`'s own per-epoch `evaluate` calls from a user's, and
    `metrics_logs` returns what `evaluate(return_dict=True)` returns
    (`lstm_app.training.validation` relies on both)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mean_squared_error", metrics=["mean_absolute_error"])
    x = np.arange(16, dtype="float32").reshape(8, 2)
    y = x[:, :1]
    seen = []
    keras_evaluate = model.evaluate

    def evaluate(*args, **kwargs):
        seen.append(keras_compat.is_fit_validation(kwargs))
        return keras_evaluate(*args, **kwargs)

    model.evaluate = evaluate
    model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    del model.evaluate
    assert seen == [True, True, False], KERAS
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    logs = model.test_on_batch(x, y, return_dict=True)  # the metrics now hold this batch's
    assert keras_compat.metrics_logs(model, logs) == pytest.approx(expected), KERAS
    assert set(keras_compat.metrics_logs(model, logs)) == set(expected), KERAS
