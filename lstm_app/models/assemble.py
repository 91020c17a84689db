"""The model a config describes, for the data it was prepared from: a forecaster
(`lstm_app.models.build.build_model`, its inputs named by the data's features) or, under
`task: classification`, a classifier (`lstm_app.models.classifier.build_classifier`, its
outputs the data's classes)."""

import keras

from lstm_app.config.schema import Config
from lstm_app.models.build import build_model
from lstm_app.models.classifier import build_classifier


def model_for(cfg: Config, data) -> keras.Model:
    """The uncompiled model of `cfg` for prepared `data`: `(batch, time, features) ->
    (batch, horizon)`, or a classifier's `-> (batch, classes)`."""
    if cfg.task == "classification":
        return build_classifier(cfg, data)
    return build_model(cfg, data.feature_names)
