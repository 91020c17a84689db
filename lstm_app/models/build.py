"""Build a keras.Model from the `model` section of a config: the layers, stacked, uncompiled.

The article's model, from `configs/article.yaml`:

    Sequential([Input((None, 1)), LSTM(50, return_sequences=True), LSTM(50), Dense(1)])
    # inputs (batch, time, 1) -> outputs (batch, 1); 30,651 parameters

Each layer `type` names its Keras class in `lstm_app.config.schema.LAYER_TYPES`; how the model
is compiled and trained is `lstm_app.training`'s business.
"""

import dataclasses

import keras

from lstm_app.config.schema import LAYER_TYPES, ModelConfig
from lstm_app.registry import load_object


def build_layer(layer_config) -> keras.layers.Layer:
    """One Keras layer from one entry of `model.layers`: its keys are the layer's arguments."""
    arguments = dataclasses.asdict(layer_config)
    layer_class = load_object(LAYER_TYPES[arguments.pop("type")].keras)
    return layer_class(**arguments)


def build_sequential(model: ModelConfig, n_features: int) -> keras.Sequential:
    """The stacked model, not compiled: inputs `(batch, time, n_features)` -> forecasts
    `(batch, horizon)`.

    The time axis is left free (`None`), as in the article, so the model accepts windows of
    any length.
    """
    layers = [build_layer(layer) for layer in model.layers]
    return keras.Sequential([keras.Input(shape=(None, n_features)), *layers])
