"""Models built from configs: the article's model exactly, and every layer type allowed."""

import typing

import keras
import numpy as np
import pytest
from conftest import ARTICLE_CONFIG, tiny_config_dict

from lstm_app.config.load import config_from_dict, load_config
from lstm_app.config.schema import OPTIMIZERS, Activation
from lstm_app.models.build import build_sequential as build_model
from lstm_app.training.fit import compile_model


def test_article_config_builds_exactly_the_article_model():
    cfg = load_config(ARTICLE_CONFIG)
    model = build_model(cfg.model, n_features=1)
    assert [type(layer) for layer in model.layers] == [
        keras.layers.LSTM,
        keras.layers.LSTM,
        keras.layers.Dense,
    ]
    assert [layer.units for layer in model.layers] == [50, 50, 1]
    assert [model.layers[0].return_sequences, model.layers[1].return_sequences] == [True, False]
    assert model.input_shape == (None, None, 1)  # the article's input_shape=(None, 1)
    assert model.output_shape == (None, 1)
    assert model.count_params() == 30_651


def test_article_model_compiles_as_in_the_article():
    cfg = load_config(ARTICLE_CONFIG)
    model = compile_model(build_model(cfg.model, n_features=1), cfg.training)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001)
    assert model.loss == "mean_squared_error"


@pytest.mark.parametrize(
    "layers",
    [
        [
            {"type": "gru", "units": 6, "return_sequences": True, "dropout": 0.1},
            {"type": "simple_rnn", "units": 5, "activation": "relu"},
            {"type": "dropout", "rate": 0.2},
            {"type": "dense", "units": 3},
        ],
        [
            {"type": "dense", "units": 4, "activation": "relu"},
            {
                "type": "lstm",
                "units": 6,
                "recurrent_dropout": 0.1,
                "recurrent_activation": "hard_sigmoid",
            },
            {"type": "dense", "units": 3},
        ],
    ],
)
def test_every_layer_type_builds_and_forecasts_horizon_steps(layers):
    raw = tiny_config_dict(model={"layers": layers})
    raw["data"]["window"]["horizon"] = 3
    cfg = config_from_dict(raw)
    model = build_model(cfg.model, n_features=2)
    assert model(np.zeros((4, 7, 2), "float32")).shape == (4, 3)
    assert [type(la).__name__.lower() for la in model.layers] == [
        la["type"].replace("_", "") for la in layers
    ]


@pytest.mark.parametrize("activation", typing.get_args(Activation))
def test_every_activation_the_schema_allows_is_known_to_keras(activation):
    assert callable(keras.activations.get(activation))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_compiles_with_its_learning_rate(name):
    raw = tiny_config_dict(training={"optimizer": name, "learning_rate": 0.02})
    cfg = config_from_dict(raw)
    model = compile_model(build_model(cfg.model, n_features=1), cfg.training)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)


def test_speed_options_reach_the_compiled_model():
    cfg = config_from_dict(
        tiny_config_dict(training={"jit_compile": True, "steps_per_execution": 8})
    )
    model = compile_model(build_model(cfg.model, n_features=1), cfg.training)
    assert model.jit_compile is True and model.steps_per_execution == 8


@pytest.mark.slow
@pytest.mark.parametrize("layer", ["lstm", "gate_lstm"])
def test_speed_options_keep_the_losses(layer):
    """Five epochs with XLA and several steps per execution: the losses of the plain path
    to 1e-4 relative (the arithmetic is the same; only the rounding of fused ops differs)."""
    from lstm_app.data.prepare import prepare_data
    from lstm_app.training.fit import fit_model

    layers = [
        {"type": layer, "units": 8, "return_sequences": True},
        {"type": layer, "units": 8},
        {"type": "dense", "units": 1},
    ]
    losses = []
    for options in ({}, {"jit_compile": True, "steps_per_execution": 4}):
        cfg = config_from_dict(
            tiny_config_dict(model={"layers": layers}, training={"epochs": 5, **options})
        )
        _, history = fit_model(cfg, prepare_data(cfg.data, cfg.seed), [], verbose=0)
        losses.append(history["loss"] + history["val_loss"])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    assert losses[0][0] != losses[0][4]  # it trained
