"""The Python API that notebooks use: the CLI's own steps, importable from `lstm_app`."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import tiny_config_dict, write_yaml

import lstm_app


def test_importing_the_package_loads_no_tensorflow():
    code = "import sys, lstm_app; print(any(m.startswith('tensorflow') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False"


def test_the_package_names_exactly_the_api():
    """`lstm_app` lists the API's names itself (to name them without importing TensorFlow);
    the list must stay that of `lstm_app.api.__all__`."""
    import lstm_app
    import lstm_app.api

    assert sorted(lstm_app._API) == sorted(lstm_app.api.__all__)
    assert set(lstm_app.api.__all__) <= set(dir(lstm_app))


def test_api_names_are_the_functions_even_after_their_modules_load():
    import lstm_app.pipeline
    import lstm_app.serving.exporter

    assert callable(lstm_app.train) and callable(lstm_app.export)
    assert lstm_app.train is lstm_app.pipeline.train


def test_api_runs_the_pipeline_step_by_step(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_yaml(tmp_path / "tiny.yaml", tiny_config_dict())
    cfg = lstm_app.load_config(path, ["training.epochs=2"])
    data = lstm_app.prepare_data(cfg)
    inputs, targets = data.splits["train"].windows()
    model = lstm_app.build_model(cfg, data)
    assert model(np.asarray(inputs[:3])).shape == (3, 1) and targets.shape[1] == 1
    result = lstm_app.train(cfg, data=data, verbose=0)  # no run_dir: runs/<name>-<time>/
    assert result.run_dir.resolve().parent == tmp_path / "runs"
    assert result.run_dir.name.startswith("tiny-")
    metrics = lstm_app.evaluate(result.model, data)
    # two separate runs of the model over the test windows: equal up to float rounding
    assert metrics["test"]["mae"] == pytest.approx(result.metrics["test"]["mae"], rel=1e-6)
    out = lstm_app.export(result.run_dir, ["keras"])
    assert (out / "model.keras").is_file() and (out / "metadata.json").is_file()
