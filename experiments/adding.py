"""The adding problem (Hochreiter & Schmidhuber 1997): can a recurrent layer carry two numbers
across a long sequence? The article's central claim, that an LSTM learns long-range
dependencies where a plain RNN's gradients vanish, checked.

Each sequence has `length` steps of two inputs: a random value in [0, 1), and a marker that is
1 at two steps (one in each half) and 0 elsewhere. The target is the sum of the two marked
values. Predicting the mean, 1, scores a mean squared error of 1/6 (the variance of a sum of two
uniform values): a model that does not beat 0.167 has learnt nothing; one under 0.01 has
solved the task.

    results = adding_experiment(["simple_rnn", "lstm", "gate_lstm"], lengths=[10, 50])
    results.table()                # test MSE against the mean, per model and length
    results.gradients              # |dL/dx_t| at each step t, per model and length

`bench/long_memory.py` runs it at full size.
"""

import time
from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from lstm_app.config.schema import LAYER_TYPES
from lstm_app.registry import load_object

BASELINE_MSE = 1 / 6  # predicting the mean sum, 1, for a sum of two uniform values


def adding_data(n: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` sequences of the adding problem.

    Returns:
        inputs `(n, length, 2)` float32 (value, marker) and targets `(n,)` float32.
    """
    rng = np.random.default_rng(seed)
    values = rng.random((n, length))
    first = rng.integers(0, length // 2, n)  # one marked step in each half
    second = rng.integers(length // 2, length, n)
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=-1).astype("float32"), targets.astype("float32")


def adding_model(kind: str, length: int, units: int = 32, learning_rate: float = 0.005):
    """`Input((length, 2)) -> recurrent layer of `units` -> Dense(1)`, compiled with adam/MSE."""
    model = keras.Sequential(
        [
            keras.Input((length, 2)),
            load_object(LAYER_TYPES[kind].keras)(units),  # kind: a recurrent layer type
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mean_squared_error")
    return model


def input_gradient_norms(model: keras.Model, inputs: np.ndarray, targets: np.ndarray):
    """`(length,)`: the norm of the loss's gradient with respect to the input at each step,
    averaged over the sequences: how much each step can still move the prediction."""
    x = tf.constant(inputs)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_mean((model(x, training=False)[:, 0] - targets) ** 2)
    gradient = tape.gradient(loss, x)  # (n, length, 2)
    return np.linalg.norm(np.asarray(gradient), axis=-1).mean(axis=0)


def marked_value_sensitivity(model: keras.Model, inputs: np.ndarray) -> tuple[float, float]:
    """How much the prediction moves with each of the two marked values: the mean of
    `d prediction / d value` at the first (early) and at the second marked step. A model that
    solved the task has both near 1; one that cannot carry the first value back has it near 0.
    """
    x = tf.constant(inputs)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(model(x, training=False))
    gradient = np.asarray(tape.gradient(total, x))[:, :, 0]  # (n, length): d/d value
    markers = inputs[:, :, 1] > 0
    first = np.argmax(markers, axis=1)
    second = markers.shape[1] - 1 - np.argmax(markers[:, ::-1], axis=1)
    rows = np.arange(len(inputs))
    return float(gradient[rows, first].mean()), float(gradient[rows, second].mean())


@dataclass
class AddingResults:
    """What `adding_experiment` measured.

    Attributes:
        rows: one dict per model and length: kind, length, test MSE, ratio to the mean's MSE,
            solved (MSE < 0.01), d_first and d_second (see `marked_value_sensitivity`),
            seconds.
        gradients: `{(kind, length): {"initial": (length,), "trained": (length,)}}`.
        histories: `{(kind, length): validation MSE per epoch}`.
    """

    rows: list = field(default_factory=list)
    gradients: dict = field(default_factory=dict)
    histories: dict = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """Test MSE per model (columns) and length (rows), with the mean's MSE beside."""
        frame = pd.DataFrame(self.rows).pivot(index="length", columns="kind", values="test_mse")
        frame["mean (baseline)"] = BASELINE_MSE
        return frame


def adding_experiment(
    kinds=("simple_rnn", "lstm", "gate_lstm"),
    lengths=(10, 50),
    train_size: int = 4000,
    test_size: int = 1000,
    epochs: int = 20,
    units: int = 32,
    batch_size: int = 64,
    seed: int = 0,
    log=None,
) -> AddingResults:
    """Trains each kind of layer at each length, from the same seed, and measures it.

    With the defaults (about two minutes on 2 CPU cores) the SimpleRNN solves length 10 and
    stays at the mean's MSE at length 50, where the LSTM solves it.
    """
    results = AddingResults()
    for length in lengths:
        x, y = adding_data(train_size, length, seed)
        x_test, y_test = adding_data(test_size, length, seed + 1)
        for kind in kinds:
            keras.utils.set_random_seed(seed)
            model = adding_model(kind, length, units)
            initial = input_gradient_norms(model, x_test[:256], y_test[:256])
            started = time.time()
            history = model.fit(
                x,
                y,
                epochs=epochs,
                batch_size=batch_size,
                verbose=0,
                validation_data=(x_test, y_test),
            )
            mse = float(model.evaluate(x_test, y_test, verbose=0))
            d_first, d_second = marked_value_sensitivity(model, x_test[:256])
            results.rows.append(
                {
                    "kind": kind,
                    "length": length,
                    "test_mse": mse,
                    "vs_mean": mse / BASELINE_MSE,
                    "solved": mse < 0.01,
                    "d_first": d_first,
                    "d_second": d_second,
                    "seconds": round(time.time() - started, 1),
                }
            )
            results.gradients[kind, length] = {
                "initial": initial,
                "trained": input_gradient_norms(model, x_test[:256], y_test[:256]),
            }
            results.histories[kind, length] = history.history["val_loss"]
            if log:
                log(
                    f"length {length:>4} {kind:<11} test MSE {mse:.4f} ({mse / BASELINE_MSE:.1%}"
                    f" of the mean's), d/d marked values {d_first:.2f} and {d_second:.2f}, "
                    f"in {results.rows[-1]['seconds']} s"
                )
    return results
