"""Metrics against hand-computed values, and baselines that forecast exactly the model's windows."""

import numpy as np
import pytest
from conftest import tiny_config_dict

from lstm_app.config.load import config_from_dict
from lstm_app.data.prepare import prepare_data
from lstm_app.evaluation.baselines import (
    baseline_forecasts,
    persistence_forecast,
    seasonal_naive_forecast,
)
from lstm_app.evaluation.metrics import (
    forecast_metrics,
    mae,
    mape,
    metrics_report,
    rmse,
    seasonal_scale,
    smape,
)

ACTUAL = np.array([[2.0, 4.0], [0.0, 5.0]])
PREDICTED = np.array([[3.0, 2.0], [1.0, 5.0]])  # errors 1, -2, 1, 0


def test_point_metrics_match_hand_computed_values():
    assert mae(ACTUAL, PREDICTED) == pytest.approx((1 + 2 + 1 + 0) / 4)
    assert rmse(ACTUAL, PREDICTED) == pytest.approx(np.sqrt((1 + 4 + 1 + 0) / 4))
    # MAPE skips the zero actual: (1/2 + 2/4 + 0/5) / 3
    assert mape(ACTUAL, PREDICTED) == pytest.approx(100 * (0.5 + 0.5 + 0) / 3)
    # sMAPE: 200|y-f|/(|y|+|f|): 200/5, 400/6, 200/1, 0
    assert smape(ACTUAL, PREDICTED) == pytest.approx((40 + 400 / 6 + 200 + 0) / 4)


def test_mape_of_all_zero_actuals_is_none_and_smape_of_zeros_is_zero():
    zeros = np.zeros((2, 1))
    assert mape(zeros, np.ones((2, 1))) is None
    assert smape(zeros, zeros) == 0.0


def test_mase_divides_by_the_in_sample_seasonal_naive_error():
    train = np.array([1.0, 3.0, 2.0, 6.0, 4.0])  # m = 2: |2-1|, |6-3|, |4-2| -> mean 2
    assert seasonal_scale(train, 2) == pytest.approx(2.0)
    assert seasonal_scale(np.full(5, 3.0), 1) is None  # constant: no scale
    assert seasonal_scale(train, 5) is None  # too short
    metrics = forecast_metrics(ACTUAL, PREDICTED, scale=2.0)
    assert metrics["mase"] == pytest.approx(1.0 / 2.0)
    assert forecast_metrics(ACTUAL, PREDICTED, scale=None)["mase"] is None


def test_metrics_are_given_per_horizon_step():
    metrics = forecast_metrics(ACTUAL, PREDICTED, scale=1.0)
    assert metrics["windows"] == 2
    assert [s["step"] for s in metrics["per_step"]] == [1, 2]
    assert metrics["per_step"][0]["mae"] == pytest.approx(1.0)  # errors 1, 1
    assert metrics["per_step"][1]["mae"] == pytest.approx(1.0)  # errors 2, 0
    assert metrics["per_step"][1]["rmse"] == pytest.approx(np.sqrt(2.0))


def test_baselines_look_back_from_each_origin():
    history = np.arange(20.0)
    origins = np.array([5, 9])
    np.testing.assert_array_equal(persistence_forecast(history, origins, 3), [[5, 5, 5], [9, 9, 9]])
    # m = 2: step 1 -> t-1, step 2 -> t, step 3 -> t-1 (a season before step 3 is step 1)
    np.testing.assert_array_equal(
        seasonal_naive_forecast(history, origins, 3, 2), [[4, 5, 4], [8, 9, 8]]
    )
    np.testing.assert_array_equal(
        seasonal_naive_forecast(history, origins, 3, 1), persistence_forecast(history, origins, 3)
    )


def _ramp(horizon=1, **data):
    sine = {"length": 100, "amplitude": 0.0, "trend": 1.0, "noise": 0.0}
    raw = tiny_config_dict(data={"sine": sine, **data})
    raw["data"]["window"]["horizon"] = horizon
    raw["model"]["layers"][-1]["units"] = horizon
    return prepare_data(config_from_dict(raw).data)


@pytest.mark.parametrize("horizon", [1, 3])
def test_baselines_forecast_the_same_windows_as_the_model(horizon):
    data = _ramp(horizon)  # value t = t: every number is its own row
    test = data.splits["test"]
    targets = test.raw_target_windows()  # what the model is scored against
    origins = test.origins()
    np.testing.assert_array_equal(targets[:, 0], origins + 1)  # the step right after the origin
    np.testing.assert_array_equal(test.windows()[0].shape[0], len(origins))
    persistence = baseline_forecasts(data, test)["persistence"]
    np.testing.assert_array_equal(persistence[:, 0], origins)  # the last input, not one later
    errors = targets - persistence  # on a ramp, persistence is off by k at step k
    np.testing.assert_array_equal(errors, np.tile(np.arange(1, horizon + 1), (len(origins), 1)))
    mean = baseline_forecasts(data, test)["mean"]
    assert np.all(mean == np.mean(data.splits["train"].raw_target))


def test_report_scores_model_and_baselines_on_the_same_windows():
    data = _ramp(2)
    forecasts = {name: split.raw_target_windows() + 1.0 for name, split in data.splits.items()}
    report = metrics_report(data, forecasts)
    assert report["test"]["mae"] == pytest.approx(1.0)
    for name in ("persistence", "seasonal_naive", "mean"):
        assert report["baselines"][name]["windows"] == report["test"]["windows"]
    assert report["baselines"]["persistence"]["mae"] == pytest.approx(1.5)  # errors 1 and 2
    assert report["data"]["unscored_windows"] == {"test": 0, "val": 0, "train": 0}
