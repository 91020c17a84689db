"""Forecasts with uncertainty (issue 16): quantile and Gaussian heads, their losses, interval
scores against hand-computed values, conformal calibration, and bad settings refused."""

import json

import keras
import numpy as np
import pytest
from conftest import tiny_config_dict, write_yaml

from lstm_app.cli import lstm_predict, lstm_train
from lstm_app.config.load import config_from_dict
from lstm_app.config.schema import interval_quantiles
from lstm_app.data.prepare import prepare_data
from lstm_app.errors import ConfigError
from lstm_app.evaluation.intervals import (
    conformal_offset,
    coverage,
    msis,
    pinball_loss,
    residual_quantiles,
    weighted_quantile_loss,
)
from lstm_app.models.heads import GaussianHead, GaussianNLL, PinballLoss, QuantileHead

LEVELS = (0.1, 0.5, 0.9)


def test_pinball_and_weighted_quantile_loss_by_hand():
    actual = np.array([[10.0, 20.0]])  # (1 window, 2 steps)
    quantiles = np.array([[[8.0, 11.0, 12.0], [15.0, 19.0, 25.0]]])  # (1, 2, 3)
    # step 1: q0.1: 0.1*2=0.2; q0.5: 0.5*1=0.5 (over); q0.9: 0.1*2=0.2 (over)
    # step 2: q0.1: 0.1*5=0.5; q0.5: 0.5*1=0.5;          q0.9: 0.1*5=0.5 (over)
    np.testing.assert_allclose(pinball_loss(actual, quantiles, LEVELS), [0.35, 0.5, 0.35])
    # sums per level 0.7, 1.0, 0.7; 2 * sum / 30, averaged over the levels
    assert weighted_quantile_loss(actual, quantiles, LEVELS) == pytest.approx(2 * 2.4 / 30 / 3)
    loss = PinballLoss(LEVELS)(actual.astype("float32"), quantiles.astype("float32"))
    assert float(loss) == pytest.approx(np.mean([0.35, 0.5, 0.35]), rel=1e-6)


def test_msis_and_coverage_by_hand():
    actual = np.array([[5.0, 12.0, 9.0]])
    lower, upper = np.array([[6.0, 8.0, 8.0]]), np.array([[10.0, 11.0, 10.0]])
    # widths 4, 3, 2; below by 1 (y=5), above by 1 (y=12); alpha 0.05: 2/alpha = 40
    assert msis(actual, lower, upper, 95, scale=2.0) == pytest.approx((9 + 40 + 40) / 3 / 2)
    assert coverage(actual, lower, upper) == pytest.approx(1 / 3)
    assert msis(actual, lower, upper, 95, scale=None) is None
    assert interval_quantiles(80) == (0.1, 0.9) and interval_quantiles(95) == (0.025, 0.975)


def test_quantiles_never_cross_whatever_the_weights():
    head = QuantileHead(horizon=4, levels=(0.05, 0.25, 0.5, 0.75, 0.95))
    raw = np.random.default_rng(0).normal(scale=10, size=(64, 4 * 5)).astype("float32")
    out = np.asarray(head(raw))
    assert out.shape == (64, 4, 5)
    assert np.all(np.diff(out, axis=-1) >= 0)


def test_quantiles_stay_ordered_through_every_inverse_transform():
    raw = tiny_config_dict(data={"transforms": ["log", "diff"], "window": {"horizon": 3}})
    raw["data"]["sine"] = {"length": 200, "period": 16, "amplitude": 5.0, "trend": 0.5}
    data = prepare_data(config_from_dict(raw).data)
    test = data.splits["test"]
    scaled = np.sort(np.random.default_rng(1).normal(size=(test.n_windows, 3, 5)), axis=-1)
    back = np.stack([data.to_original_units(test, scaled[..., j]) for j in range(5)], -1)
    assert np.all(np.diff(back, axis=-1) >= -1e-9)  # log is monotone; diff sums ordered steps


