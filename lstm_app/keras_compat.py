"""The Keras internals this package relies on, each behind one named function.

Keras does not export everything the package needs; every use of something private goes
through this module, so that a Keras upgrade that moves or renames it breaks in one place, and
`tests/test_keras_compat.py` says what changed. Checked against Keras 3.15.1 (`KERAS_CHECKED`).

    dropout_rnn_cell_mixin()          the class that lets `keras.layers.RNN` prepare and reset a
                                      cell's dropout masks (`lstm_app.models.layers`)
    callback_state(callback)          the private counters a callback keeps between epochs, and
    restore_callback_state(cb, dict)  putting them back (`lstm_app.training.resume`)
    callback_best_weights(callback)   EarlyStopping's best weights, and putting them back
    restore_callback_best_weights(..) (`lstm_app.training.resume`)
    is_fit_validation(kwargs)         whether an `evaluate` call is `fit`'s validation pass,
    metrics_logs(model, logs)         and the logs it returns (`lstm_app.training.validation`)

This module imports nothing from `lstm_app`: callbacks are matched by class name.
"""

import importlib
from collections.abc import Callable

import keras

# the Keras versions whose internals this module was checked against
KERAS_CHECKED = ("3.15.1",)

# where Keras 3.15.1 defines the dropout mixin (not exported by `keras.layers`)
_DROPOUT_MODULE = "keras.src.layers.rnn.dropout_rnn_cell"
_DROPOUT_CLASS = "DropoutRNNCell"


def dropout_rnn_cell_mixin() -> type:
    """Keras's `DropoutRNNCell`, the mixin of an RNN cell with dropout.

    Why: `keras.layers.RNN` resets a cell's cached dropout masks before each batch only when
    `isinstance(cell, DropoutRNNCell)` (`RNN._maybe_reset_dropout_masks`), and the mixin draws
    one mask per sequence, reused at every step, as `keras.layers.LSTMCell` (which mixes it in)
    does. `GateLSTMCell` mixes it in too and calls its `get_dropout_mask` and
    `get_recurrent_dropout_mask`; it reads the cell's `dropout`, `recurrent_dropout`,
    `seed_generator` and optional `dropout_mask_count` (one mask per gate).

    Found at `keras.src.layers.rnn.dropout_rnn_cell.DropoutRNNCell` (Keras 3.15.1); should it
    move, the class of that name among `keras.layers.LSTMCell`'s bases is used instead.
    ImportError, naming the Keras version, if neither is there.
    """
    try:
        return getattr(importlib.import_module(_DROPOUT_MODULE), _DROPOUT_CLASS)
    except (ImportError, AttributeError):
        pass
    for base in keras.layers.LSTMCell.__mro__:
        if base.__name__ == _DROPOUT_CLASS:
            return base
    raise ImportError(
        f"Keras {keras.__version__} has no {_DROPOUT_MODULE}.{_DROPOUT_CLASS}, nor a base of "
        f"keras.layers.LSTMCell by that name (checked with Keras {', '.join(KERAS_CHECKED)}): "
        "lstm_app.keras_compat.dropout_rnn_cell_mixin must be updated for this Keras"
    )


# The counters each callback keeps between epochs, by class name: private attributes that
# `on_train_begin` resets and `on_epoch_end` updates (Keras 3.15.1). `BestCheckpoint` is this
# package's own callback (`lstm_app.training.fit`), named here so that all such names live in one
# table. A resumed run puts them back after the callback's `on_train_begin`.
CALLBACK_COUNTERS = {
    "EarlyStopping": ("wait", "stopped_epoch", "best", "best_epoch"),
    "ReduceLROnPlateau": ("wait", "best", "cooldown_counter"),
    "BestCheckpoint": ("best",),
}

# the callbacks whose best weights a resumed run puts back, by class name, and the private
# attribute that holds them (a list of arrays, `model.get_weights()`; Keras 3.15.1)
BEST_WEIGHTS = {"EarlyStopping": "best_weights"}
_BEST_WEIGHTS_ATTRIBUTE = "best_weights"


def callback_state(callback) -> dict:
    """`{attribute: value}` of the counters `callback` keeps between epochs (`CALLBACK_COUNTERS`),
    the values as the callback holds them (None where one is missing); `{}` for a callback that
    keeps none."""
    names = CALLBACK_COUNTERS.get(type(callback).__name__, ())
    return {name: getattr(callback, name, None) for name in names}


def restore_callback_state(callback, state: dict) -> None:
    """Sets each `{attribute: value}` of `state` (from `callback_state`) on `callback`; call it
    after the callback's `on_train_begin`, which resets them."""
    for name, value in state.items():
        setattr(callback, name, value)


def callback_best_weights(callback) -> list | None:
    """The best weights `callback` keeps, or None: `EarlyStopping(restore_best_weights=True)`
    holds them after an improving epoch (Keras's `best_weights`); read from any callback that has
    that attribute, as `lstm_app.training.resume` always did."""
    return getattr(callback, _BEST_WEIGHTS_ATTRIBUTE, None)


def restore_callback_best_weights(callback, load: Callable[[], list]) -> bool:
    """Puts `load()` back as `callback`'s best weights, if it is a callback that keeps them
    (`BEST_WEIGHTS`); `load` is called only then. Returns whether it did."""
    name = BEST_WEIGHTS.get(type(callback).__name__)
    if name is None:
        return False
    setattr(callback, name, load())
    return True


# the keyword `fit` adds to its own per-epoch `evaluate` calls (Keras 3.15.1, TensorFlow backend:
# `TensorFlowTrainer.fit` -> `self.evaluate(..., _use_cached_eval_dataset=True)`)
_FIT_VALIDATION_KEYWORD = "_use_cached_eval_dataset"


def is_fit_validation(kwargs: dict) -> bool:
    """Whether an `evaluate(**kwargs)` call is `fit`'s validation pass at the end of an epoch;
    removes Keras's private keyword that says so from `kwargs`."""
    return bool(kwargs.pop(_FIT_VALIDATION_KEYWORD, False))


def metrics_logs(model: keras.Model, logs: dict) -> dict:
    """What `evaluate(return_dict=True)` returns after its last test step returned `logs`: the
    model's metrics' results (Keras's `Trainer._get_metrics_result_or_logs`), as Python numbers
    (Keras's `pythonify_logs`, in `keras.src.utils.python_utils`)."""
    pythonify = importlib.import_module("keras.src.utils.python_utils").pythonify_logs
    return pythonify(model._get_metrics_result_or_logs(logs))
