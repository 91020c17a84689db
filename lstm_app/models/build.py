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
from lstm_app.models.ensemble import build_ensemble, lookback_steps
from lstm_app.models.heads import GaussianHead, QuantileHead
from lstm_app.models.static import StaticEmbedding, static_sizes
from lstm_app.registry import load_object


def build_layer(layer_config) -> keras.layers.Layer:
    """One Keras layer from one entry of `model.layers`: its keys are the layer's arguments
    (`bidirectional: true` wraps a recurrent layer in `keras.layers.Bidirectional`)."""
    arguments = dataclasses.asdict(layer_config)
    layer_class = load_object(LAYER_TYPES[arguments.pop("type")].keras)
    if arguments.pop("bidirectional", False):
        return keras.layers.Bidirectional(layer_class(**arguments))
    return layer_class(**arguments)


def build_sequential(model: ModelConfig, n_features: int, name=None) -> keras.Sequential:
    """The stacked model, not compiled: inputs `(batch, time, n_features)` -> forecasts
    `(batch, horizon)`.

    The time axis is left free (`None`), as in the article, so the model accepts windows of
    any length.
    """
    layers = [build_layer(layer) for layer in model.layers]
    return keras.Sequential([keras.Input(shape=(None, n_features)), *layers], name=name)


def build_model(cfg: Config, feature_names) -> keras.Model:
    """The model of `cfg` for inputs named `feature_names`, not compiled: `build_single`, or
    with `model.ensemble.members` above 1 an ensemble of them (`lstm_app.models.ensemble`)."""
    ensemble = cfg.model.ensemble
    if ensemble.members == 1:
        return build_single(cfg, feature_names)
    steps = lookback_steps(cfg.data.window.input_width, ensemble.lookbacks, ensemble.members)
    return build_ensemble(
        lambda name: build_single(cfg, feature_names, name), len(feature_names), steps
    )


def build_single(cfg: Config, feature_names, name=None) -> keras.Sequential:
    """One model of `cfg` for inputs named `feature_names`, not compiled: `build_sequential`,
    led by a `StaticEmbedding` of the static labels' one-hot columns when
    `model.static_embedding` is set, and ended by a distribution head (`distribution_head`)
    when `training.loss` is `quantile` or `gaussian`."""
    dim, head = cfg.model.static_embedding, distribution_head(cfg)
    if dim is None and head is None:
        return build_sequential(cfg.model, len(feature_names), name)
    configs = list(cfg.model.layers)
    if head is not None:  # the output layer gives every step's quantiles (or mean and scale)
        out = cfg.model.output_layer_index()
        per_step = len(head.levels) if isinstance(head, QuantileHead) else 2
        configs[out] = dataclasses.replace(configs[out], units=configs[out].units * per_step)
    layers = [build_layer(layer) for layer in configs]  # built for the widths they get
    if dim is not None:
        layers.insert(0, StaticEmbedding(static_sizes(feature_names, cfg.data.static), dim))
    if head is not None:
        layers.append(head)
    return keras.Sequential([keras.Input(shape=(None, len(feature_names))), *layers], name=name)


def distribution_head(cfg: Config):
    """The head of a distribution loss (`training.loss`): `QuantileHead` of `data.quantiles`,
    `GaussianHead`, or None for a point forecast."""
    horizon = cfg.data.window.horizon
    if cfg.training.loss == "quantile":
        return QuantileHead(horizon, cfg.data.quantiles, name="quantiles")
    if cfg.training.loss == "gaussian":
        return GaussianHead(horizon, name="gaussian")
    return None