def test_gaussian_head_and_its_loss():
    head = GaussianHead(horizon=2)
    out = np.asarray(head(np.array([[1.0, -50.0, 2.0, 3.0]], "float32")))
    assert out.shape == (1, 2, 2) and np.all(out[..., 1] > 0)
    y_pred = np.array([[[0.0, 1.0], [1.0, 2.0]]], "float32")
    y_true = np.array([[1.0, 1.0]], "float32")
    expected = np.mean([0.5 + 0 + 0.9189385, 0 + np.log(2) + 0.9189385])
    assert float(GaussianNLL()(y_true, y_pred)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_conformal_calibration_reaches_its_nominal_coverage(seed):
    """Intervals of a model that is wrong about the noise (too narrow, off-centre) calibrated
    on 1,000 windows of a series with known noise cover 80% of 20,000 new ones."""
    rng = np.random.default_rng(seed)
    steps = 3

    def windows(n):
        actual = rng.normal(size=(n, steps)) * np.array([1.0, 2.0, 3.0])  # noise grows per step
        return actual, np.full((n, steps), -0.4), np.full((n, steps), 0.8)

    actual, lower, upper = windows(1000)
    offset = conformal_offset(actual, lower, upper, 80)
    new, new_lower, new_upper = windows(20_000)
    assert coverage(new, new_lower, new_upper) < 0.5  # far below 80% before
    for step in range(steps):
        got = coverage(
            new[:, step], new_lower[:, step] - offset[step], new_upper[:, step] + offset[step]
        )
        assert abs(got - 0.80) < 0.04  # sampling error of 1,000 calibration windows: ~0.013


def test_residual_quantiles_per_step():
    residuals = np.stack([np.arange(101.0), -np.arange(101.0)], axis=1)  # (101, 2)
    q = residual_quantiles(residuals, (0.1, 0.9))
    np.testing.assert_allclose(q, [[10, 90], [-90, -10]])


def _config(**sections):
    raw = tiny_config_dict(
        data={
            "quantiles": [0.1, 0.5, 0.9],
            "window": {"input_width": 8, "horizon": 2},
            "sine": {"length": 300, "period": 16, "amplitude": 20.0, "trend": 0.0, "noise": 3.0},
        },
        model={"layers": [{"type": "lstm", "units": 8}, {"type": "dense", "units": "auto"}]},
        training={"loss": "quantile", "epochs": 3},
        evaluation={"intervals": {"levels": [80], "calibrate": "conformal"}},
    )
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    return raw


@pytest.mark.parametrize("loss", ["quantile", "gaussian", "mean_squared_error"])
def test_a_run_scores_its_intervals_and_the_baselines(tmp_path, capsys, loss):
    config = write_yaml(tmp_path / "q.yaml", _config(training={"loss": loss}))
    run = tmp_path / "run"
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Quantiles 0.1, 0.5, 0.9" in out and "80% interval: covers" in out
    report = json.loads((run / "metrics.json").read_text())["intervals"]
    assert report["levels"] == [0.1, 0.5, 0.9]
    assert set(report["baselines"]) == {"persistence", "seasonal_naive"}
    interval = report["model"]["intervals"]["80"]
    assert 0 <= interval["coverage"] <= 1 and interval["width"] > 0
    if loss == "mean_squared_error":
        assert report["calibration"] == "validation residuals" and "uncalibrated" not in interval
    else:
        assert report["calibration"] == "conformal" and len(interval["offset"]) == 2
    model = keras.models.load_model(run / "model.keras")
    expected = {"quantile": (None, 2, 3), "gaussian": (None, 2, 2)}.get(loss, (None, 2))
    assert model.output_shape == expected


def test_conformal_offsets_make_the_validation_windows_covered(tmp_path):
    """Calibrated on the validation windows, the intervals cover at least 80% of them."""
    from lstm_app.models.inference import forecast_quantiles
    from lstm_app.pipeline import train

    cfg = config_from_dict(_config())
    result = train(cfg, tmp_path / "run", verbose=0)
    val = result.data.splits["val"]
    q = forecast_quantiles(result.model, result.data, val, (0.1, 0.5, 0.9), 64)
    offset = np.array(result.metrics["intervals"]["model"]["intervals"]["80"]["offset"])
    actual = val.raw_target_windows()
    assert coverage(actual, q[..., 0] - offset, q[..., 2] + offset) >= 0.8
    assert np.all(np.diff(q, axis=-1) >= 0)  # in original units too


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data": {"quantiles": [0.1, 1.5]}}, r"data.quantiles\[1\]: expected a level in \(0, 1\)"),
        ({"data": {"quantiles": [0.5, 0.1]}}, r"data.quantiles\[1\]: levels must be sorted"),
        ({"data": {"quantiles": []}}, r"data.quantiles: training.loss: quantile forecasts"),
        ({"data": {"quantiles": [0.1, 0.9]}}, r"data.quantiles: must hold 0.5, the median"),
        (
            {"evaluation": {"intervals": {"levels": [95]}}},
            r"evaluation.intervals.levels\[0\]: the 95% interval is bounded by the 0.025",
        ),
        ({"evaluation": {"intervals": {"levels": [100]}}}, r"levels\[0\]: expected a percentage"),
    ],
)
def test_bad_settings_are_one_line(tmp_path, capsys, change, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(_config(**change))
    config = write_yaml(tmp_path / "bad.yaml", _config(**change))
    assert lstm_train.main(["--config", str(config), "--check"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lstm-train: error: ")


# ---- export


@pytest.fixture(scope="module", params=["quantile", "gaussian"])
def exported_quantiles(tmp_path_factory, request):
    """A quantile (or Gaussian) run with a calibrated 80% interval, exported to every format."""
    from lstm_app.serving.formats import FORMATS

    tmp = tmp_path_factory.mktemp(request.param)
    raw = _config(
        training={"epochs": 2, "loss": request.param},
        data={"transforms": ["diff"]},
        export={"formats": list(FORMATS.names())},
    )
    config = write_yaml(tmp / "q.yaml", raw)
    run = tmp / "run"
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run), "--quiet"]) == 0
    return run


