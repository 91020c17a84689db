"""Exported models: raw values in, original units out, the same forecasts in every format and
runtime (checked in a process where lstm_app cannot be imported), and lstm-predict."""

import hashlib
import json
import re
import shutil
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import LSTM_TRAIN, tiny_config_dict, write_yaml

from lstm_app.cli import lstm_predict
from lstm_app.config.load import config_from_dict
from lstm_app.errors import UserInputError
from lstm_app.pipeline import train
from lstm_app.serving.exporter import export_run
from lstm_app.serving.formats import FORMATS, missing_extras
from lstm_app.serving.graph import build_serving_model
from lstm_app.serving.predict import forecast_csv, load_forecaster, raw_inputs
from lstm_app.serving.spec import ServingSpec

LSTM_EXPORT = LSTM_TRAIN.with_name("lstm-export")
# what TensorFlow's C++ runtime prints on stderr while it loads, before any setting can stop it
TF_NOISE = re.compile(r"[IWE]\d{4} |WARNING: All log messages before absl|To enable the following")
LSTM_PREDICT = LSTM_TRAIN.with_name("lstm-predict")
HORIZON, SEASON = 6, 4  # a horizon longer than a season: the inverse uses its own forecasts


def _write_csv(path, rows=120):
    """Monthly rows: a positive seasonal target y, a numeric input x, a label w."""
    t = np.arange(rows)
    rng = np.random.default_rng(1)
    y = 100 + 0.8 * t + 10 * np.sin(2 * np.pi * t / SEASON) + rng.normal(size=rows)
    frame = pd.DataFrame(
        {
            "month": pd.date_range("2000-01-01", periods=rows, freq="MS").strftime("%Y-%m"),
            "x": np.round(rng.normal(size=rows), 3),
            "y": np.round(y, 2),
            "w": np.where(t % 3 == 0, "calm", "windy"),
        }
    )
    frame.to_csv(path, index=False)
    return path


def _config(csv, layer_type):
    raw = tiny_config_dict(
        name=f"exp_{layer_type}",
        data={
            "source": "csv",
            "path": str(csv),
            "time_column": "month",
            "target": "y",
            "features": ["x", "y", "w"],
            "categorical": ["w"],
            "transforms": ["log", "diff", "seasonal_diff"],
            "season_length": SEASON,
            "window": {"input_width": 6, "horizon": HORIZON},
        },
        model={"layers": [{"type": layer_type, "units": 6}, {"type": "dense", "units": HORIZON}]},
        training={"epochs": 2},
    )
    raw["data"].pop("sine")
    return config_from_dict(raw)


@pytest.fixture(scope="module", params=["lstm", "gate_lstm"])
def exported(request, tmp_path_factory):
    """A finished run of each kind, exported to every format."""
    tmp = tmp_path_factory.mktemp(request.param)
    csv = _write_csv(tmp / "series.csv")
    run_dir = tmp / "run"
    run_dir.mkdir()
    result = train(_config(csv, request.param), run_dir, verbose=0)
    (run_dir / "run.json").write_text(json.dumps({"status": "done", "versions": {}}))
    out = export_run(run_dir, list(FORMATS.names()))
    return result, out, csv


def test_serving_model_gives_the_run_forecasts_from_raw_values(exported):
    result, out, csv = exported
    spec = ServingSpec.from_run(result.run_dir)
    assert spec.inputs == ("x", "y", "w=calm", "w=windy") and spec.target_index == 1
    assert spec.rows == 6 + 1 + SEASON  # input_width + the transforms' rows
    serving = build_serving_model(result.model, spec)
    values, _ = raw_inputs(load_forecaster(out), csv)
    test = result.data.splits["test"]
    origins = test.origins()
    windows = np.stack([values[o - spec.rows + 1 : o + 1] for o in origins])
    np.testing.assert_allclose(np.asarray(serving(windows)), result.forecasts["test"], rtol=1e-4)


