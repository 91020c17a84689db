"""Runs visible in the tools users open (issue 17): TensorBoard logs in RUN/tensorboard/, and
MLflow runs (a training run; an lstm-tune study, its trials as child runs)."""

import json
import os
import sys

import pandas as pd
import pytest
from conftest import stop_after_epoch, tiny_config_dict, write_yaml

from lstm_app.config.load import config_from_dict
from lstm_app.errors import ConfigError, UserInputError
from lstm_app.pipeline import train


def _scalars(folder, tag):
    """The values of scalar `tag` in the TensorBoard event files of `folder`, in step order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    import tensorflow as tf

    return [float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]


def test_tensorboard_logs_every_epochs_losses(tmp_path):
    cfg = config_from_dict(tiny_config_dict(training={"callbacks": {"tensorboard": True}}))
    result = train(cfg, tmp_path / "run", verbose=0)
    logs = tmp_path / "run" / "tensorboard"
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert _scalars(logs / "train", "epoch_loss") == pytest.approx(list(history["loss"]), rel=1e-5)
    assert _scalars(logs / "validation", "epoch_loss") == pytest.approx(
        list(history["val_loss"]), rel=1e-5
    )
    assert len(result.history["loss"]) == 3


def test_tensorboard_settings_are_checked():
    raw = tiny_config_dict(training={"callbacks": {"tensorboard": {"update_freq": "banana"}}})
    with pytest.raises(ConfigError, match=r"training.callbacks.tensorboard.update_freq"):
        config_from_dict(raw)
    off = config_from_dict(tiny_config_dict())
    assert off.training.callbacks.tensorboard.enabled is False


# --------------------------------------------------------------------------------------------
# MLflow (tracking.mlflow, the extra lstm-app[tracking])


def _mlflow_runs(store, experiment="tiny"):
    """The runs of `experiment` in the SQLite store `store` (a path), as a DataFrame."""
    import mlflow
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri

    with _use_tracking_uri(f"sqlite:///{store}"):  # not left set for the tests after this one
        return mlflow.search_runs(experiment_names=[experiment], output_format="pandas")


def _client(store):
    import mlflow

    return mlflow.MlflowClient(tracking_uri=f"sqlite:///{store}")


def test_mlflow_logs_a_run_as_its_directory_says(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    raw = tiny_config_dict(tracking={"mlflow": True}, export={"formats": ["keras"]})
    cfg = config_from_dict(raw)
    train(cfg, tmp_path / "run", verbose=0)
    runs = _mlflow_runs(tmp_path / "mlflow.db")  # the store beside the run directory
    assert len(runs) == 1
    logged = runs.iloc[0]
    assert logged["status"] == "FINISHED"
    assert logged["tags.lstm_app.run_dir"] == str((tmp_path / "run").resolve())
    assert float(logged["params.training.learning_rate"]) == cfg.training.learning_rate
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert logged["metrics.test.mae"] == pytest.approx(metrics["test"]["mae"])
    assert logged["metrics.baselines.persistence.mae"] == pytest.approx(
        metrics["baselines"]["persistence"]["mae"]
    )
    client = _client(tmp_path / "mlflow.db")
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    losses = client.get_metric_history(logged["run_id"], "val_loss")
    assert [m.step for m in losses] == list(history["epoch"])
    assert [m.value for m in losses] == pytest.approx(list(history["val_loss"]))
    artifacts = {a.path for a in client.list_artifacts(logged["run_id"])}
    assert {"model.keras", "forecast.png", "loss.png", "config.yaml", "export"} <= artifacts
    exported = {a.path for a in client.list_artifacts(logged["run_id"], "export")}
    assert "export/model.keras" in exported
    status = json.loads((tmp_path / "run" / "run.json").read_text())
    assert status["mlflow_run_id"] == logged["run_id"]


def test_mlflow_tracking_uri_is_honoured(tmp_path, monkeypatch):
    elsewhere = tmp_path / "server" / "store.db"
    elsewhere.parent.mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{elsewhere}")
    monkeypatch.chdir(tmp_path)  # such a store keeps its artifacts in ./mlruns, as MLflow does
    raw = tiny_config_dict(
        tracking={"mlflow": {"enabled": True, "experiment": "mine"}}, training={"epochs": 1}
    )
    train(config_from_dict(raw), tmp_path / "runs" / "one", verbose=0)
    assert not (tmp_path / "runs" / "mlflow.db").exists()
    assert len(_mlflow_runs(elsewhere, "mine")) == 1


def test_a_failed_run_is_logged_failed_and_its_resume_replaces_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = config_from_dict(tiny_config_dict(tracking={"mlflow": True}, training={"epochs": 3}))
    with monkeypatch.context() as patch:
        stop_after_epoch(patch, 2, error=RuntimeError("disk full"))
        with pytest.raises(RuntimeError, match="disk full"):
            train(cfg, tmp_path / "run", verbose=0)
    failed = _mlflow_runs(tmp_path / "mlflow.db")
    assert list(failed["status"]) == ["FAILED"]
    train(cfg, tmp_path / "run", verbose=0, resume=True)
    runs = _mlflow_runs(tmp_path / "mlflow.db")
    assert list(runs["status"]) == ["FINISHED"]  # one run per directory: the failed one is gone
    assert runs.iloc[0]["run_id"] != failed.iloc[0]["run_id"]
    steps = _client(tmp_path / "mlflow.db").get_metric_history(runs.iloc[0]["run_id"], "loss")
    assert [m.step for m in steps] == [0, 1, 2]


def test_mlflow_asked_without_the_extra_gives_one_line(tmp_path, monkeypatch, capsys):
    from lstm_app.cli import lstm_train

    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    config = write_yaml(tmp_path / "tiny.yaml", tiny_config_dict(tracking={"mlflow": True}))
    run_dir = tmp_path / "run"
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "tracking.mlflow" in err and "lstm-app[tracking]" in err
    assert not run_dir.exists()  # nothing written
    with pytest.raises(UserInputError, match=r"lstm-app\[tracking\]"):
        train(config_from_dict(tiny_config_dict(tracking={"mlflow": True})), run_dir, verbose=0)
    assert not run_dir.exists()


@pytest.mark.slow
def test_lstm_tune_logs_each_trial_as_a_child_of_the_study(tmp_path, monkeypatch, capsys):
    from lstm_app.cli import lstm_tune

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    raw = tiny_config_dict(training={"epochs": 2}, tracking={"mlflow": True})
    config = write_yaml(tmp_path / "tiny.yaml", raw)
    space = write_yaml(
        tmp_path / "space.yaml",
        {"parameters": {"training.learning_rate": {"float": [0.001, 0.05], "log": True}}},
    )
    study = tmp_path / "studies" / "tiny"
    args = ["--config", str(config), "--space", str(space), "--study-dir", str(study)]
    assert lstm_tune.main([*args, "--trials", "2"]) == 0
    assert lstm_tune.main([*args, "--trials", "3"]) == 0  # the search goes on: same parent run
    capsys.readouterr()
    runs = _mlflow_runs(tmp_path / "studies" / "mlflow.db")
    parents = runs[runs["tags.lstm_app.kind"] == "study"]
    assert len(parents) == 1 and parents.iloc[0]["status"] == "FINISHED"
    parent = parents.iloc[0]
    assert parent["params.space.training.learning_rate"] == "float [0.001, 0.05] log"
    children = runs[runs["tags.mlflow.parentRunId"] == parent["run_id"]]
    trials = children[children["tags.lstm_app.kind"] == "trial"]
    assert sorted(trials["tags.optuna.trial"].astype(int)) == [0, 1, 2]
    table = pd.read_csv(study / "trials.csv").set_index("number")
    for _, trial in trials.iterrows():
        value = table.loc[int(trial["tags.optuna.trial"]), "value"]
        assert trial["metrics.val.mae"] == pytest.approx(value)
        assert pd.isna(trial.get("metrics.test.mae"))  # a trial never sees the test split
    best = children[children["tags.lstm_app.kind"] == "best"]
    assert len(best) == 1  # the first search's best was replaced
    summary = json.loads((study / "summary.json").read_text())
    assert best.iloc[0]["metrics.test.mae"] == pytest.approx(summary["test"]["mae"])
    assert parent["metrics.best.val.mae"] == pytest.approx(summary["best_val"])


def test_a_store_out_of_reach_is_one_line_before_training(tmp_path, monkeypatch, capsys):
    import socket

    from lstm_app.cli import lstm_train

    with socket.socket() as probe:  # a port the OS says is free: nothing answers there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    before = os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES")
    raw = tiny_config_dict(tracking={"mlflow": True}, training={"epochs": 1})
    config = write_yaml(tmp_path / "tiny.yaml", raw)
    run = tmp_path / "run"
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"tracking.mlflow: the store http://127.0.0.1:{port} failed: cannot connect" in err
    assert not (run / "history.csv").exists() and not (run / "run.json").exists()  # untrained
    assert os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES") == before  # the check's, put back


def test_lstm_tune_says_so_too_before_any_trial(tmp_path, monkeypatch, capsys):
    import socket

    from lstm_app.cli import lstm_tune

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    config = write_yaml(tmp_path / "tiny.yaml", tiny_config_dict(tracking={"mlflow": True}))
    searched = {"parameters": {"training.epochs": {"int": [1, 2]}}}
    space = write_yaml(tmp_path / "space.yaml", searched)
    study = tmp_path / "study"
    argv = ["--config", str(config), "--space", str(space), "--trials", "1"]
    assert lstm_tune.main([*argv, "--study-dir", str(study)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "failed: cannot connect" in err
    assert not (study / "trials").exists()  # no trial trained
