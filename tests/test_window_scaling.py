"""`data.scaler: window` and `window_abs` (issue 15): each window scaled by its own statistics,
the same in training (tf.data), evaluation (numpy) and the exported graph (keras.ops)."""

from dataclasses import replace

import numpy as np
import pytest
from conftest import tiny_config_dict
from keras import ops

from lstm_app.config.load import config_from_dict
from lstm_app.data.prepare import prepare_data
from lstm_app.data.window_scaling import FLAT, WindowScaling, window_statistics
from lstm_app.data.windows import make_dataset
from lstm_app.pipeline import train
from lstm_app.serving.graph import build_serving_model
from lstm_app.serving.spec import ServingSpec


def _config(scaler="window", transforms=(), horizon=3, **data):
    raw = tiny_config_dict(
        data={
            "scaler": scaler,
            "transforms": list(transforms),
            "season_length": 16,
            "window": {"input_width": 8, "horizon": horizon},
            **data,
        },
        model={"layers": [{"type": "lstm", "units": 6}, {"type": "dense", "units": horizon}]},
        training={"epochs": 2},
    )
    return config_from_dict(raw)


@pytest.mark.parametrize("kind", ["window", "window_abs", "window_last"])
def test_numpy_and_keras_ops_compute_the_same_statistics(kind):
    rng = np.random.default_rng(0)
    values = rng.normal(5, 3, size=(7, 10, 3))
    values[1] = 4.0  # a flat window
    values[2] = 0.0  # a window of zeros
    loc, scale = window_statistics(values, kind)
    loc_ops, scale_ops = window_statistics(values.astype(np.float32), kind, ops)
    np.testing.assert_allclose(np.asarray(loc_ops), loc, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(scale_ops), scale, rtol=1e-5)
    assert loc.shape == scale.shape == (7, 1, 3)
    if kind == "window":
        np.testing.assert_allclose(loc[0, 0], values[0].mean(axis=0))
        np.testing.assert_allclose(scale[0, 0], values[0].std(axis=0))
    elif kind == "window_last":  # moves from the last value, in steps of the window's naive error
        np.testing.assert_allclose(loc[0, 0], values[0, -1])
        np.testing.assert_allclose(scale[0, 0], np.abs(np.diff(values[0], axis=0)).mean(axis=0))
        assert np.all(scale[1] == 4.0) and np.all(loc[1] == 4.0)  # flat: its level
        return
    else:
        assert not loc.any()
        np.testing.assert_allclose(scale[0, 0], np.abs(values[0]).mean(axis=0))
    assert np.all(scale[1] == 4.0)  # flat: its level, not a spread of 0
    assert np.all(scale[2] == 1.0)  # zeros: 1


def test_a_nearly_flat_window_is_scaled_by_its_level():
    values = np.full((1, 8, 1), 1000.0)
    values[0, 3, 0] += 1000.0 * FLAT / 10  # a spread far below FLAT of the level
    assert window_statistics(values, "window")[1][0, 0, 0] == pytest.approx(1000.0, rel=1e-3)


def test_only_marked_columns_are_scaled():
    scaling = WindowScaling("window", (True, False))
    inputs = np.stack([np.arange(8.0) * 10, np.ones(8)], axis=-1)[None]  # (1, 8, 2)
    scaled = scaling.scale_inputs(inputs)
    np.testing.assert_allclose(scaled[0, :, 0].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(scaled[0, :, 0].std(), 1)
    np.testing.assert_array_equal(scaled[0, :, 1], 1.0)


@pytest.mark.parametrize("scaler", ["window", "window_abs", "window_last"])
def test_the_dataset_gives_the_windows_scaled_as_numpy_does(scaler):
    data = prepare_data(_config(scaler).data)
    split = data.splits["train"]
    assert split.window_scaling.kind == scaler
    inputs, targets = zip(*make_dataset(split, batch_size=16), strict=True)
    expected_inputs, expected_targets = split.windows()
    np.testing.assert_allclose(np.concatenate(inputs), expected_inputs, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.concatenate(targets), expected_targets, rtol=1e-5, atol=1e-5)
    # each window's own inputs have mean 0 and std 1 (window) or mean |x| 1 (window_abs)
    first = expected_inputs[:, :, 0]
    if scaler == "window":
        np.testing.assert_allclose(first.mean(axis=1), 0, atol=1e-5)
        np.testing.assert_allclose(first.std(axis=1), 1, rtol=1e-4)
    elif scaler == "window_last":  # the last input 0, the mean step 1
        np.testing.assert_allclose(first[:, -1], 0, atol=1e-5)
        np.testing.assert_allclose(np.abs(np.diff(first, axis=1)).mean(axis=1), 1, rtol=1e-4)
    else:
        np.testing.assert_allclose(np.abs(first).mean(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("transforms", [(), ("diff",), ("seasonal_diff", "diff")])
def test_scaled_targets_turn_back_into_the_original_values(transforms):
    data = prepare_data(_config("window", transforms).data)
    for split in data.splits.values():
        _, targets = split.windows()
        np.testing.assert_allclose(
            data.to_original_units(split, targets), split.raw_target_windows(), rtol=1e-4
        )


def test_a_series_scaled_by_a_constant_gets_the_same_scaled_windows():
    """What makes one model serve series of any level: a window's inputs and targets do not
    depend on the series' units."""
    data = _config("window").data
    sine = data.sine
    big = replace(sine, amplitude=sine.amplitude * 1000, trend=sine.trend * 1000)
    big = replace(big, noise=sine.noise * 1000)  # the same draws, 1000 times larger
    small_windows = prepare_data(data).splits["test"].windows()
    big_windows = prepare_data(replace(data, sine=big)).splits["test"].windows()
    for got, expected in zip(big_windows, small_windows, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("scaler", ["window", "window_abs", "window_last"])
def test_the_serving_graph_gives_the_run_forecasts(tmp_path, scaler):
    cfg = _config(scaler, ("diff",))
    result = train(cfg, tmp_path / "run", verbose=0)
    spec = ServingSpec.from_run(result.run_dir)
    assert spec.window_scaler == scaler and spec.window_columns == (True,)
    serving = build_serving_model(result.model, spec)
    series = result.data.series
    test = result.data.splits["test"]
    raw = series.target[:, None].astype(np.float32)  # the sine's one column, raw
    windows = np.stack([raw[o - spec.rows + 1 : o + 1] for o in test.origins()])
    np.testing.assert_allclose(
        np.asarray(serving(windows)), result.forecasts["test"], rtol=1e-4, atol=1e-3
    )
