"""`model.static_embedding: dim` (issue 15): each static label column of a panel learnt as a
vector, written as one-hot blocks times a table, so inputs and exports stay as they are."""

import keras
import numpy as np
import pytest
from conftest import tiny_config_dict

from lstm_app.config.load import config_from_dict
from lstm_app.errors import ConfigError
from lstm_app.models.static import StaticEmbedding, static_sizes


def _one_hot(labels, size):
    return np.eye(size, dtype=np.float32)[labels]


def test_each_block_picks_its_labels_row_and_numeric_columns_pass():
    layer = StaticEmbedding(sizes=(3, 2), dim=4)
    numeric = np.random.default_rng(0).normal(size=(5, 7, 2)).astype(np.float32)
    first, second = np.array([0, 2, 1, 0, 2]), np.array([1, 0, 1, 1, 0])
    blocks = [
        np.repeat(_one_hot(x, n)[:, None, :], 7, axis=1) for x, n in ((first, 3), (second, 2))
    ]
    out = np.asarray(layer(np.concatenate([numeric, *blocks], axis=-1)))
    assert out.shape == (5, 7, 2 + 2 * 4)
    tables = [np.asarray(t) for t in layer.tables]
    np.testing.assert_array_equal(out[..., :2], numeric)
    np.testing.assert_allclose(out[:, 0, 2:6], tables[0][first], rtol=1e-6)
    np.testing.assert_allclose(out[:, 3, 6:], tables[1][second], rtol=1e-6)
    unseen = np.concatenate([numeric[:1], np.zeros((1, 7, 5), np.float32)], axis=-1)
    np.testing.assert_array_equal(np.asarray(layer(unseen))[..., 2:], 0.0)  # all-0 labels


def test_a_model_with_the_layer_saves_and_loads(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((None, 4)),
            StaticEmbedding((3,), 2),
            keras.layers.LSTM(3),
            keras.layers.Dense(1),
        ]
    )
    x = np.concatenate(
        [np.ones((2, 5, 1), np.float32), np.repeat(_one_hot([0, 2], 3)[:, None], 5, axis=1)], -1
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)


def test_arguments_are_checked_naming_the_value():
    with pytest.raises(ValueError, match=r"sizes must be one or more label counts >= 1, got \(\)"):
        StaticEmbedding((), 2)
    with pytest.raises(ValueError, match="dim must be >= 1, got 0"):
        StaticEmbedding((2,), 0)
    with pytest.raises(ValueError, match="cannot end with one-hot blocks of 5 columns"):
        StaticEmbedding((3, 2), 2).build((None, None, 4))


def test_the_sizes_come_from_the_input_names_in_static_order():
    names = ("y", "kind=a", "kind=b", "region=n", "region=s", "region=w")
    assert static_sizes(names, ("kind", "region")) == (2, 3)


def test_an_embedding_without_static_columns_is_refused():
    raw = tiny_config_dict(model={"static_embedding": 3})
    with pytest.raises(ConfigError, match=r"model.static_embedding: embeds the static label"):
        config_from_dict(raw)


def test_the_model_of_a_panel_config_embeds_and_trains(tmp_path):
    from lstm_app.models.build import build_model
    from lstm_app.training.fit import compile_model

    raw = tiny_config_dict(model={"static_embedding": 5})
    raw["data"] = {"source": "csv", "path": str(tmp_path / "p.csv"), "target": "y"}
    raw["data"] |= {"series_id": "id", "static": ["kind", "zone"], "scaler": "window"}
    cfg = config_from_dict(raw)
    names = ("y", "kind=a", "kind=b", "kind=c", "zone=n", "zone=s")
    model = compile_model(build_model(cfg, names), cfg.training)
    assert model.layers[0].output.shape[-1] == 1 + 2 * 5  # 1 numeric, 2 labels of 5
    x = np.zeros((4, 8, 6), np.float32)
    x[:, :, 1], x[:, :, 4] = 1, 1
    history = model.fit(x, np.ones((4, 1), np.float32), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
