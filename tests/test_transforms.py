"""Target transforms: forecasts of the transformed series turn back into the original exactly,
and each transform's graph (`keras.ops`) forms compute what its numpy forms do."""

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import tiny_config_dict

from lstm_app.config.load import config_from_dict
from lstm_app.data.prepare import prepare_data, window_views
from lstm_app.data.transforms import (
    TRANSFORMS,
    TargetPipeline,
    TransformError,
    make_transform,
    transforms_lag,
)
from lstm_app.errors import DataError

M = 4  # season length


def _series(n=60):
    t = np.arange(n)
    return 100 + 2.0 * t + 10 * np.sin(2 * np.pi * t / M) + np.random.default_rng(0).normal(size=n)


@pytest.mark.parametrize(
    "names",
    [
        [],
        ["log"],
        ["diff"],
        ["seasonal_diff"],
        ["log", "diff"],
        ["diff", "seasonal_diff"],
        ["log", "diff", "seasonal_diff"],
        ["seasonal_diff", "diff"],
    ],
    ids=lambda names: "+".join(names) or "none",
)
@pytest.mark.parametrize("horizon", [1, 3, 2 * M + 1])
def test_inverting_the_true_future_gives_back_the_series(names, horizon):
    y = _series()
    pipeline = TargetPipeline.apply(y, names, season_length=M)
    start = pipeline.lag + 5
    origins = np.arange(start, len(y) - horizon)
    steps = origins[:, None] + np.arange(1, horizon + 1)  # (windows, horizon) future rows
    recovered = pipeline.invert(pipeline.transformed[steps], origins)
    np.testing.assert_allclose(recovered, y[steps], rtol=1e-12)


def test_lag_counts_the_rows_without_a_value():
    y = _series()
    pipeline = TargetPipeline.apply(y, ["log", "diff", "seasonal_diff"], season_length=M)
    assert pipeline.lag == 1 + M
    assert np.isnan(pipeline.transformed[: pipeline.lag]).all()
    assert np.isfinite(pipeline.transformed[pipeline.lag :]).all()


def test_transformed_row_depends_only_on_rows_before_it():
    y = _series()
    changed = y.copy()
    changed[40:] += 50.0  # the future changes
    for names in (["diff"], ["seasonal_diff"], ["log", "diff"]):
        a = TargetPipeline.apply(y, names, M).transformed
        b = TargetPipeline.apply(changed, names, M).transformed
        np.testing.assert_array_equal(a[:40], b[:40])


def test_log_refuses_non_positive_values_naming_the_row():
    y = _series()
    y[7] = 0.0
    with pytest.raises(TransformError, match="log needs positive values, got 0") as err:
        TargetPipeline.apply(y, ["log"])
    assert err.value.row == 7


def test_log_of_a_csv_with_a_zero_names_the_line(tmp_path):
    path = tmp_path / "zero.csv"
    path.write_text("y\n" + "\n".join(str(v) for v in [5, 4, 0, 3, *range(1, 40)]) + "\n")
    data = {"source": "csv", "path": str(path), "target": "y", "transforms": ["log"]}
    cfg = config_from_dict(tiny_config_dict(data=data))
    with pytest.raises(
        DataError,
        match=r"zero.csv: line 4, column 'y' \(data.target\): log "
        r"needs positive values, got 0 \(data.transforms\)",
    ):
        prepare_data(cfg.data)


def test_model_sees_and_predicts_the_transformed_target_and_test_windows_stay_put():
    sine = {"length": 120, "amplitude": 5.0, "trend": 1.0, "noise": 0.0, "period": 12}
    plain = prepare_data(config_from_dict(tiny_config_dict(data={"sine": sine})).data)
    data = {"sine": sine, "transforms": ["diff"], "scaler": "none"}
    diffed = prepare_data(config_from_dict(tiny_config_dict(data=data)).data)
    np.testing.assert_array_equal(  # the same test windows, whatever the transforms
        plain.splits["test"].raw_target_windows(), diffed.splits["test"].raw_target_windows()
    )
    test = diffed.splits["test"]
    inputs, targets = test.windows()
    raw = diffed.series.target
    rows = test.first_row + np.arange(len(test.target))
    np.testing.assert_allclose(test.target, (raw[rows] - raw[rows - 1]).astype(np.float32))
    np.testing.assert_allclose(
        inputs[:, :, 0], window_views(test.target[:, None], test.target, 8, 1)[0][:, :, 0]
    )
    # scaled model outputs equal to the true differences come back as the true values
    back = diffed.to_original_units(test, targets.astype(np.float64))
    np.testing.assert_allclose(back, test.raw_target_windows(), rtol=1e-5)
    assert diffed.splits["train"].first_row == 1  # the first row has no difference


# every registered transform, so that a new one is checked without a new test
@pytest.mark.parametrize("name", TRANSFORMS.names())
def test_lag_is_the_rows_the_numpy_forward_leaves_undefined(name):
    step = make_transform(name, M)
    out = step.forward(_series())
    undefined = np.flatnonzero(np.isnan(out))
    np.testing.assert_array_equal(undefined, np.arange(step.lag))
    assert transforms_lag([name], M) == step.lag


def test_transforms_lag_adds_the_lags_of_the_chain():
    assert transforms_lag([], M) == 0
    assert transforms_lag(["log", "diff", "seasonal_diff"], M) == 1 + M
    names = ["diff", "seasonal_diff"]
    assert transforms_lag(names, M) == TargetPipeline.apply(_series(), names, M).lag


def _random_windows(rng, windows, time):
    """A positive series of `windows + time` rows, its `(windows, time)` windows and the row of
    each window's last value (its origin)."""
    y = rng.uniform(1.0, 10.0, size=windows + time).astype(np.float32)
    origins = np.arange(time - 1, time - 1 + windows)
    rows = origins[:, None] - time + 1 + np.arange(time)
    return y, y[rows], origins


@pytest.mark.parametrize("name", TRANSFORMS.names())
def test_ops_forward_computes_the_numpy_forward_on_windows(name):
    from keras import ops

    step = make_transform(name, M)
    rng = np.random.default_rng(1)
    _, windows, _ = _random_windows(rng, windows=7, time=2 * M + 3)
    got = ops.convert_to_numpy(step.forward_ops(ops.convert_to_tensor(windows)))
    want = np.stack([step.forward(w)[step.lag :] for w in windows])
    assert got.shape == (len(windows), windows.shape[1] - step.lag)
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("name", TRANSFORMS.names())
@pytest.mark.parametrize("horizon", [1, 2 * M + 1])
def test_ops_inverse_computes_the_numpy_inverse_from_the_window(name, horizon):
    from keras import ops

    step = make_transform(name, M)
    rng = np.random.default_rng(2)
    y, history, origins = _random_windows(rng, windows=7, time=M + 2)
    forecast = rng.normal(scale=0.1, size=(len(origins), horizon)).astype(np.float32)
    got = ops.convert_to_numpy(
        step.inverse_ops(ops.convert_to_tensor(forecast), ops.convert_to_tensor(history))
    )
    want = step.inverse(forecast, y, origins)
    assert got.shape == forecast.shape
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_an_unknown_transform_lists_the_choices():
    choices = ", ".join(TRANSFORMS.names())
    with pytest.raises(
        KeyError, match=re.escape(f"unknown transform 'lg'; expected one of: {choices}")
    ):
        make_transform("lg", M)


def test_transforms_load_without_tensorflow():
    code = (
        "import sys, lstm_app.data.transforms; "
        "print(any(m.startswith(('keras', 'tensorflow')) for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
