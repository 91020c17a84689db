"""Training that survives: resume after a kill or Ctrl-C ends exactly as a run that never
stopped; a diverging run fails and keeps its best checkpoint; refusals are one line."""

import json
import os
import signal
import subprocess
import time

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import LSTM_TRAIN, lstm_train, stop_after_epoch, tiny_config_dict, write_yaml

import lstm_app.training.trainer
from lstm_app.cli import lstm_train as cli
from lstm_app.config.load import config_from_dict
from lstm_app.errors import RunFailedError
from lstm_app.pipeline import train
from lstm_app.runs.rundir import RESUME_DIR

# every callback that keeps counters between epochs, and dropout's random masks
STATEFUL = {
    "data": {"sine": {"length": 400, "period": 16, "amplitude": 50.0, "trend": 0.5, "noise": 1}},
    "model": {
        "layers": [
            {"type": "lstm", "units": 8, "return_sequences": True, "dropout": 0.1},
            {"type": "gate_lstm", "units": 8},
            {"type": "dense", "units": 1},
        ]
    },
    "training": {
        "epochs": 8,
        "steps_per_execution": 3,  # (calls that end mid-epoch: the epoch still ends there)
        "callbacks": {
            "early_stopping": {"enabled": True, "patience": 3, "restore_best_weights": True},
            "reduce_lr_on_plateau": {"enabled": True, "patience": 1, "factor": 0.5},
            "checkpoint": {"enabled": True},
        },
    },
}


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize("fused", [False, True])  # fused: the gate_lstm layer (see test_fused)
def test_interrupted_run_resumes_to_the_same_weights_and_metrics(tmp_path, monkeypatch, fused):
    raw = tiny_config_dict(**STATEFUL)
    cfg = config_from_dict({**raw, "training": {**raw["training"], "fused": fused}})
    whole = train(cfg, tmp_path / "whole", verbose=0)
    assert not (whole.run_dir / RESUME_DIR).exists()  # a finished run keeps no resume state

    with monkeypatch.context() as patch:
        stop_after_epoch(patch, 3)
        with pytest.raises(KeyboardInterrupt):
            train(cfg, tmp_path / "cut", verbose=0)
    status = json.loads((tmp_path / "cut" / "run.json").read_text())
    assert status["status"] == "interrupted"
    assert json.loads((tmp_path / "cut" / RESUME_DIR / "state.json").read_text())["epochs"] == 3
    assert not (tmp_path / "cut" / "metrics.json").exists()

    resumed = train(cfg, tmp_path / "cut", verbose=0, resume=True)
    for a, b in zip(_weights(whole.model), _weights(resumed.model), strict=True):
        np.testing.assert_array_equal(a, b)
    for name in ("metrics.json", "history.csv", "forecasts.csv"):
        assert (tmp_path / "cut" / name).read_bytes() == (whole.run_dir / name).read_bytes(), name
    status = json.loads((tmp_path / "cut" / "run.json").read_text())
    assert status["status"] == "done" and len(status["resumed"]) == 1
    assert not (tmp_path / "cut" / RESUME_DIR).exists()
    best = keras.models.load_model(tmp_path / "cut" / "best.keras")
    for a, b in zip(
        _weights(best), _weights(keras.models.load_model(whole.run_dir / "best.keras")), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_resume_state_keeps_only_the_last_epoch(tmp_path, monkeypatch):
    cfg = config_from_dict(tiny_config_dict(**STATEFUL))
    stop_after_epoch(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "run", verbose=0)
    folder = tmp_path / "run" / RESUME_DIR
    state = json.loads((folder / "state.json").read_text())
    assert sorted(p.name for p in folder.iterdir()) == ["best-4.bin", "epoch-4.bin", "state.json"]
    assert state["variables"] == "epoch-4.bin" and len(state["history"]["loss"]) == 4
    assert set(state["counters"]) == {"EarlyStopping", "ReduceLROnPlateau", "BestCheckpoint"}


def test_diverging_run_fails_naming_the_epoch_and_keeps_its_best_checkpoint(tmp_path, monkeypatch):
    cfg = config_from_dict(
        tiny_config_dict(training={"epochs": 6, "callbacks": {"checkpoint": {"enabled": True}}})
    )

    class Explode(keras.callbacks.Callback):  # after two good epochs, a step size that diverges
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                self.model.optimizer.learning_rate.assign(1e30)

    make = lstm_app.training.trainer.make_callbacks
    monkeypatch.setattr(
        lstm_app.training.trainer, "make_callbacks", lambda *a, **k: [Explode(), *make(*a, **k)]
    )
    with pytest.raises(RunFailedError) as caught:
        train(cfg, tmp_path / "run", verbose=0)
    message = str(caught.value)
    assert "at epoch 3;" in message and "lower training.learning_rate" in message
    assert "best.keras" in message
    run = tmp_path / "run"
    status = json.loads((run / "run.json").read_text())
    assert status["status"] == "failed" and "epoch 3" in status["error"]
    history = pd.read_csv(run / "history.csv")
    assert len(history) == 3 and np.isfinite(history["loss"][:2]).all()
    best = keras.models.load_model(run / "best.keras")
    assert all(np.isfinite(w).all() for w in _weights(best))
    assert not (run / "metrics.json").exists() and not (run / "model.keras").exists()
    state = json.loads((run / RESUME_DIR / "state.json").read_text())
    assert state["epochs"] == 2  # the diverged epoch is never saved as a resume point


# ---- the CLI, as a user runs it: refusals before any training, then real processes


@pytest.fixture
def interrupted_run(tmp_path, monkeypatch, capsys):
    """A config file and a run directory stopped after epoch 2 of 4, and what lstm-train said."""
    config = write_yaml(tmp_path / "tiny.yaml", tiny_config_dict(training={"epochs": 4}))
    stop_after_epoch(monkeypatch, 2)
    assert cli.main(["--config", str(config), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 130
    return config, tmp_path / "run", _one_line_error(capsys)


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_ctrl_c_says_how_to_resume(interrupted_run):
    config, run, line = interrupted_run
    again = f"lstm-train --config {config} --run-dir {run} --resume"
    assert line == f"lstm-train: interrupted; resume with: {again}"
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"


@pytest.mark.parametrize(
    "extra, expected",
    [
        (
            ["--set", "training.epochs=5"],
            "the run was started with another config (training.epochs: 4 there, 5 now)",
        ),
        (["--set", "seed=8"], "(seed: 7 there, 8 now)"),
    ],
)
def test_resume_with_another_config_is_refused(interrupted_run, capsys, extra, expected):
    config, run, _ = interrupted_run
    assert cli.main(["--config", str(config), "--run-dir", str(run), "--resume", *extra]) == 2
    assert expected in _one_line_error(capsys)


def test_non_empty_run_dir_without_resume_points_to_it(interrupted_run, capsys):
    config, run, _ = interrupted_run
    assert cli.main(["--config", str(config), "--run-dir", str(run)]) == 2
    assert "it holds an unfinished run: add --resume to continue it" in _one_line_error(capsys)


def test_resume_refusals(tmp_path, tiny_config_file, capsys):
    done = tmp_path / "done"
    assert cli.main(["--config", str(tiny_config_file), "--run-dir", str(done), "--quiet"]) == 0
    capsys.readouterr()
    cases = [
        ([], "--resume needs --run-dir"),
        (["--run-dir", str(done)], "the run is finished; nothing to resume"),
        (["--run-dir", str(tmp_path / "nowhere")], "not a run directory (no readable run.json)"),
    ]
    for extra, expected in cases:
        assert cli.main(["--config", str(tiny_config_file), "--resume", *extra]) == 2
        assert expected in _one_line_error(capsys)
    assert (done / "metrics.json").is_file() and (done / "run.json").is_file()


@pytest.fixture(scope="module")
def never_stopped(tmp_path_factory):
    """A small config of 40 epochs, and its run done without a stop."""
    folder = tmp_path_factory.mktemp("never_stopped")
    raw = tiny_config_dict(training={"epochs": 40})
    raw["data"]["sine"]["length"] = 1200
    config = write_yaml(folder / "small.yaml", raw)
    done = lstm_train("--config", config, "--run-dir", folder / "whole", "--quiet")
    assert done.returncode == 0, done.stderr
    return config, folder / "whole"


def _epochs_saved(run) -> int:
    try:
        return json.loads((run / RESUME_DIR / "state.json").read_text())["epochs"]
    except (OSError, ValueError):
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killed_process_resumes_to_the_same_results(tmp_path, never_stopped, how):
    """A real `lstm-train`, killed mid-training, resumed with `--resume`: the same
    metrics.json, forecasts and history, byte for byte, as a run that was never stopped."""
    config, whole = never_stopped
    run = tmp_path / "run"
    process = subprocess.Popen(
        [str(LSTM_TRAIN), "--config", str(config), "--run-dir", str(run), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while _epochs_saved(run) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the run ended before it could be stopped"
    os.kill(process.pid, how)
    _, err = process.communicate(timeout=60)
    saved = _epochs_saved(run)
    assert 2 <= saved < 40
    assert not (run / "metrics.json").exists() and not (run / "model.keras").exists()
    status = json.loads((run / "run.json").read_text())["status"]
    if how == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL and status == "running"
    else:
        assert process.returncode == 130 and status == "interrupted"
        assert err.strip().splitlines()[-1].endswith(f"--run-dir {run} --resume")

    resumed = lstm_train("--config", config, "--run-dir", run, "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    for name in ("metrics.json", "forecasts.csv", "history.csv", "scaler.json"):
        assert (run / name).read_bytes() == (whole / name).read_bytes(), name
    status = json.loads((run / "run.json").read_text())
    assert status["status"] == "done" and status["epochs"] == 40
