"""The checks around exporting and forecasting (issue 14): an export folder holds one run's
export, lstm-predict refuses a model that does not match its card, an empty batch, outputs it
cannot write, and forecasts many windows in bounded batches. Bad input is one line, exit 2."""

import gc
import json
import re
import shutil

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, tiny_config_dict

from lstm_app.cli import lstm_export, lstm_predict
from lstm_app.config.load import config_from_dict
from lstm_app.errors import UserInputError
from lstm_app.pipeline import train
from lstm_app.serving.exporter import export_run
from lstm_app.serving.formats import FORMATS
from lstm_app.serving.predict import forecast_csv, load_forecaster, raw_inputs

HORIZON = 2


def _write_csv(path, rows=80):
    t = np.arange(rows)
    y = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12)
    months = pd.date_range("2000-01-01", periods=rows, freq="MS").strftime("%Y-%m")
    pd.DataFrame({"month": months, "y": np.round(y, 2)}).to_csv(path, index=False)
    return path


def _train(tmp, csv, seed):
    raw = tiny_config_dict(
        name=f"checks{seed}",
        seed=seed,
        data={
            "source": "csv",
            "path": str(csv),
            "time_column": "month",
            "target": "y",
            "transforms": ["diff"],
            "window": {"input_width": 5, "horizon": HORIZON},
        },
        model={"layers": [{"type": "lstm", "units": 4}, {"type": "dense", "units": HORIZON}]},
        training={"epochs": 1},
    )
    raw["data"].pop("sine")
    run_dir = tmp / f"run{seed}"
    run_dir.mkdir()
    train(config_from_dict(raw), run_dir, verbose=0)
    (run_dir / "run.json").write_text(json.dumps({"status": "done", "versions": {}}))
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two finished runs (different seeds) of the same data, each exported to keras and
    saved_model in its own RUN/export."""
    tmp = tmp_path_factory.mktemp("checks")
    csv = _write_csv(tmp / "series.csv")
    a, b = _train(tmp, csv, 1), _train(tmp, csv, 2)
    for run in (a, b):
        export_run(run, ["keras", "saved_model"])
    return a, b, csv


def _one_line(capsys):
    """The one line a command wrote on stderr (and nothing on stdout)."""
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def _snapshot(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


# ---- 1. an export folder holds one run's export


def test_export_refuses_a_folder_holding_another_runs_export(runs, tmp_path, capsys):
    a, b, _ = runs
    out = tmp_path / "x"
    assert lstm_export.main([str(a), "--format", "keras", "--out", str(out)]) == 0
    capsys.readouterr()
    before = _snapshot(out)
    card = (out / "metadata.json").read_text()
    assert lstm_export.main([str(b), "--format", "saved_model", "--out", str(out)]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"lstm-export: error: --out {out}: holds the export of run ")
    assert a.name in line and "not of" in line and b.name in line
    assert _snapshot(out) == before and (out / "metadata.json").read_text() == card
    with pytest.raises(UserInputError, match="holds the export of run"):  # the API too
        export_run(b, ["onnx"], out)


def test_export_adds_formats_to_the_same_runs_folder(runs, tmp_path, capsys):
    a, _, _ = runs
    out = tmp_path / "x"
    assert lstm_export.main([str(a), "--format", "keras", "--out", str(out)]) == 0
    assert lstm_export.main([str(a), "--format", "saved_model", "--out", str(out)]) == 0
    card = json.loads((out / "metadata.json").read_text())
    assert card["run"] == a.name
    assert card["formats"] == {"keras": "model.keras", "saved_model": "saved_model"}
    capsys.readouterr()


@pytest.mark.parametrize("case", ["artefact without a card", "foreign metadata.json"])
def test_export_refuses_a_folder_it_cannot_tell_is_this_runs(runs, tmp_path, capsys, case):
    a, _, _ = runs
    out = tmp_path / "x"
    out.mkdir()
    if case == "artefact without a card":
        shutil.copy(a / "export" / "model.keras", out / "model.keras")
    else:
        (out / "metadata.json").write_text('{"mine": true}')
    before = _snapshot(out)
    assert lstm_export.main([str(a), "--format", "saved_model", "--out", str(out)]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"lstm-export: error: --out {out}")
    assert _snapshot(out) == before


# ---- 2. lstm-predict refuses a model that does not match its card


def _predict(model, csv, *more):
    return lstm_predict.main(["--model", str(model), "--input", str(csv), *map(str, more)])


def test_predict_refuses_a_plain_keras_model_beside_a_card(runs, tmp_path, capsys):
    a, _, csv = runs
    shutil.copy(a / "export" / "metadata.json", tmp_path / "metadata.json")
    rows = json.loads((tmp_path / "metadata.json").read_text())["inputs"]["rows"]
    inputs = keras.Input((rows, 1))
    plain = keras.Model(inputs, keras.layers.Dense(HORIZON)(keras.layers.Flatten()(inputs)))
    plain.save(tmp_path / "model.keras")  # the shapes match the card: not the content
    assert _predict(tmp_path / "model.keras", csv) == 2
    line = _one_line(capsys)
    assert line.startswith(f"lstm-predict: error: --model {tmp_path / 'model.keras'}: ")
    assert "not an lstm-app serving model" in line


@pytest.mark.parametrize("artefact", ["model.keras", "saved_model"])
def test_predict_refuses_a_model_whose_horizon_is_not_the_cards(runs, tmp_path, capsys, artefact):
    a, _, csv = runs
    export = tmp_path / "export"
    shutil.copytree(a / "export", export)
    card = json.loads((export / "metadata.json").read_text())
    card["output"]["horizon"] = card["serving_spec"]["horizon"] = HORIZON + 1
    card["output"]["shape"] = ["batch", HORIZON + 1]
    (export / "metadata.json").write_text(json.dumps(card))
    assert _predict(export / artefact, csv) == 2
    line = _one_line(capsys)
    assert line.startswith(f"lstm-predict: error: --model {export / artefact}: ")
    assert f"(None, {HORIZON})" in line or f", {HORIZON})" in line
    assert "horizon 3" in line


def test_predict_refuses_a_keras_model_with_other_input_columns(runs, tmp_path, capsys):
    a, _, csv = runs
    export = tmp_path / "export"
    shutil.copytree(a / "export", export)
    card = json.loads((export / "metadata.json").read_text())
    card["inputs"]["columns"] = ["y", "z"]
    (export / "metadata.json").write_text(json.dumps(card))
    assert _predict(export / "model.keras", csv) == 2
    line = _one_line(capsys)
    assert line.startswith(f"lstm-predict: error: --model {export / 'model.keras'}: ")
    assert "2 columns" in line


# ---- 3. a loaded SavedModel is kept alive while it serves


def test_saved_model_runner_keeps_the_loaded_object(runs):
    a, _, _ = runs
    run = FORMATS["saved_model"].runner(a / "export" / "saved_model")
    gc.collect()
    forecaster = load_forecaster(a / "export")
    x = np.ones((2, forecaster.spec.rows, 1), dtype=np.float32)
    assert run(x).shape == (2, HORIZON)


def test_readme_keeps_a_reference_to_the_loaded_saved_model():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"saved_model\.load\([^)]*\)\.serve", readme)
    assert "model = tf.saved_model.load(path)" in readme
    assert not re.search(r"saved_model\.load\([^)]*\)\.serve", FORMATS["saved_model"].__doc__)


# ---- 4. an empty batch never reaches a runtime


@pytest.mark.parametrize("artefact", ["model.keras", "saved_model"])
def test_an_empty_batch_is_refused_before_any_model_runs(runs, artefact):
    a, _, _ = runs
    forecaster = load_forecaster(a / "export" / artefact)
    with pytest.raises(UserInputError, match="no window to forecast from"):
        forecaster.run(np.zeros((0, forecaster.spec.rows, 1), dtype=np.float32))
    assert "_run" not in forecaster.__dict__  # the model was not even loaded


def test_predict_refuses_a_csv_without_rows(runs, tmp_path, capsys):
    a, _, _ = runs
    empty = tmp_path / "empty.csv"
    empty.write_text("month,y\n")
    assert _predict(a / "export", empty) == 2
    line = _one_line(capsys)
    assert line.startswith("lstm-predict: error: ") and str(empty) in line


# ---- irregular steps in the input (issue 14, item 5)


def test_predict_refuses_rows_at_another_step_than_the_models(runs, tmp_path, capsys):
    a, _, _ = runs
    daily = tmp_path / "daily.csv"
    days = pd.date_range("2000-01-01", periods=40, freq="D").strftime("%Y-%m-%d")
    pd.DataFrame({"month": days, "y": np.arange(40.0) + 100}).to_csv(daily, index=False)
    assert _predict(a / "export", daily) == 2
    assert _one_line(capsys) == (
        f"lstm-predict: error: {daily}: rows are 'D' (a day) apart, but the model was trained "
        "on rows 'MS' (a month) apart; give it rows at its own step"
    )


def test_predict_names_a_gap_in_its_input_in_its_own_words(runs, tmp_path, capsys):
    a, _, csv = runs
    gappy = tmp_path / "gappy.csv"
    frame = pd.read_csv(csv)
    frame.drop([50, 51]).to_csv(gappy, index=False)
    assert _predict(a / "export", gappy) == 2
    line = _one_line(capsys)
    assert line.startswith(f"lstm-predict: error: {gappy}: 2 missing time step(s), rows being ")
    assert line.endswith(
        "the model's training config decides how they are handled (its data.missing: error): "
        "fill them in"
    )
    assert "set data.missing" not in line


def test_month_end_dates_suit_a_month_start_model(runs, tmp_path):
    a, _, csv = runs
    ends = tmp_path / "ends.csv"
    frame = pd.read_csv(csv)
    frame["month"] = (pd.to_datetime(frame["month"]) + pd.offsets.MonthEnd(0)).dt.strftime(
        "%Y-%m-%d"
    )
    frame.to_csv(ends, index=False)
    table = forecast_csv(load_forecaster(a / "export"), ends)
    assert list(table["time"]) == ["2006-09-30", "2006-10-31"]  # its own step continued


# ---- 5. outputs checked before any work; unreadable run models


def test_predict_checks_output_before_any_work(runs, tmp_path, capsys):
    a, _, csv = runs
    missing = tmp_path / "nowhere" / "f.csv"
    # a model that does not exist: the output is checked first, so it is the one named
    assert _predict(tmp_path / "no-model", csv, "--output", missing) == 2
    line = _one_line(capsys)
    assert line == (
        f"lstm-predict: error: --output {missing}: the folder {missing.parent} does not exist"
    )
    assert _predict(a / "export", csv, "--output", tmp_path) == 2
    line = _one_line(capsys)
    assert line == (f"lstm-predict: error: --output {tmp_path}: is a directory; give a file name")
    assert not (tmp_path / "nowhere").exists()


def test_export_out_must_be_a_directory(runs, tmp_path, capsys):
    a, _, _ = runs
    target = tmp_path / "file.txt"
    target.write_text("mine")
    assert lstm_export.main([str(a), "--format", "keras", "--out", str(target)]) == 2
    line = _one_line(capsys)
    assert line == f"lstm-export: error: --out {target}: is a file; expected a directory"
    assert target.read_text() == "mine"
    below = target / "sub"
    assert lstm_export.main([str(a), "--format", "keras", "--out", str(below)]) == 2
    line = _one_line(capsys)
    assert line == f"lstm-export: error: --out {below}: {target} is a file; expected a directory"


def test_export_refuses_a_corrupt_run_model_in_one_line(runs, tmp_path, capsys):
    a, _, _ = runs
    run = tmp_path / "run"
    shutil.copytree(a, run, ignore=shutil.ignore_patterns("export"))
    data = (run / "model.keras").read_bytes()
    (run / "model.keras").write_bytes(data[: len(data) // 2])  # truncated
    assert lstm_export.main([str(run), "--format", "keras"]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"lstm-export: error: {run / 'model.keras'}: cannot be read")
    assert not (run / "export").exists()


# ---- 6. many windows forecast in bounded batches


@pytest.mark.parametrize("artefact", ["model.keras", "saved_model"])
def test_all_windows_are_forecast_in_bounded_batches(runs, artefact, monkeypatch):
    a, _, csv = runs
    forecaster = load_forecaster(a / "export" / artefact)
    whole = forecast_csv(forecaster, csv, all_windows=True, batch_size=10_000)
    sizes = []
    real = type(forecaster).run

    def spy(self, raw):
        sizes.append(len(raw))
        return real(self, raw)

    monkeypatch.setattr(type(forecaster), "run", spy)
    batched = forecast_csv(forecaster, csv, all_windows=True, batch_size=7)
    assert max(sizes) == 7 and sum(sizes) == len(whole) // HORIZON and len(sizes) > 1
    assert list(batched["origin"]) == list(whole["origin"])
    assert list(batched["step"]) == list(whole["step"])
    np.testing.assert_allclose(batched["forecast"], whole["forecast"], rtol=1e-5)


# ---- 7. more rows than the card's: the last `rows` rows are used


def test_every_dynamic_format_uses_the_last_rows_of_a_longer_window(runs, tmp_path):
    a, _, csv = runs
    export_run(a, ["keras", "saved_model", "onnx"], tmp_path / "x")
    keras_model = load_forecaster(tmp_path / "x" / "model.keras")
    values, _ = raw_inputs(keras_model, csv)
    rows = keras_model.spec.rows
    last = np.ascontiguousarray(values[None, -rows:])
    for artefact in ("model.keras", "saved_model", "model.onnx"):
        forecaster = load_forecaster(tmp_path / "x" / artefact)
        expected = forecaster.run(last)
        for extra in (1, 7, 40):
            longer = np.ascontiguousarray(values[None, -(rows + extra) :])
            np.testing.assert_allclose(
                forecaster.run(longer), expected, rtol=1e-5, err_msg=f"{artefact} +{extra}"
            )


def test_a_model_trained_on_a_generated_series_forecasts_from_the_csv_given(tmp_path):
    """A sine-trained model used to forecast the sine again, whatever `--input` held."""
    raw = tiny_config_dict(training={"epochs": 1}, export={"formats": ["keras"]})
    result = train(config_from_dict(raw), tmp_path / "run", verbose=0)
    forecaster = load_forecaster(result.run_dir / "export")
    forecasts = []
    for scale in (1.0, 3.0):
        csv = tmp_path / f"recent-{scale}.csv"
        values = scale * 50 * np.sin(np.arange(20) * 2 * np.pi / 16)
        csv.write_text("value\n" + "".join(f"{v}\n" for v in values), encoding="utf-8")
        inputs, _ = raw_inputs(forecaster, csv)
        np.testing.assert_allclose(inputs[:, 0], values, rtol=1e-6)  # the file's, not the sine's
        forecasts.append(forecast_csv(forecaster, csv)["forecast"].to_numpy())
    assert not np.allclose(forecasts[0], forecasts[1])
    (tmp_path / "other.csv").write_text("other\n1\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="column 'value'"):
        raw_inputs(forecaster, tmp_path / "other.csv")


def test_whole_number_steps_continue_at_their_own_step():
    from lstm_app.serving.predict import _future

    assert _future(np.int64(100), None, 3, step=10) == ["110", "120", "130"]
    assert _future(np.datetime64("2000-01-31"), "ME", 2) == ["2000-02-29", "2000-03-31"]