def test_the_exported_model_returns_calibrated_quantiles_in_original_units(exported_quantiles):
    from lstm_app.config.load import load_config
    from lstm_app.models.inference import forecast_quantiles
    from lstm_app.serving.predict import load_forecaster

    run = exported_quantiles
    card = json.loads((run / "export" / "metadata.json").read_text())
    assert card["output"]["shape"] == ["batch", 2, 3]
    assert card["output"]["quantiles"] == [0.1, 0.5, 0.9]
    assert card["output"]["calibrated_intervals"] == ["80"]
    cfg = load_config(run / "config.yaml")
    data = prepare_data(cfg.data, cfg.seed)
    test = data.splits["test"]
    model = keras.models.load_model(run / "model.keras")
    expected = forecast_quantiles(model, data, test, (0.1, 0.5, 0.9), 64)
    offset = np.array(
        json.loads((run / "metrics.json").read_text())["intervals"]["model"]["intervals"]["80"][
            "offset"
        ]
    )
    expected[..., 0] -= offset
    expected[..., 2] += offset
    forecaster = load_forecaster(run / "export" / "model.keras")
    series = data.series.target.astype("float32")
    rows = forecaster.spec.rows
    windows = np.stack([series[o - rows + 1 : o + 1, None] for o in test.origins()])
    got = forecaster.run(windows)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
    assert np.all(np.diff(got, axis=-1) >= 0)


@pytest.mark.parametrize("artefact", ["saved_model", "model.onnx", "model.tflite"])
def test_every_format_gives_the_keras_quantiles(exported_quantiles, artefact):
    from lstm_app.serving.predict import load_forecaster

    export = exported_quantiles / "export"
    reference = load_forecaster(export / "model.keras")
    rows = reference.spec.rows
    windows = np.random.default_rng(3).normal(20, 10, size=(5, rows, 1)).astype("float32")
    other = load_forecaster(export / artefact)
    np.testing.assert_allclose(other.run(windows), reference.run(windows), rtol=1e-4, atol=1e-4)