def test_every_format_agrees_with_keras_in_its_own_runtime_without_lstm_app(exported, tmp_path):
    _, out, csv = exported
    keras_model = keras.models.load_model(out / "model.keras")  # needs lstm_app: in process
    forecaster = load_forecaster(out / "model.keras")
    values, _ = raw_inputs(forecaster, csv)
    rows = forecaster.spec.rows
    windows = np.ascontiguousarray(
        np.lib.stride_tricks.sliding_window_view(values, rows, axis=0).transpose(0, 2, 1)
    )
    expected = np.asarray(keras_model(windows))
    np.save(tmp_path / "windows.npy", windows)
    np.save(tmp_path / "expected.npy", expected)
    script = f"""
import sys
sys.modules["lstm_app"] = None  # any import of lstm_app now fails
import numpy as np
windows = np.load({str(tmp_path / "windows.npy")!r})
expected = np.load({str(tmp_path / "expected.npy")!r})
out = {str(out)!r}

import tensorflow as tf
served = tf.saved_model.load(out + "/saved_model")
got = {{"saved_model": served.serve(tf.constant(windows)).numpy()}}

import onnxruntime
session = onnxruntime.InferenceSession(out + "/model.onnx", providers=["CPUExecutionProvider"])
got["onnx"] = session.run(None, {{"raw_window": windows}})[0]

from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path=out + "/model.tflite")
(inputs,) = interpreter.get_input_details()
interpreter.resize_tensor_input(inputs["index"], windows.shape)
interpreter.allocate_tensors()
interpreter.set_tensor(inputs["index"], windows)
interpreter.invoke()
got["tflite"] = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

for name, values in got.items():
    np.testing.assert_allclose(values, expected, rtol=1e-4, err_msg=name)
    print(name, values.shape, float(np.max(np.abs(values / expected - 1))))
print("lstm_app imported:", sys.modules["lstm_app"] is not None)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("saved_model", "onnx", "tflite"):
        assert f"{name} ({len(windows)}, {HORIZON})" in done.stdout
    assert "lstm_app imported: False" in done.stdout
    np.testing.assert_allclose(forecaster.run(windows), expected, rtol=1e-6)


@pytest.mark.parametrize("name", FORMATS.names())
def test_every_registered_format_forecasts_what_keras_forecasts(exported, name):
    """Each format of the registry, loaded by its own runner as lstm-predict loads it: a new
    format is checked here without a line more."""
    _, out, csv = exported
    keras_model = keras.models.load_model(out / "model.keras")
    forecaster = load_forecaster(out / FORMATS[name].artefact)
    assert forecaster.format == name
    values, _ = raw_inputs(forecaster, csv)
    windows = np.ascontiguousarray(
        np.lib.stride_tricks.sliding_window_view(values, forecaster.spec.rows, axis=0).transpose(
            0, 2, 1
        )
    )
    np.testing.assert_allclose(forecaster.run(windows), np.asarray(keras_model(windows)), rtol=1e-4)


def test_metadata_describes_how_to_feed_the_model(exported):
    result, out, _ = exported
    card = json.loads((out / "metadata.json").read_text())
    assert card["kind"] == "series"  # the kind run.json records
    assert card["inputs"]["columns"] == ["x", "y", "w=calm", "w=windy"]
    assert card["inputs"]["rows"] == 11 and card["inputs"]["frequency"] == "MS"
    assert card["inputs"]["categorical"] == {"w": ["calm", "windy"]}
    assert card["output"]["horizon"] == HORIZON and card["target"]["name"] == "y"
    assert card["transforms"] == ["log", "diff", "seasonal_diff"] and card["season_length"] == 4
    scaler = json.loads((result.run_dir / "scaler.json").read_text())
    assert card["scaler"]["features"]["x"] == [
        scaler["features"]["columns"]["x"]["offset"],
        scaler["features"]["columns"]["x"]["scale"],
    ]
    config = (result.run_dir / "config.yaml").read_bytes()
    assert card["config_sha256"] == hashlib.sha256(config).hexdigest()
    assert card["test_metrics"]["model"]["mae"] == pytest.approx(result.metrics["test"]["mae"])
    assert set(card["test_metrics"]) == {
        "model",
        "persistence",
        "seasonal_naive",
        "mean",
        "ets",
        "theta",
    }
    assert card["formats"] == {
        "keras": "model.keras",
        "saved_model": "saved_model",
        "onnx": "model.onnx",
        "tflite": "model.tflite",
    }


@pytest.mark.parametrize("artefact", ["model.keras", "saved_model", "model.onnx", "model.tflite"])
def test_predict_stamps_forecasts_with_the_following_months(exported, artefact):
    result, out, csv = exported
    forecaster = load_forecaster(out / artefact)
    last = forecast_csv(forecaster, csv)
    assert list(last["time"]) == [
        "2010-01-01",
        "2010-02-01",
        "2010-03-01",
        "2010-04-01",
        "2010-05-01",
        "2010-06-01",
    ]
    assert set(last["origin"]) == {"2009-12-01"} and list(last["step"]) == [1, 2, 3, 4, 5, 6]
    every = forecast_csv(forecaster, csv, all_windows=True)
    assert len(every) == (120 - forecaster.spec.rows + 1) * HORIZON
    table = pd.read_csv(result.run_dir / "forecasts.csv")  # the run's own test forecasts
    mine = every.set_index(["time", "step"]).loc[
        list(zip(table["time"], table["step"], strict=True))
    ]
    np.testing.assert_allclose(mine["forecast"], table["predicted"], rtol=1e-4)


def test_lstm_predict_cli_writes_and_refuses_to_overwrite(exported, tmp_path):
    _, out, csv = exported
    target = tmp_path / "forecasts.csv"
    done = subprocess.run(
        [str(LSTM_PREDICT), "--model", str(out), "--input", str(csv), "--output", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2010-01-01" in done.stdout and len(pd.read_csv(target)) == HORIZON
    again = subprocess.run(
        [str(LSTM_PREDICT), "--model", str(out), "--input", str(csv), "--output", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 2
    assert again.stderr == f"lstm-predict: error: --output {target}: exists; give a new file name\n"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing column", "column 'x' (an input of the model) not found"),
        (
            "too few rows",
            "has 5 usable rows; the model needs the last 11 (input_width 6 + 5 for the transforms)",
        ),
        ("no model", "--model {tmp}/nowhere: not found"),
        ("not a model", "--model {tmp}/notes.txt: no metadata.json beside it"),
        ("corrupt model", "--model {tmp}/model.keras: cannot be loaded as keras"),
        ("code in the model", "--model {tmp}/model.keras: cannot be loaded as keras: "),
    ],
)
def test_lstm_predict_bad_input_is_one_line(exported, tmp_path, case, message):
    _, out, csv = exported
    model, data = out, csv
    if case == "missing column":
        data = tmp_path / "nox.csv"
        pd.read_csv(csv).drop(columns="x").to_csv(data, index=False)
    elif case == "too few rows":
        data = tmp_path / "short.csv"
        pd.read_csv(csv).tail(5).to_csv(data, index=False)
    elif case == "no model":
        model = tmp_path / "nowhere"
    elif case == "not a model":
        model = tmp_path / "notes.txt"
        model.write_text("hello")
    else:  # a .keras file beside a real model card: garbage, or a layer that would run code
        shutil.copy(out / "metadata.json", tmp_path / "metadata.json")
        model = tmp_path / "model.keras"
        if case == "corrupt model":
            model.write_bytes(b"PK\x03\x04 not really a zip")
        else:
            inputs = keras.Input((11, 1))
            evil = keras.layers.Lambda(lambda x: x * 2)(inputs)  # stands for any Python code
            keras.Model(inputs, evil).save(model)
    done = subprocess.run(
        [str(LSTM_PREDICT), "--model", str(model), "--input", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    ours = [line for line in done.stderr.splitlines() if not TF_NOISE.match(line)]
    assert done.returncode == 2 and len(ours) == 1, done.stderr
    assert ours[0].startswith("lstm-predict: error: ")
    assert message.format(tmp=tmp_path) in done.stderr and "Traceback" not in done.stderr
    if case == "code in the model":  # Keras's safe mode refuses to deserialize the lambda
        assert "arbitrary code" in done.stderr


def test_lstm_export_refuses_to_replace_and_unfinished_runs(exported, tmp_path):
    result, out, _ = exported
    done = subprocess.run(
        [str(LSTM_EXPORT), str(result.run_dir), "--format", "onnx"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert f"{out / 'model.onnx'}: exists; remove it to export onnx again" in done.stderr
    half = tmp_path / "half"
    half.mkdir()
    (half / "run.json").write_text('{"status": "running"}')
    done = subprocess.run(
        [str(LSTM_EXPORT), str(half), "--format", "keras"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"lstm-export: error: {half}: the run is not finished (run.json status: running)\n"
    )


def test_missing_optional_packages_name_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "tf2onnx" else real(name)
    )
    assert missing_extras(["keras", "onnx"]) == (
        "the onnx format needs tf2onnx, which is not installed: pip install 'lstm-app[export]'"
    )
    assert missing_extras(["keras", "saved_model", "tflite"]) is None


def test_train_exports_the_formats_its_config_asks_for(tmp_path):
    raw = tiny_config_dict(export={"formats": ["keras", "saved_model"]}, training={"epochs": 1})
    config = write_yaml(tmp_path / "c.yaml", raw)
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [str(LSTM_TRAIN), "--config", str(config), "--run-dir", str(run_dir), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (run_dir / "export").iterdir()) == [
        "metadata.json",
        "model.keras",
        "saved_model",
    ]


@pytest.mark.parametrize("artefact", ["model.onnx", "model.tflite"])
def test_a_truncated_onnx_or_tflite_file_is_one_line(exported, tmp_path, capsys, artefact):
    _, out, csv = exported
    copy = tmp_path / "export"
    shutil.copytree(out, copy)
    data = (copy / artefact).read_bytes()
    (copy / artefact).write_bytes(data[: len(data) // 3])
    code = lstm_predict.main(["--model", str(copy / artefact), "--input", str(csv)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    fmt = artefact.removeprefix("model.")
    assert err.startswith(
        f"lstm-predict: error: --model {copy / artefact}: cannot be loaded as {fmt}"
    )


def test_tflite_names_its_fixed_rows_in_its_own_words(exported):
    _, out, _ = exported
    forecaster = load_forecaster(out / "model.tflite")
    rows, columns = forecaster.spec.rows, len(forecaster.metadata["inputs"]["columns"])
    with pytest.raises(UserInputError) as caught:
        forecaster.run(np.zeros((2, rows + 1, columns), np.float32))
    assert str(caught.value) == (
        f"--model {out / 'model.tflite'}: takes windows of exactly {rows} rows (a tflite model's "
        f"rows are fixed), got windows of {rows + 1}; give the last {rows} rows of each"
    )
    assert forecaster.run(np.zeros((2, rows, columns), np.float32)).shape == (2, HORIZON)


@pytest.mark.slow
def test_a_bidirectional_forecaster_exports_to_every_format(tmp_path):
    """`bidirectional: true` wraps the layer in keras.layers.Bidirectional: TFLite unrolls
    both directions, and every format forecasts what the trained model forecasts."""
    raw = tiny_config_dict(
        model={
            "layers": [
                {"type": "lstm", "units": 8, "bidirectional": True},
                {"type": "dense", "units": 1},
            ]
        },
        training={"epochs": 1},
        export={"formats": list(FORMATS.names())},
    )
    result = train(config_from_dict(raw), tmp_path / "run", verbose=0)
    assert isinstance(result.model.layers[0], keras.layers.Bidirectional)
    out = tmp_path / "run" / "export"
    keras_model = keras.models.load_model(out / "model.keras")
    windows = np.random.default_rng(0).normal(50, 10, size=(4, 12, 1)).astype("float32")
    for name in FORMATS.names():
        forecaster = load_forecaster(out / FORMATS[name].artefact)
        rows = forecaster.spec.rows
        np.testing.assert_allclose(
            forecaster.run(windows[:, -rows:]),
            np.asarray(keras_model(windows[:, -rows:])),
            rtol=1e-4,
            err_msg=name,
        )
