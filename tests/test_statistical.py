"""The statistical baselines (AutoETS, AutoTheta from statsforecast): fitted once up to the
split's first origin, applied at each origin from what is known there, chosen by
`evaluation.baselines`, computed once per series however often they are asked for."""

import numpy as np
import pytest
from conftest import REPO

from lstm_app.evaluation import baselines as baselines_module
from lstm_app.evaluation.baselines import NOT_RUN, baseline_forecasts, baseline_notes
from lstm_app.evaluation.metrics import metrics_report
from lstm_app.models.statistical import MIN_ROWS, statistical_forecast


def seasonal_series(n=120, m=12, seed=0) -> np.ndarray:
    """A level with a strong season of `m` steps, a slow trend and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 0.2 * t + 20 * np.sin(2 * np.pi * t / m) + rng.normal(0, 1, n)


@pytest.mark.parametrize("name", ["ets", "theta"])
def test_a_statistical_model_forecasts_a_seasonal_series_better_than_persistence(name):
    y = seasonal_series()
    origins = np.arange(95, 110)
    forecasts, note = statistical_forecast(name, y, origins, 6, 12)
    assert note is None and forecasts.shape == (15, 6)
    actual = np.stack([y[o + 1 : o + 7] for o in origins])
    persistence = np.repeat(y[origins][:, None], 6, axis=1)
    assert np.abs(actual - forecasts).mean() < 0.5 * np.abs(actual - persistence).mean()


@pytest.mark.parametrize("name", ["ets", "theta"])
def test_each_origin_is_forecast_from_the_rows_up_to_it_only(name):
    y = seasonal_series()
    origins = np.array([90, 100])
    forecasts, _ = statistical_forecast(name, y, origins, 4, 12)
    changed = y.copy()
    changed[101:] += 1000  # the future of the last origin: must not move its forecast
    again, _ = statistical_forecast(name, changed, origins, 4, 12)
    np.testing.assert_allclose(again, forecasts, rtol=1e-9)
    changed[95] += 50  # a row the last origin has seen: moves its forecast, not the first's
    moved, _ = statistical_forecast(name, changed, origins, 4, 12)
    np.testing.assert_allclose(moved[0], forecasts[0], rtol=1e-9)
    assert not np.allclose(moved[1], forecasts[1])


def test_too_few_rows_before_the_first_origin_is_a_note_not_an_error():
    forecasts, note = statistical_forecast("ets", np.arange(10.0), np.array([MIN_ROWS - 2]), 3, 1)
    assert forecasts is None and note.startswith("left out:") and f"needs {MIN_ROWS}" in note


def _prepared(tmp_path, baselines=None):
    from dataclasses import replace

    from lstm_app.config.load import config_from_dict
    from lstm_app.data.prepare import prepare_data
    from tests.conftest import tiny_config_dict

    raw = tiny_config_dict()
    raw["data"]["season_length"] = 12
    cfg = config_from_dict(raw)
    data = prepare_data(cfg.data, cfg.seed)
    return data if baselines is None else replace(data, baselines=baselines)


def test_every_run_scores_ets_and_theta_beside_the_naive_baselines(tmp_path):
    data = _prepared(tmp_path)
    test = data.splits["test"]
    forecasts = baseline_forecasts(data, test)
    assert set(forecasts) == {"persistence", "seasonal_naive", "mean", "ets", "theta"}
    report = metrics_report(data, {"test": np.zeros((test.n_windows, test.horizon))})
    for name in ("ets", "theta"):
        assert report["baselines"][name]["windows"] == report["test"]["windows"]
        assert report["baselines"][name]["mase"] is not None


def test_baselines_left_out_by_the_config_are_noted_not_computed(tmp_path, monkeypatch):
    data = _prepared(tmp_path, baselines=("persistence",))
    test = data.splits["test"]
    monkeypatch.setattr(
        baselines_module, "statistical_forecast", lambda *a: pytest.fail("ETS was computed")
    )
    assert set(baseline_forecasts(data, test)) == {"persistence"}
    assert baseline_notes(data, test)["ets"] == NOT_RUN
    report = metrics_report(data, {"test": np.zeros((test.n_windows, test.horizon))})
    assert report["baselines"]["theta"]["mae"] is None
    assert report["baselines"]["theta"]["note"] == NOT_RUN


def test_a_split_is_forecast_once_however_often_it_is_asked_for(tmp_path, monkeypatch):
    data = _prepared(tmp_path)
    calls = []
    real = baselines_module.statistical_forecast
    monkeypatch.setattr(
        baselines_module,
        "statistical_forecast",
        lambda name, *args: calls.append(name) or real(name, *args),
    )
    test = data.splits["test"]
    first = baseline_forecasts(data, test)
    again = baseline_forecasts(data, test)
    assert sorted(calls) == ["ets", "theta"]
    np.testing.assert_array_equal(first["ets"], again["ets"])
    baseline_forecasts(data, data.splits["val"], ("ets",))
    assert sorted(calls) == ["ets", "ets", "theta"]  # another split: its own forecasts


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[ets, arima]", "evaluation.baselines[1]: expected one of: persistence, seasonal_naive"),
        ("[ets, ets]", "evaluation.baselines[1]: 'ets' is listed twice"),
    ],
)
def test_the_baselines_key_is_checked(tiny_config_file, value, message):
    from lstm_app.config.load import load_config
    from lstm_app.errors import ConfigError

    with pytest.raises(ConfigError) as error:
        load_config(tiny_config_file, [f"evaluation.baselines={value}"])
    assert message in str(error.value)


def test_auto_leaves_ets_and_theta_out_of_a_panel_read_shard_by_shard_only(tiny_config_file):
    from lstm_app.config.load import load_config
    from lstm_app.config.rules import run_baselines

    assert run_baselines(load_config(tiny_config_file)) == (
        "persistence",
        "seasonal_naive",
        "mean",
        "ets",
        "theta",
    )
    chosen = load_config(tiny_config_file, ["evaluation.baselines=[theta, persistence]"])
    assert run_baselines(chosen) == ("theta", "persistence")
    stream = load_config(
        REPO / "configs" / "tourism.yaml", ["data.stream=true", "model.combine=[]"]
    )
    assert run_baselines(stream) == ("persistence", "seasonal_naive", "mean")
