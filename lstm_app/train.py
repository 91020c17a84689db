"""Train: fit the model with its callbacks, evaluate it, and write the run directory.

`train(cfg, run_dir)` runs the whole job and returns a `TrainResult`. The run directory gets:

    config.yaml     the resolved config: `lstm-train --config RUN/config.yaml` rebuilds the run
    run.json        status (running, done, failed, interrupted), times, library versions
    history.csv     loss and val_loss per epoch
    model.keras     the trained model
    metrics.json    MAE and RMSE of the model per split and of persistence on test, original units
    scaler.json     the scalers' statistics, from the train split
    forecasts.csv   every test window and step: time, actual, predicted, persistence
    loss.png        train and validation loss per epoch
    forecast.png    the test split: actual, forecast, persistence
    gates.png       the gates of each gate_lstm layer on the test windows (gate_lstm models only)
    best.keras      the best model by the monitored loss (with the checkpoint callback only)
"""

import dataclasses
import datetime as dt
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import yaml

import lstm_app
from lstm_app import evaluate
from lstm_app.config import CallbacksConfig, Config, config_to_dict
from lstm_app.data import SPLITS, PreparedData, SplitData, make_dataset, prepare_data
from lstm_app.errors import RunFailedError
from lstm_app.gates import plot_gates, trace_gates
from lstm_app.models import build_model, compile_model
from lstm_app.rundir import write_atomic, write_json, write_status, write_text


@dataclass
class TrainResult:
    """What a run produced.

    Attributes:
        run_dir: the run directory.
        model: the trained model.
        history: loss per epoch, `{"loss": [...], "val_loss": [...], ...}`.
        metrics: the content of `metrics.json`.
        forecasts: the model's forecasts per split, `(windows, horizon)`, original units.
        data: the prepared data the model was trained and evaluated on.
    """

    run_dir: Path
    model: keras.Model
    history: dict[str, list[float]]
    metrics: dict
    forecasts: dict[str, np.ndarray]
    data: PreparedData


def _settings(callback_config) -> dict:
    """A callback's config as keyword arguments: its keys are the Keras callback's own."""
    return {k: v for k, v in dataclasses.asdict(callback_config).items() if k != "enabled"}


def make_callbacks(callbacks: CallbacksConfig, run_dir: Path) -> list[keras.callbacks.Callback]:
    """The Keras callbacks that `training.callbacks` turns on, writing into `run_dir`."""
    made = []
    if callbacks.terminate_on_nan.enabled:
        made.append(keras.callbacks.TerminateOnNaN())
    if callbacks.early_stopping.enabled:
        made.append(keras.callbacks.EarlyStopping(**_settings(callbacks.early_stopping)))
    if callbacks.reduce_lr_on_plateau.enabled:
        settings = _settings(callbacks.reduce_lr_on_plateau)
        made.append(keras.callbacks.ReduceLROnPlateau(**settings))
    if callbacks.checkpoint.enabled:
        settings = _settings(callbacks.checkpoint)
        made.append(
            keras.callbacks.ModelCheckpoint(run_dir / "best.keras", save_best_only=True, **settings)
        )
    if callbacks.csv_log.enabled:
        made.append(keras.callbacks.CSVLogger(str(run_dir / "history.csv")))
    return made


def forecast(model: keras.Model, data: PreparedData, split: SplitData, batch_size: int):
    """The model's forecasts for every window of `split`, `(windows, horizon)`, original units."""
    scaled = model.predict(make_dataset(split, batch_size), verbose=0)  # (windows, horizon)
    return data.target_scaler.inverse_transform(scaled.astype(np.float64))