def test_lstm_predict_writes_one_column_per_quantile(exported_quantiles, tmp_path, capsys):
    import pandas as pd

    series = pd.DataFrame({"value": np.linspace(10, 40, 30)})
    series.to_csv(tmp_path / "recent.csv", index=False)
    out = tmp_path / "forecasts.csv"
    args = ["--model", str(exported_quantiles / "export"), "--input", str(tmp_path / "recent.csv")]
    assert lstm_predict.main([*args, "--output", str(out)]) == 0
    capsys.readouterr()
    table = pd.read_csv(out)
    assert list(table.columns) == ["origin", "time", "step", "q0.1", "q0.5", "q0.9"]
    assert len(table) == 2
    assert np.all(table["q0.1"] <= table["q0.5"]) and np.all(table["q0.5"] <= table["q0.9"])


def test_lstm_compare_shows_the_intervals(tmp_path, capsys):
    from lstm_app.cli import lstm_compare

    runs = []
    for loss in ("quantile", "mean_squared_error"):
        config = write_yaml(tmp_path / f"{loss}.yaml", _config(training={"loss": loss}))
        runs.append(tmp_path / loss)
        assert (
            lstm_train.main(["--config", str(config), "--run-dir", str(runs[-1]), "--quiet"]) == 0
        )
    assert lstm_compare.main([*map(str, runs), "--out", str(tmp_path / "cmp")]) == 0
    capsys.readouterr()
    table = (tmp_path / "cmp" / "comparison.md").read_text()
    metrics = json.loads((runs[0] / "metrics.json").read_text())["intervals"]
    row = next(line for line in table.splitlines() if line.startswith("| quantile | 80% |"))
    assert f"{metrics['model']['intervals']['80']['coverage']:.0%}" in row
    assert "| mean_squared_error | 80% | validation residuals |" in table


# ---- panels


@pytest.mark.parametrize("scaler", ["window", "series"])
def test_a_panel_with_a_quantile_head_scores_its_series_together(tmp_path, capsys, scaler):
    import pandas as pd

    noise = np.random.default_rng(4).normal(size=(6, 48))
    rows = []
    for k in range(6):
        level = 10.0 * 4**k  # 10 to 10,240: intervals in each series' own units
        for m in range(48):
            y = level * (1 + 0.2 * np.sin(2 * np.pi * m / 12) + 0.05 * noise[k, m])
            rows.append({"id": f"s{k}", "t": f"{2000 + m // 12}-{m % 12 + 1:02d}", "y": y})
    pd.DataFrame(rows).to_csv(tmp_path / "panel.csv", index=False)
    raw = _config(training={"epochs": 2}, export={"formats": ["keras"]})
    raw["data"] = {
        "source": "csv",
        "path": str(tmp_path / "panel.csv"),
        "target": "y",
        "time_column": "t",
        "series_id": "id",
        "scaler": scaler,
        "season_length": 12,
        "quantiles": [0.1, 0.5, 0.9],
        "window": {"input_width": 12, "horizon": 3},
        "split": {"test_last": 3, "val_last": 3},
    }
    config = write_yaml(tmp_path / "panel.yaml", raw)
    run = tmp_path / "run"
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "80% interval: covers" in out and "(in MASE scales)" in out
    report = json.loads((run / "metrics.json").read_text())["intervals"]
    assert report["series"] == {"scored": 6, "left_out": 0}
    interval = report["model"]["intervals"]["80"]
    assert len(interval["scaled_offset"]) == 3 and "uncalibrated" in interval
    assert set(report["baselines"]) == {"persistence", "seasonal_naive"}
    card = json.loads((run / "export" / "metadata.json").read_text())
    assert card["output"]["shape"] == ["batch", 3, 3]
    assert card["output"]["calibrated_intervals"] == []  # per-series offsets: not in the graph
    out = tmp_path / "forecasts.csv"
    args = ["--model", str(run / "export"), "--input", str(tmp_path / "panel.csv")]
    assert lstm_predict.main([*args, "--output", str(out)]) == 0
    capsys.readouterr()
    table = pd.read_csv(out)
    assert list(table.columns) == ["series", "origin", "time", "step", "q0.1", "q0.5", "q0.9"]
    last = table[table["series"] == "s5"]["q0.5"]  # levels near 10,240, in its own units
    assert np.all((last > 2000) & (last < 50_000))


