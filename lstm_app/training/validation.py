"""Validation passes inside `fit` in one call into a graph, for validation windows held in memory.

Keras's `fit` validates at the end of each epoch by calling `model.evaluate`, which makes a
dataset iterator, calls the test step batch by batch and tears the iterator down: about 8 ms a
pass on 2 cores, half of an epoch of the article's data. While `held_validation` is active,
that pass is one call of a graph that runs Keras's own `test_step` over the same batches in the
same order (a `while_loop`), so the logs hold the same numbers; the callbacks' test hooks are
called as for one execution of every batch (as Keras calls them with `steps_per_execution`).

    with held_validation(model, inputs, targets, batch_size):
        model.fit(train, validation_data=val, validation_steps=..., ...)

Any other `evaluate` call (outside `fit`) runs as Keras's own.
"""

import contextlib
import math

import keras
import tensorflow as tf

from lstm_app.keras_compat import is_fit_validation, metrics_logs


def validation_pass(model: keras.Model, inputs, targets, batch_size: int):
    """A graph function that runs `model.test_step` on each batch of `batch_size` rows of
    `inputs` `(n, ...)` and `targets` `(n, ...)` in order (the last one smaller), after which
    the model's metrics hold the pass's results; it returns them."""
    n = int(inputs.shape[0])
    steps = math.ceil(n / batch_size)

    def one_batch(i):
        rows = slice(i * batch_size, tf.minimum((i + 1) * batch_size, n))
        model.test_step((inputs[rows], targets[rows]))
        return (i + 1,)

    @tf.function(autograph=False)
    def run():
        if steps == 1:  # no loop: its tracing costs more than the step
            model.test_step((inputs, targets))
        else:
            tf.while_loop(lambda i: i < steps, one_batch, (tf.constant(0),))
        return model.get_metrics_result()

    return run, steps


@contextlib.contextmanager
def held_validation(model: keras.Model, inputs, targets, batch_size: int):
    """While active, `fit`'s validation passes on `model` run `validation_pass` over `inputs`
    and `targets` (the validation data `fit` was given, as tensors) in one call each."""
    run, steps = validation_pass(model, inputs, targets, batch_size)
    keras_evaluate = model.evaluate

    def evaluate(*args, callbacks=None, **kwargs):
        if not is_fit_validation(kwargs):
            return keras_evaluate(*args, callbacks=callbacks, **kwargs)
        callbacks.on_test_begin()
        model.reset_metrics()
        callbacks.on_test_batch_begin(0)
        logs = run()
        callbacks.on_test_batch_end(steps - 1, logs)
        logs = metrics_logs(model, logs)
        callbacks.on_test_end(logs)
        return logs

    model.evaluate = evaluate  # this model's own attribute, removed on leaving
    try:
        yield
    finally:
        del model.evaluate