def versions() -> dict:
    """The versions of Python and the libraries that shape the numbers."""
    import tensorflow as tf

    return {
        "lstm_app": lstm_app.__version__,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


def _history_table(history: dict[str, list[float]]) -> str:
    """`history.csv` as CSVLogger writes it: `epoch` (from 0), then one column per log key."""
    table = pd.DataFrame(history)
    table.insert(0, "epoch", range(len(table)))
    return table.to_csv(index=False)


def train(
    cfg: Config, run_dir: Path, data: PreparedData | None = None, verbose="auto"
) -> TrainResult:
    """Trains the model of `cfg` on its data, evaluates it and writes `run_dir`.

    Args:
        cfg: a checked config (see `load_config`).
        run_dir: an existing, empty directory (see `rundir.create_run_dir`).
        data: the prepared data, if already loaded; else `prepare_data(cfg.data, cfg.seed)`.
        verbose: Keras's fit verbosity: `"auto"`, 0 (silent), 1 (progress bar), 2 (a line).

    Returns:
        A TrainResult. Raises RunFailedError if the loss diverges (NaN or infinite).
    """
    started = time.time()
    info = {
        "status": "running",
        "name": cfg.name,
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "versions": versions(),
        "platform": platform.platform(),
    }
    write_text(run_dir / "config.yaml", yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    write_status(run_dir, info)
    try:
        result = _fit_and_evaluate(cfg, run_dir, data, verbose)
    except BaseException as err:
        stopped = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
        write_status(run_dir, {**info, "status": stopped, "error": str(err) or type(err).__name__})
        raise
    finished = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    write_status(
        run_dir,
        {
            **info,
            "status": "done",
            "finished": finished,
            "wall_seconds": round(time.time() - started, 2),
            "epochs": len(result.history["loss"]),
        },
    )
    return result


def _fit_and_evaluate(cfg: Config, run_dir: Path, data: PreparedData | None, verbose):
    data = data or prepare_data(cfg.data, cfg.seed)
    keras.utils.set_random_seed(cfg.seed)
    training = cfg.training
    model = compile_model(build_model(cfg.model, data.n_features), training)
    fit = model.fit(
        make_dataset(data.splits["train"], training.batch_size, training.shuffle, cfg.seed),
        validation_data=make_dataset(data.splits["val"], training.batch_size),
        epochs=training.epochs,
        shuffle=False,  # the dataset reshuffles itself (training.shuffle); fit cannot
        callbacks=make_callbacks(training.callbacks, run_dir),
        verbose=verbose,
    )
    history = {key: [float(v) for v in values] for key, values in fit.history.items()}
    if not training.callbacks.csv_log.enabled:
        write_text(run_dir / "history.csv", _history_table(history))
    if not all(math.isfinite(v) for v in history["loss"]):
        raise RunFailedError(
            f"training diverged: the loss became {history['loss'][-1]} at epoch "
            f"{len(history['loss'])}; try a lower training.learning_rate"
        )
    forecasts = {
        name: forecast(model, data, data.splits[name], training.batch_size) for name in SPLITS
    }
    metrics = evaluate.metrics_report(data.splits, forecasts)
    test = data.splits["test"]
    names = data.series.feature_names
    write_json(
        run_dir / "scaler.json",
        {
            "features": data.feature_scaler.to_dict(names),
            "target": data.target_scaler.to_dict([data.series.target_name]),
        },
    )
    write_text(
        run_dir / "forecasts.csv",
        evaluate.forecast_table(test, forecasts["test"]).to_csv(index=False),
    )
    write_atomic(run_dir / "loss.png", lambda p: evaluate.plot_loss(history, p))
    write_atomic(
        run_dir / "forecast.png",
        lambda p: evaluate.plot_forecast(test, forecasts["test"], data.series.target_name, p),
    )
    traces = trace_gates(model, test.windows()[0])
    if traces:
        title = "Gates on the last test window; heatmaps: units (rows) by time steps (columns)"
        write_atomic(run_dir / "gates.png", lambda p: plot_gates(traces, p, title=title))
    write_atomic(run_dir / "model.keras", model.save)
    write_json(run_dir / "metrics.json", metrics)
    return TrainResult(run_dir, model, history, metrics, forecasts, data)
