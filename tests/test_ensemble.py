"""`model.ensemble`: members trained side by side, each on its own error, forecasting as one
model (their median), exported as one model to every format."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from conftest import tiny_config_dict  # noqa: E402

from lstm_app.config.load import config_from_dict  # noqa: E402
from lstm_app.errors import ConfigError  # noqa: E402
from lstm_app.models.build import build_model  # noqa: E402
from lstm_app.models.ensemble import (  # noqa: E402
    EachMember,
    is_ensemble,
    lookback_steps,
    median_last,
)


def _cfg(members=3, lookbacks=(1.0,), **sections):
    raw = tiny_config_dict(**sections)
    raw["model"]["ensemble"] = {"members": members, "lookbacks": list(lookbacks)}
    return config_from_dict(raw)


def _members(model):
    return [layer for layer in model.layers if isinstance(layer, keras.Sequential)]


def test_the_ensemble_forecasts_the_median_of_its_members():
    model = build_model(_cfg(members=3, lookbacks=(1.0, 0.5)), ["value"])
    assert is_ensemble(model) and len(_members(model)) == 3
    windows = np.random.default_rng(0).normal(size=(5, 8, 1)).astype("float32")
    each = [
        np.asarray(m(windows if i != 1 else windows[:, -4:])) for i, m in enumerate(_members(model))
    ]
    assert not np.allclose(each[0], each[2])  # each member its own initial weights
    np.testing.assert_allclose(np.asarray(model(windows)), np.median(each, axis=0), rtol=1e-5)


def test_a_member_with_a_shorter_lookback_reads_only_the_last_steps():
    model = build_model(_cfg(members=2, lookbacks=(1.0, 0.5)), ["value"])
    assert lookback_steps(8, (1.0, 0.5), 2) == [None, 4]
    windows = np.random.default_rng(1).normal(size=(3, 8, 1)).astype("float32")
    changed = windows.copy()
    changed[:, :4] += 10.0  # the first half of the window: member 1 does not see it
    feed = keras.Model(model.inputs, model.layers[-1].input[1])  # member 1 inside the model
    np.testing.assert_allclose(np.asarray(feed([windows])), np.asarray(feed([changed])), rtol=1e-6)
    assert not np.allclose(np.asarray(model(windows)), np.asarray(model(changed)))


def test_median_of_an_even_number_is_the_mean_of_the_middle_two():
    values = np.array([[[4.0, 1.0, 3.0, 2.0]]], dtype="float32")
    assert float(np.asarray(median_last(values))[0, 0]) == pytest.approx(2.5)
    assert float(np.asarray(median_last(values[..., :3]))[0, 0]) == pytest.approx(3.0)


def test_each_member_learns_from_its_own_error_only():
    y_true = np.array([[1.0, 2.0]], dtype="float32")
    members = np.array([[[1.0, 3.0], [2.0, 2.0]]], dtype="float32")  # (1, horizon 2, members 2)
    loss = float(EachMember("mean_absolute_error")(y_true, members))
    assert loss == pytest.approx(np.mean([[0.0, 1.0], [0.0, 0.0]]) * 2)  # members 0.5 and 0
    median = np.array([[2.0, 2.5]], dtype="float32")  # evaluation: the ensemble's own error
    assert float(EachMember("mean_absolute_error")(y_true, median)) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"members": 0}, "model.ensemble.members: expected an integer >= 1"),
        ({"lookbacks": [1.0, 1.5]}, "model.ensemble.lookbacks[1]: expected a share in (0, 1]"),
        ({"lookbacks": []}, "model.ensemble.lookbacks: expected at least one share"),
    ],
)
def test_the_ensemble_keys_are_checked(raw, message):
    config = tiny_config_dict()
    config["model"]["ensemble"] = raw
    with pytest.raises(ConfigError) as error:
        config_from_dict(config)
    assert message in str(error.value)


def test_an_ensemble_of_distributions_is_refused_in_one_line():
    config = tiny_config_dict(training={"loss": "quantile"})
    config["data"]["quantiles"] = [0.1, 0.5, 0.9]
    config["model"]["ensemble"] = {"members": 3}
    with pytest.raises(ConfigError) as error:
        config_from_dict(config)
    assert str(error.value).startswith("model.ensemble.members: the median of point forecasts")


@pytest.mark.slow
def test_an_ensemble_trains_resumes_and_exports_as_one_model_to_every_format(tmp_path):
    from lstm_app.pipeline import train
    from lstm_app.serving.formats import FORMATS
    from lstm_app.serving.predict import load_forecaster

    cfg = _cfg(
        members=3,
        lookbacks=(1.0, 0.5),
        training={"epochs": 2},
        export={"formats": list(FORMATS.names())},
    )
    result = train(cfg, tmp_path / "run", verbose=0)
    assert is_ensemble(result.model)
    out = tmp_path / "run" / "export"
    keras_model = keras.models.load_model(out / "model.keras")
    rows = load_forecaster(out / "model.keras").spec.rows
    windows = np.random.default_rng(0).normal(50, 10, size=(4, rows, 1)).astype("float32")
    expected = np.asarray(keras_model(windows))
    for name in FORMATS.names():
        forecaster = load_forecaster(out / FORMATS[name].artefact)
        np.testing.assert_allclose(forecaster.run(windows), expected, rtol=1e-4, err_msg=name)
