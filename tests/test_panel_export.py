"""A panel model exported (issue 15): with `scaler: window` each window is scaled inside the
graph, so the exported model forecasts any series from its raw window alone, in its own
runtime without lstm_app; `lstm-predict --input` a long CSV forecasts every series."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_config_dict, write_yaml

from lstm_app.cli import lstm_predict, lstm_train
from lstm_app.config.load import load_config
from lstm_app.errors import ConfigError, UserInputError
from lstm_app.serving.exporter import export_run
from lstm_app.serving.predict import forecast_csv, load_forecaster, panel_inputs

LEVELS = {"north": 5.0, "south": 300.0, "east": 40.0, "west": 9000.0}  # far apart: one model
KINDS = {"north": "coast", "south": "inland", "east": "coast", "west": "inland"}
HORIZON, WIDTH = 3, 6


def _write_panel(path, months=40, drop_last=0):
    noise = np.random.default_rng(3).normal(size=(len(LEVELS), months))
    rows = []
    for k, (name, level) in enumerate(LEVELS.items()):
        for m in range(months - drop_last):
            y = level * (1 + 0.2 * np.sin(2 * np.pi * m / 12) + 0.02 * noise[k, m])
            stamp = f"{2000 + m // 12}-{m % 12 + 1:02d}"
            rows.append({"id": name, "t": stamp, "kind": KINDS[name], "y": round(y, 4)})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _config(tmp_path, scaler="window", formats=("keras", "saved_model", "onnx")):
    data = {"source": "csv", "path": str(_write_panel(tmp_path / "panel.csv")), "target": "y"}
    data |= {"time_column": "t", "series_id": "id", "static": ["kind"], "scaler": scaler}
    data |= {"season_length": 12, "window": {"input_width": WIDTH, "horizon": HORIZON}}
    data |= {"split": {"test_last": HORIZON, "val_last": HORIZON}}
    raw = tiny_config_dict(
        name="panel_export",
        data=data,
        model={
            "layers": [{"type": "lstm", "units": 6}, {"type": "dense", "units": HORIZON}],
            "static_embedding": 3,  # the label learnt as a vector, inside every format
        },
        training={"epochs": 3},
        export={"formats": list(formats)},
    )
    raw["data"].pop("sine")
    return write_yaml(tmp_path / "panel.yaml", raw)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A panel run with scaler: window, exported as it trains."""
    tmp = tmp_path_factory.mktemp("panel_export")
    run = tmp / "run"
    args = ["--config", str(_config(tmp)), "--run-dir", str(run), "--quiet"]
    assert lstm_train.main(args) == 0
    return tmp, run


def _test_windows(tmp, run):
    """Each series' raw window before its test block, and the run's forecasts of it."""
    forecaster = load_forecaster(run / "export")
    inputs = panel_inputs(forecaster, tmp / "panel.csv")
    rows = forecaster.spec.rows
    windows = np.stack([values[-HORIZON - rows : -HORIZON] for _, values, _ in inputs])
    return forecaster, [series_id for series_id, _, _ in inputs], windows


def test_the_card_says_how_to_feed_any_series(exported):
    _, run = exported
    card = json.loads((run / "export" / "metadata.json").read_text())
    assert card["kind"] == "panel"
    assert card["config"]["model"]["static_embedding"] == 3
    assert card["inputs"]["columns"] == ["y", "kind=coast", "kind=inland"]
    assert card["scaler"]["window"]["kind"] == "window"
    assert card["scaler"]["window"]["columns"] == ["y"]
    assert card["series"]["id_columns"] == ["id"] and card["series"]["static"] == ["kind"]
    assert card["test_metrics"]["model"]["mase"]["series"] == 4


