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
    export/         the model in the formats of `export.formats`, with metadata.json
"""

import datetime as dt
import platform
import shutil
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import yaml

import lstm_app
from lstm_app.config.schema import Config, config_to_dict
from lstm_app.data.prepare import SPLITS, PreparedData, prepare_data
from lstm_app.evaluation import metrics as evaluation
from lstm_app.evaluation.backtest import run_backtest
from lstm_app.models.build import build_model, compile_model
from lstm_app.models.gates import plot_gates, trace_gates
from lstm_app.runs.rundir import (
    check_resumable,
    claim_run_dir,
    create_run_dir,
    read_status,
    write_atomic,
    write_json,
    write_status,
    write_text,
)
from lstm_app.training.fit import check_converged, fit_model, forecast, make_callbacks
from lstm_app.training.resume import RESUME_DIR, ResumePoint, restore_state


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
    """`history.csv` as CSVLogger writes it: `epoch` (from 0), then the log keys, sorted."""
    table = pd.DataFrame({key: history[key] for key in sorted(history)})
    table.insert(0, "epoch", range(len(table)))
    return table.to_csv(index=False, lineterminator="\r\n")  # as the csv module writes


def train(
    cfg: Config,
    run_dir: Path | None = None,
    data: PreparedData | None = None,
    verbose="auto",
    resume: bool = False,
) -> TrainResult:
    """Trains the model of `cfg` on its data, evaluates it and writes `run_dir`.

    Args:
        cfg: a checked config (see `load_config`).
        run_dir: a new or empty directory (a non-empty one is refused); default: a new
            `runs/<name>-<timestamp>/` under the current directory.
        data: the prepared data, if already loaded; else `prepare_data(cfg.data, cfg.seed)`.
        verbose: Keras's fit verbosity: `"auto"`, 0 (silent), 1 (progress bar), 2 (a line).
        resume: continue the unfinished run in `run_dir` from its last completed epoch
            (see `lstm_app.training.resume`; `rundir.check_resumable` says whether it can).

    Returns:
        A TrainResult. Raises RunFailedError if the loss diverges (NaN or infinite).
    """
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    if resume:
        run_dir = check_resumable(Path(run_dir), config_to_dict(cfg))
        info = {**read_status(run_dir), "status": "running"}
        info["resumed"] = [*info.get("resumed", []), now]
        info.pop("error", None)
    else:
        if run_dir is None:
            run_dir = create_run_dir(Path("runs"), cfg.name)
        else:
            run_dir = claim_run_dir(Path(run_dir))
        info = {
            "status": "running",
            "name": cfg.name,
            "started": now,
            "versions": versions(),
            "platform": platform.platform(),
        }
        write_text(run_dir / "config.yaml", yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    started = time.time()
    write_status(run_dir, info)
    try:
        result = _fit_and_evaluate(cfg, run_dir, data, verbose, resume)
    except BaseException as err:
        stopped = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
        write_status(run_dir, {**info, "status": stopped, "error": str(err) or type(err).__name__})
        raise
    finished = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    shutil.rmtree(run_dir / RESUME_DIR, ignore_errors=True)  # finished: nothing to resume
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


def _forecast_fold(cfg: Config, fold: PreparedData):
    """A backtest fold: a model trained on its train split, forecasting its test windows."""
    model, history = fit_model(cfg, fold, callbacks=[], verbose=0)
    check_converged(history)
    return forecast(model, fold, fold.splits["test"], cfg.training.batch_size)


def _fit_and_evaluate(cfg: Config, run_dir: Path, data: PreparedData | None, verbose, resume):
    data = data or prepare_data(cfg.data, cfg.seed)
    training = cfg.training
    model, state = None, {"epochs": 0}
    if resume:
        model = compile_model(build_model(cfg.model, data.n_features), training)
        state = restore_state(run_dir, model)
        # the log may hold an epoch after the saved state: rewrite it to the state's epochs
        write_text(run_dir / "history.csv", _history_table(state["history"]))
    callbacks = make_callbacks(training.callbacks, run_dir, append_log=resume)
    resume_point = ResumePoint(run_dir, list(callbacks), state)
    model, _ = fit_model(cfg, data, [*callbacks, resume_point], verbose, model, state["epochs"])
    history = resume_point.history  # every epoch, before and after a resume
    if not training.callbacks.csv_log.enabled:
        write_text(run_dir / "history.csv", _history_table(history))
    check_converged(history, run_dir / "best.keras")
    forecasts = {
        name: forecast(model, data, data.splits[name], training.batch_size) for name in SPLITS
    }
    metrics = evaluation.metrics_report(data, forecasts)
    if cfg.evaluation.backtest.folds > 1:
        metrics["backtest"] = run_backtest(cfg, data, metrics, partial(_forecast_fold, cfg))
    test = data.splits["test"]
    write_json(
        run_dir / "scaler.json",
        {
            "features": data.feature_scaler.to_dict(data.feature_names),
            "target": data.target_scaler.to_dict([data.series.target_name]),
            "target_transforms": list(data.pipeline.names),
        },
    )
    write_text(
        run_dir / "forecasts.csv",
        evaluation.forecast_table(data, test, forecasts["test"]).to_csv(index=False),
    )
    write_atomic(run_dir / "loss.png", lambda p: evaluation.plot_loss(history, p))
    write_atomic(
        run_dir / "forecast.png", lambda p: evaluation.plot_forecast(data, forecasts["test"], p)
    )
    traces = trace_gates(model, test.windows()[0])
    if traces:
        title = "Gates on the last test window; heatmaps: units (rows) by time steps (columns)"
        write_atomic(run_dir / "gates.png", lambda p: plot_gates(traces, p, title=title))
    write_atomic(run_dir / "model.keras", model.save)
    write_json(run_dir / "metrics.json", evaluation.finite_or_none(metrics))
    if cfg.export.formats:
        from lstm_app.serving.exporter import (
            export_model,  # TensorFlow's export machinery: when asked
        )

        export_model(model, run_dir, cfg.export.formats)
    return TrainResult(run_dir, model, history, metrics, forecasts, data)
