"""Build a keras.Model from the `model` section of a config: the layers, stacked, uncompiled.

The article's model, from `configs/article.yaml`:

    Sequential([Input((None, 1)), LSTM(50, return_sequences=True), LSTM(50), Dense(1)])
    # inputs (batch, time, 1) -> outputs (batch, 1); 30,651 parameters

Each layer `type` names its Keras class in `lstm_app.config.schema.LAYER_TYPES`; how the model
is compiled and trained is `lstm_app.training`'s business.
"""

import dataclasses

import keras

from lstm_app.config.schema import LAYER_TYPES, Config, ModelConfig
from lstm_app.models.static import StaticEmbedding, static_sizes
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


def build_model(cfg: Config, feature_names) -> keras.Sequential:
    """The model of `cfg` for inputs named `feature_names`, not compiled: `build_sequential`,
    led by a `StaticEmbedding` of the static labels' one-hot columns when
    `model.static_embedding` is set."""
    dim = cfg.model.static_embedding
    if dim is None:
        return build_sequential(cfg.model, len(feature_names))
    embedding = StaticEmbedding(static_sizes(feature_names, cfg.data.static), dim)
    layers = [build_layer(layer) for layer in cfg.model.layers]  # built for the embedded width
    return keras.Sequential([keras.Input(shape=(None, len(feature_names))), embedding, *layers])
