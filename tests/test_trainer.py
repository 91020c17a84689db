"""The trainer, in process: the run directory it writes, metrics in original units, and
reproducibility."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import RUN_FILES, tiny_config_dict

from lstm_app.config.load import config_from_dict
from lstm_app.data.series import load_series
from lstm_app.errors import RunFailedError
from lstm_app.models.layers import VARIANTS
from lstm_app.pipeline import train
from lstm_app.training.fit import make_callbacks


def _train(tmp_path, name="run", **sections):
    cfg = config_from_dict(tiny_config_dict(**sections))
    run_dir = tmp_path / name
    run_dir.mkdir()
    return cfg, train(cfg, run_dir, verbose=0)


def test_run_directory_holds_every_artefact(tmp_path):
    _cfg, result = _train(tmp_path)
    assert {p.name for p in result.run_dir.iterdir()} == RUN_FILES
    status = json.loads((result.run_dir / "run.json").read_text())
    assert status["status"] == "done" and status["epochs"] == 3
    assert status["versions"]["keras"] == keras.__version__
    history = pd.read_csv(result.run_dir / "history.csv")
    assert list(history["epoch"]) == [0, 1, 2] and {"loss", "val_loss"} <= set(history.columns)
    for png in ("loss.png", "forecast.png"):
        assert (result.run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_saved_config_rebuilds_the_run(tmp_path):
    cfg, result = _train(tmp_path)
    saved = yaml.safe_load((result.run_dir / "config.yaml").read_text())
    assert config_from_dict(saved) == cfg


def test_metrics_are_in_original_units_and_beside_persistence_on_the_same_windows(tmp_path):
    cfg, result = _train(tmp_path)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert set(metrics) == {"test", "val", "train", "baselines", "data"}
    assert metrics == result.metrics

    series = load_series(cfg.data, cfg.seed).target  # original units, independent of the run
    n_test = len(series) - 128  # 160 rows: 96 train, 32 val, 32 test
    test_rows = series[128:]
    actual = test_rows[8:]  # targets of the test windows (input_width 8, horizon 1)
    last_seen = test_rows[7:-1]
    persistence = metrics["baselines"]["persistence"]
    assert persistence["windows"] == metrics["test"]["windows"] == n_test - 8
    assert persistence["mae"] == pytest.approx(np.mean(np.abs(actual - last_seen)))
    assert persistence["rmse"] == pytest.approx(np.sqrt(np.mean((actual - last_seen) ** 2)))

    table = pd.read_csv(result.run_dir / "forecasts.csv")
    np.testing.assert_allclose(table["actual"], actual)
    np.testing.assert_allclose(table["persistence"], last_seen)
    model_mae = np.mean(np.abs(table["actual"] - table["predicted"]))
    assert metrics["test"]["mae"] == pytest.approx(model_mae)


def test_saved_model_loads_and_predicts_the_same(tmp_path):
    _, result = _train(tmp_path)
    loaded = keras.models.load_model(result.run_dir / "model.keras")
    x = np.random.default_rng(0).normal(size=(5, 8, 1)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), result.model.predict(x, verbose=0))


def test_same_config_and_seed_give_the_same_metrics(tmp_path):
    _, first = _train(tmp_path, "first")
    _, second = _train(tmp_path, "second")
    _, reseeded = _train(tmp_path, "reseeded", seed=8)
    assert (first.run_dir / "metrics.json").read_bytes() == (
        second.run_dir / "metrics.json"
    ).read_bytes()
    assert first.history == second.history
    assert reseeded.metrics["test"] != first.metrics["test"]


def test_history_is_written_without_the_csv_logger(tmp_path):
    _, result = _train(tmp_path, training={"callbacks": {"csv_log": False}})
    history = pd.read_csv(result.run_dir / "history.csv")
    np.testing.assert_allclose(history["loss"], result.history["loss"])


def test_callbacks_are_made_with_their_configured_settings(tmp_path):
    callbacks = {
        "checkpoint": {"enabled": True, "monitor": "loss"},
        "early_stopping": {"enabled": True, "patience": 4, "restore_best_weights": False},
        "reduce_lr_on_plateau": {"enabled": True, "patience": 2, "factor": 0.25, "min_lr": 1e-5},
        "csv_log": False,
    }
    cfg = config_from_dict(tiny_config_dict(training={"callbacks": callbacks}))
    made = {type(c).__name__: c for c in make_callbacks(cfg.training.callbacks, tmp_path)}
    assert set(made) == {"TerminateOnNaN", "BestCheckpoint", "EarlyStopping", "ReduceLROnPlateau"}
    assert made["BestCheckpoint"].monitor == "loss"
    assert made["BestCheckpoint"].path == tmp_path / "best.keras"
    stop = made["EarlyStopping"]
    assert (stop.monitor, stop.patience, stop.restore_best_weights) == ("val_loss", 4, False)
    plateau = made["ReduceLROnPlateau"]
    assert (plateau.patience, plateau.factor, plateau.min_lr) == (2, 0.25, 1e-5)


def test_early_stopping_and_checkpoint_act_during_training(tmp_path):
    callbacks = {
        "checkpoint": True,
        "early_stopping": {"enabled": True, "patience": 2, "min_delta": 1e9},
    }
    _, result = _train(tmp_path, training={"epochs": 10, "callbacks": callbacks})
    assert len(result.history["loss"]) == 3  # nothing improves by 1e9: stops after patience
    assert (result.run_dir / "best.keras").is_file()
    assert keras.models.load_model(result.run_dir / "best.keras").count_params() > 0


def test_diverging_loss_fails_the_run_and_says_so(tmp_path):
    data = tiny_config_dict()["data"] | {"scaler": "none"}
    training = {"optimizer": "sgd", "learning_rate": 1e12, "epochs": 5}
    with pytest.raises(RunFailedError, match=r"training diverged: .* try a lower"):
        _train(tmp_path, data=data, training=training)
    status = json.loads((tmp_path / "run" / "run.json").read_text())
    assert status["status"] == "failed" and "diverged" in status["error"]
    assert not (tmp_path / "run" / "metrics.json").exists()
    assert not (tmp_path / "run" / "model.keras").exists()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_gate_variant_trains_on_the_sine_without_nan(tmp_path, variant):
    layers = [
        {"type": "gate_lstm", "units": 8, "variant": variant, "return_sequences": True},
        {"type": "gate_lstm", "units": 8, "variant": variant},
        {"type": "dense", "units": 1},
    ]
    _, result = _train(tmp_path, model={"layers": layers}, training={"epochs": 4})
    assert all(np.isfinite(result.history["loss"])) and all(np.isfinite(result.history["val_loss"]))
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert {p.name for p in result.run_dir.iterdir()} == RUN_FILES | {"gates.png"}


def test_models_without_gate_layers_write_no_gates_plot(tmp_path):
    _, result = _train(tmp_path)
    assert not (result.run_dir / "gates.png").exists()


def test_multi_step_horizon_forecasts_every_step(tmp_path):
    data = {"window": {"input_width": 8, "horizon": 3}, "season_length": 16}
    layers = [{"type": "lstm", "units": 8}, {"type": "dense", "units": 3}]
    _, result = _train(tmp_path, data=data, model={"layers": layers})
    n = result.metrics["test"]["windows"]
    assert result.forecasts["test"].shape == (n, 3)
    assert [s["step"] for s in result.metrics["test"]["per_step"]] == [1, 2, 3]
    for name in ("persistence", "seasonal_naive", "mean"):
        assert len(result.metrics["baselines"][name]["per_step"]) == 3
    table = pd.read_csv(result.run_dir / "forecasts.csv")
    assert len(table) == 3 * n and list(table["step"][:3]) == [1, 2, 3]
    assert (result.run_dir / "forecast.png").stat().st_size > 0


def test_transforms_are_inverted_before_scoring(tmp_path):
    data = {"transforms": ["diff"]}
    _, result = _train(tmp_path, data=data)
    table = pd.read_csv(result.run_dir / "forecasts.csv")
    series = load_series(config_from_dict(tiny_config_dict()).data, 7).target
    np.testing.assert_allclose(table["actual"], series[-len(table) :])  # original units
    assert abs(table["predicted"] - table["actual"]).mean() < series.std()  # not differences
    assert result.metrics["data"]["transforms"] == ["diff"]


def test_backtest_folds_are_written_to_the_metrics(tmp_path):
    _, result = _train(tmp_path, evaluation={"backtest": {"folds": 3}})
    backtest = json.loads((result.run_dir / "metrics.json").read_text())["backtest"]
    assert [f["fold"] for f in backtest["folds"]] == [1, 2, 3]
    assert backtest["folds"][-1]["model"]["mae"] == pytest.approx(result.metrics["test"]["mae"])
    assert backtest["folds"][0]["model"]["mae"] != backtest["folds"][1]["model"]["mae"]
    for name in ("model", "persistence", "seasonal_naive", "mean"):
        assert backtest["summary"][name]["mae"]["std"] >= 0
