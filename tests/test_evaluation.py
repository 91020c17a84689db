"""Metrics against hand-computed values, and baselines that forecast exactly the model's windows."""

import warnings

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
    forecast_table,
    mae,
    mape,
    metrics_report,
    rmse,
    seasonal_scale,
    smape,
)
from lstm_app.evaluation.plots import plot_forecast, plot_loss

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
    np.testing.assert_allclose(mean, np.mean(data.splits["train"].raw_target), rtol=1e-12)


def test_report_scores_model_and_baselines_on_the_same_windows():
    data = _ramp(2)
    forecasts = {name: split.raw_target_windows() + 1.0 for name, split in data.splits.items()}
    report = metrics_report(data, forecasts)
    assert report["test"]["mae"] == pytest.approx(1.0)
    for name in ("persistence", "seasonal_naive", "mean"):
        assert report["baselines"][name]["windows"] == report["test"]["windows"]
    assert report["baselines"]["persistence"]["mae"] == pytest.approx(1.5)  # errors 1 and 2
    assert report["data"]["unscored_windows"] == {"test": 0, "val": 0, "train": 0}


def _long_season(season_length, length=200):
    """A ramp of `length` rows (value t = t); the test windows' first origin is row 167."""
    sine = {"length": length, "amplitude": 0.0, "trend": 1.0, "noise": 0.0}
    raw = tiny_config_dict(data={"sine": sine, "season_length": season_length})
    return prepare_data(config_from_dict(raw).data)


def _summary(metrics, data, tmp_path):
    from lstm_app.jobs.series import run_summary
    from lstm_app.runs.rundir import RunDir

    return run_summary(metrics, data, RunDir(tmp_path))


def test_seasonal_naive_is_left_out_when_a_season_reaches_before_the_first_row(tmp_path):
    data = _long_season(190)  # a season back from origin 167 would be row -22: the future
    test = data.splits["test"]
    assert test.origins()[0] == 167
    assert "seasonal_naive" not in baseline_forecasts(data, test)
    report = metrics_report(data, {"test": test.raw_target_windows() + 1.0})
    naive = report["baselines"]["seasonal_naive"]
    for key in ("mae", "rmse", "mape", "smape", "mase"):
        assert naive[key] is None
    assert all(step["mae"] is None for step in naive["per_step"])
    assert naive["windows"] == report["test"]["windows"]
    assert "data.season_length 190" in naive["note"] and "first row" in naive["note"]
    assert report["baselines"]["persistence"]["mae"] == pytest.approx(1.0)
    assert "note" not in report["baselines"]["persistence"]
    table = forecast_table(data, test, test.raw_target_windows() + 1.0)
    assert table["seasonal_naive"].isna().all() and table["persistence"].notna().all()
    summary = _summary(report, data, tmp_path)
    assert "seasonal naive (m=190)" in summary
    assert "seasonal naive's" not in summary  # no comparison with it
    assert "Seasonal naive is left out: data.season_length 190 reaches back" in summary
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_forecast(data, test.raw_target_windows() + 1.0, tmp_path / "forecast.png")


def test_seasonal_naive_is_kept_when_every_season_back_is_in_the_series():
    data = _long_season(168)  # origin 167 + 1 - 168 = row 0: the first row, observed
    test = data.splits["test"]
    forecast = baseline_forecasts(data, test)["seasonal_naive"]
    np.testing.assert_array_equal(forecast[:, 0], test.origins() + 1 - 168)
    report = metrics_report(data, {"test": test.raw_target_windows()})
    assert report["baselines"]["seasonal_naive"]["mae"] == pytest.approx(168.0)
    assert "note" not in report["baselines"]["seasonal_naive"]


def test_backtest_summary_skips_a_left_out_baseline(tmp_path):
    from lstm_app.evaluation.backtest import run_backtest

    sine = {"length": 200, "amplitude": 0.0, "trend": 1.0, "noise": 0.0}
    raw = tiny_config_dict(
        data={"sine": sine, "season_length": 190}, evaluation={"backtest": {"folds": 2}}
    )
    cfg = config_from_dict(raw)
    data = prepare_data(cfg.data, cfg.seed)
    last = metrics_report(data, {"test": data.splits["test"].raw_target_windows() + 1.0})
    result = run_backtest(
        cfg, data, last, lambda fold: fold.splits["test"].raw_target_windows() + 1.0
    )
    assert result["summary"]["seasonal_naive"]["mae"] is None
    assert result["summary"]["persistence"]["mae"]["mean"] == pytest.approx(1.0)
    summary = _summary({**last, "backtest": result}, data, tmp_path)
    assert "Backtest, 2 folds" in summary and "seasonal naive -" in summary


def test_summary_reads_well_when_a_baseline_is_exact_on_a_constant_series(tmp_path):
    sine = {"length": 100, "amplitude": 0.0, "trend": 0.0, "noise": 0.0}
    raw = tiny_config_dict(data={"sine": sine, "season_length": 4})
    data = prepare_data(config_from_dict(raw).data)
    test = data.splits["test"]
    report = metrics_report(data, {"test": test.raw_target_windows() + 0.25})
    summary = _summary(report, data, tmp_path)
    sentence = next(line for line in summary.splitlines() if line.startswith("The model's"))
    assert sentence == (
        "The model's test MAE is 0.25; persistence's is 0 (a constant series) and seasonal "
        "naive's is 0 (the series repeats itself each season) and ETS's is 0 (its smoothing "
        "follows the series exactly) and Theta's is 0 (its smoothing follows the series exactly)."
    )


def test_summary_with_a_zero_baseline_still_compares_the_others(tmp_path):
    from lstm_app.jobs.series import _compare_sentence

    assert _compare_sentence(2.0, {"persistence": 0.0, "seasonal naive": 4.0}) == (
        "The model's test MAE is 2; persistence's is 0 (a constant series); it is 50% lower "
        "than seasonal naive's."
    )
    assert _compare_sentence(1.0, {"persistence": 4.0, "seasonal naive": 2.0}) == (
        "The model's test MAE is 75% lower than persistence's and 50% lower than seasonal naive's."
    )


def test_loss_plot_of_a_zero_loss_warns_nothing(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_loss({"loss": [0.0, 0.0], "val_loss": [0.0, 0.0]}, tmp_path / "loss.png")
        plot_loss({"loss": [1.0, 0.5], "val_loss": [2.0, 1.0]}, tmp_path / "loss2.png")
    assert (tmp_path / "loss.png").stat().st_size > 0