def test_multivariate_inputs_transforms_and_a_long_horizon(tmp_path):
    """Quantiles of a 6-step horizon from three inputs (one of them labels), through log and
    seasonal differencing, stay ordered in original units."""
    import pandas as pd

    from lstm_app.models.inference import forecast_quantiles
    from lstm_app.pipeline import train

    t = np.arange(160)
    rng = np.random.default_rng(2)
    pd.DataFrame(
        {
            "month": pd.date_range("2000-01-01", periods=160, freq="MS").strftime("%Y-%m"),
            "x": np.round(rng.normal(size=160), 3),
            "y": np.round(
                100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(size=160), 2
            ),
            "w": np.where(t % 3 == 0, "calm", "windy"),
        }
    ).to_csv(tmp_path / "series.csv", index=False)
    raw = _config(training={"epochs": 2})
    raw["data"] = {
        "source": "csv",
        "path": str(tmp_path / "series.csv"),
        "time_column": "month",
        "target": "y",
        "features": ["x", "y", "w"],
        "categorical": ["w"],
        "transforms": ["log", "seasonal_diff"],
        "season_length": 12,
        "quantiles": [0.1, 0.5, 0.9],
        "window": {"input_width": 12, "horizon": 6},
    }
    cfg = config_from_dict(raw)
    result = train(cfg, tmp_path / "run", verbose=0)
    test = result.data.splits["test"]
    q = forecast_quantiles(result.model, result.data, test, (0.1, 0.5, 0.9), 64)
    assert q.shape == (test.n_windows, 6, 3) and np.all(np.diff(q, axis=-1) >= 0)
    np.testing.assert_allclose(q[..., 1], result.forecasts["test"], rtol=1e-6)  # the median
    assert result.metrics["intervals"]["model"]["intervals"]["80"]["coverage"] >= 0


def test_a_quantile_run_resumes_exactly(tmp_path, capsys, monkeypatch):
    from conftest import whole_and_resumed

    config = write_yaml(tmp_path / "q.yaml", _config(training={"epochs": 4}))
    args = ["--config", str(config), "--quiet"]
    whole, resumed = whole_and_resumed(tmp_path, monkeypatch, args)
    capsys.readouterr()
    assert (whole / "history.csv").read_bytes() == (resumed / "history.csv").read_bytes()
    intervals = [
        json.loads((r / "metrics.json").read_text())["intervals"] for r in (whole, resumed)
    ]
    assert intervals[0] == intervals[1]


def test_interval_rows_read_a_report_one_row_per_interval():
    from lstm_app.evaluation.report import interval_rows, percent_text

    report = {
        "calibration": "conformal",
        "model": {
            "wql": 0.02,
            "intervals": {
                "80": {
                    "coverage": 0.82,
                    "width": 40.0,
                    "msis": 5.0,
                    "uncalibrated": {"coverage": 0.88},
                },
                "95": {"coverage": 0.94, "width": 60.0, "msis": 7.0},
            },
        },
        "baselines": {"persistence": {"wql": 0.07}, "seasonal_naive": {"wql": 0.03}},
    }
    rows = interval_rows(report)
    assert [r["level"] for r in rows] == ["80", "95"]
    assert [r["uncalibrated"] for r in rows] == [0.88, None]
    assert rows[1]["msis"] == 7.0 and rows[0]["wql"] == 0.02
    assert rows[0]["baseline_wql"] == {"persistence": 0.07, "seasonal_naive": 0.03}
    assert [percent_text(r["uncalibrated"]) for r in rows] == ["88%", "-"]
