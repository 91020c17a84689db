"""Build a keras.Model from the `model` section of a config, and compile it from `training`.

The article's model, from `configs/article.yaml`:

    Sequential([Input((None, 1)), LSTM(50, return_sequences=True), LSTM(50), Dense(1)])
    # inputs (batch, time, 1) -> outputs (batch, 1); 30,651 parameters
"""

import dataclasses

import keras
import tensorflow as tf

from lstm_app.config.schema import ModelConfig, TrainingConfig
from lstm_app.models.layers import GateLSTM
from lstm_app.training.fused import fuse

KERAS_LAYERS = {
    "lstm": keras.layers.LSTM,
    "gate_lstm": GateLSTM,
    "gru": keras.layers.GRU,
    "simple_rnn": keras.layers.SimpleRNN,
    "dense": keras.layers.Dense,
    "dropout": keras.layers.Dropout,
}

OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "nadam": keras.optimizers.Nadam,
    "rmsprop": keras.optimizers.RMSprop,
    "sgd": keras.optimizers.SGD,
    "adagrad": keras.optimizers.Adagrad,
}


def build_layer(layer_config) -> keras.layers.Layer:
    """One Keras layer from one entry of `model.layers`: its keys are the layer's arguments."""
    arguments = dataclasses.asdict(layer_config)
    return KERAS_LAYERS[arguments.pop("type")](**arguments)


def build_model(model: ModelConfig, n_features: int) -> keras.Sequential:
    """The stacked model: inputs `(batch, time, n_features)` -> forecasts `(batch, horizon)`.

    The time axis is left free (`None`), as in the article, so the model accepts windows of
    any length.
    """
    layers = [build_layer(layer) for layer in model.layers]
    return keras.Sequential([keras.Input(shape=(None, n_features)), *layers])


def compile_model(model: keras.Model, training: TrainingConfig) -> keras.Model:
    """Compiles `model` with the optimizer, learning rate and loss of `training`, and its
    speed options (`jit_compile`, `steps_per_execution`: same arithmetic, fewer trips between
    Python and the graph)."""
    optimizer = OPTIMIZERS[training.optimizer](learning_rate=training.learning_rate)
    return _compile(model, optimizer, training)


def _compile(model: keras.Model, optimizer, training: TrainingConfig) -> keras.Model:
    """`model.compile` with `optimizer` and the loss and speed options of `training`."""
    model.compile(
        optimizer=optimizer,
        loss=training.loss,
        jit_compile=training.jit_compile,
        steps_per_execution=training.steps_per_execution,
    )
    return model


def training_model(model: keras.Model, training: TrainingConfig) -> keras.Model:
    """The model to fit: `model` itself, or with `training.fused` on a CPU its fused twin (see
    `lstm_app.training.fused`: the same variables, its stacked LSTM layers trained in one graph),
    compiled with `model`'s optimizer (one optimizer state for both) and the speed options.

    On a GPU, `model` itself: the built-in layer's cuDNN kernel beats any graph of steps.
    `model` must be compiled (`compile_model`); fitting the twin trains `model`.
    """
    if not training.fused or tf.config.list_physical_devices("GPU"):
        return model
    twin = fuse(model)
    return model if twin is None else _compile(twin, model.optimizer, training)