def test_saved_model_and_onnx_give_each_series_its_run_forecast_without_lstm_app(
    exported, tmp_path
):
    tmp, run = exported
    _, ids, windows = _test_windows(tmp, run)
    table = pd.read_csv(run / "series_metrics.csv")
    assert list(table["series"]) == ids == list(LEVELS)
    expected = _run_forecasts(run, ids)
    np.save(tmp_path / "windows.npy", windows)
    np.save(tmp_path / "expected.npy", expected)
    script = f"""
import sys
sys.modules["lstm_app"] = None  # any import of lstm_app now fails
import numpy as np
import onnxruntime
import tensorflow as tf
windows = np.load({str(tmp_path / "windows.npy")!r})
expected = np.load({str(tmp_path / "expected.npy")!r})
out = {str(run / "export")!r}
served = tf.saved_model.load(out + "/saved_model")  # kept: its variables live with it
got = {{"saved_model": served.serve(tf.constant(windows))}}
session = onnxruntime.InferenceSession(out + "/model.onnx", providers=["CPUExecutionProvider"])
got["onnx"] = session.run(None, {{"raw_window": windows}})[0]
for name, values in got.items():
    np.testing.assert_allclose(np.asarray(values), expected, rtol=1e-4, err_msg=name)
    print(name, np.shape(values))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "saved_model (4, 3)" in done.stdout and "onnx (4, 3)" in done.stdout
    # levels 5 to 9000 from one model: each forecast near its own series
    for forecast, level in zip(expected, LEVELS.values(), strict=True):
        assert np.all(np.abs(forecast / level - 1) < 0.6)


def _run_forecasts(run, ids) -> np.ndarray:
    """The run's test forecasts `(series, horizon)`, from the Keras model it saved (the same
    numbers as series_metrics.csv was scored on)."""
    import keras

    from lstm_app.data.panel import prepare_panel
    from lstm_app.models.inference import forecast

    cfg = load_config(run / "config.yaml")
    prepared = prepare_panel(cfg.data, cfg.seed)
    assert prepared.ids == tuple(ids)
    model = keras.models.load_model(run / "model.keras")
    return np.concatenate(
        [forecast(model, part, part.splits["test"], 64) for part in prepared.parts]
    )


def test_lstm_predict_forecasts_every_series_of_a_long_csv(exported, tmp_path, capsys):
    _, run = exported
    recent = _write_panel(tmp_path / "recent.csv", drop_last=HORIZON)  # up to the test block
    out = tmp_path / "forecasts.csv"
    args = ["--model", str(run / "export" / "model.onnx"), "--input", str(recent)]
    assert lstm_predict.main([*args, "--output", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["series", "origin", "time", "step", "forecast"]
    assert list(table["series"].unique()) == list(LEVELS)
    assert set(table["origin"]) == {"2003-01-01"}  # 40 months from 2000-01, less 3
    assert list(table["time"][:3]) == ["2003-02-01", "2003-03-01", "2003-04-01"]
    expected = _run_forecasts(run, list(LEVELS))
    np.testing.assert_allclose(
        table["forecast"].to_numpy().reshape(4, HORIZON), expected, rtol=1e-4
    )
    assert "Forecasts of y by" in capsys.readouterr().out


def test_a_series_with_a_label_the_model_never_saw_is_one_line(exported, tmp_path, capsys):
    _, run = exported
    frame = pd.read_csv(_write_panel(tmp_path / "recent.csv"))
    frame.loc[frame["id"] == "east", "kind"] = "desert"
    frame.to_csv(tmp_path / "odd.csv", index=False)
    args = ["--model", str(run / "export"), "--input", str(tmp_path / "odd.csv")]
    assert lstm_predict.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "series 'east', column 'kind': 'desert' was not among the model's labels" in err


def test_a_panel_scaled_series_by_series_carries_their_statistics(tmp_path, capsys):
    """scaler: series: the card holds each series' statistics, lstm-predict applies them by
    id and refuses a series the model does not know."""
    run = tmp_path / "run"
    config = _config(tmp_path, scaler="series", formats=("keras", "onnx"))
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run), "--quiet"]) == 0
    card = json.loads((run / "export" / "metadata.json").read_text())
    assert card["series_scaling"]["columns"] == ["y"]
    assert list(card["series_scaling"]["series"]) == list(LEVELS)
    south = card["series_scaling"]["series"]["south"]
    assert south["offset"][0] == pytest.approx(300, rel=0.1) == south["target"][0]
    recent = _write_panel(tmp_path / "recent.csv", drop_last=HORIZON)
    table = forecast_csv(load_forecaster(run / "export" / "model.onnx"), recent)
    np.testing.assert_allclose(
        table["forecast"].to_numpy().reshape(4, HORIZON),
        _run_forecasts(run, list(LEVELS)),
        rtol=1e-4,
    )
    frame = pd.read_csv(recent)
    frame.loc[frame["id"] == "east", "id"] = "elsewhere"
    frame.to_csv(tmp_path / "other.csv", index=False)
    args = ["--model", str(run / "export"), "--input", str(tmp_path / "other.csv")]
    assert lstm_predict.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "series 'elsewhere' is not one of the 4 series the model was trained on" in err


def test_a_panel_scaled_series_by_series_with_transforms_is_not_exported_yet(tmp_path):
    import yaml

    path = _config(tmp_path, scaler="series")
    raw = yaml.safe_load(path.read_text())
    raw["data"]["transforms"] = ["diff"]
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"export.formats: a panel scaled series by series"):
        load_config(path)
    raw["export"]["formats"] = []
    path.write_text(yaml.safe_dump(raw))
    run = tmp_path / "run"
    assert lstm_train.main(["--config", str(path), "--run-dir", str(run), "--quiet"]) == 0
    with pytest.raises(UserInputError, match=r"with data.transforms \['diff'\] is not exported"):
        export_run(run, ["keras"])


def test_a_series_shorter_than_a_window_is_forecast_from_a_padded_one(tmp_path, capsys):
    """A series with fewer rows before its test block than a window's inputs: the run scores it
    from a window led by copies of its first row (`series.padded`), and lstm-predict forecasts
    it the same way, saying so in a `padded` column."""
    config = _config(tmp_path, formats=("keras", "onnx"))
    frame = pd.read_csv(tmp_path / "panel.csv")
    short = frame[(frame["id"] != "west") | (frame.groupby("id").cumcount(ascending=False) < 7)]
    short.to_csv(tmp_path / "panel.csv", index=False)  # west: 4 rows before its 3 to forecast
    run = tmp_path / "run"
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run), "--quiet"]) == 0
    assert "1 series shorter than a window's inputs were forecast" in capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["series"]["padded"] == {"west": WIDTH - 4}
    assert metrics["series"]["left_out"] == {}
    scored = pd.read_csv(run / "series_metrics.csv").set_index("series")
    assert np.isfinite(scored.loc["west", "model_smape"])
    recent = short.groupby("id", sort=False).head(-HORIZON)  # up to the test block
    recent.to_csv(tmp_path / "recent.csv", index=False)
    table = forecast_csv(load_forecaster(run / "export" / "model.onnx"), tmp_path / "recent.csv")
    assert table.groupby("series")["padded"].first().to_dict() == {
        "north": 0,
        "south": 0,
        "east": 0,
        "west": WIDTH - 4,
    }
    np.testing.assert_allclose(
        table["forecast"].to_numpy().reshape(4, HORIZON),
        _run_forecasts(run, list(LEVELS)),
        rtol=1e-4,
    )


def test_a_combined_panel_forecasts_with_lstm_predict_what_the_run_scored(tmp_path, capsys):
    """model.combine: the run's forecasts are the median of the network's, ETS's and Theta's;
    lstm-predict, given each series up to its test block, forecasts the same numbers."""
    from lstm_app.data.panel import prepare_panel
    from lstm_app.evaluation.baselines import forecasts_of
    from lstm_app.models.statistical import combine

    config = _config(tmp_path, formats=("keras",))
    run = tmp_path / "run"
    args = ["--config", str(config), "--run-dir", str(run), "--quiet"]
    assert lstm_train.main([*args, "--set", "model.combine=[ets, theta]"]) == 0
    out = capsys.readouterr().out
    assert "(the network alone)" in out and "median of the network's, ETS's, Theta's" in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["combine"] == ["ets", "theta"] and "network" in metrics["panel"]
    cfg = load_config(run / "config.yaml")
    prepared = prepare_panel(cfg.data, cfg.seed)
    network = _run_forecasts(run, list(LEVELS)).reshape(4, 1, HORIZON)
    expected = []
    for part, values in zip(prepared.parts, network, strict=True):
        found = forecasts_of(part, part.splits["test"], ("ets", "theta"))
        expected.append(combine(values, [found["ets"], found["theta"]]))
    expected = np.concatenate(expected)
    table = pd.read_csv(run / "series_metrics.csv")
    assert not np.allclose(table["model_mae"], table["network_mae"])  # the combination differs
    recent = _write_panel(tmp_path / "recent.csv", drop_last=HORIZON)
    forecasts = forecast_csv(load_forecaster(run / "export" / "model.keras"), recent)
    np.testing.assert_allclose(
        forecasts["forecast"].to_numpy().reshape(4, HORIZON), expected, rtol=1e-4
    )
