"""The whole job, one stage after another: config -> data -> model -> training -> evaluation ->
run directory -> export. `lstm-train` and `lstm_app.train` run it.

`train(cfg, run_dir)` returns a `TrainResult`. The run directory (`lstm_app.runs.rundir.RunDir`
names every file) gets:

    config.yaml     the resolved config: `lstm-train --config RUN/config.yaml` rebuilds the run
    run.json        status (running, done, failed, interrupted), times, library versions
    history.csv     loss and val_loss per epoch
    model.keras     the trained model
    metrics.json    the model's metrics per split and the baselines' on test, original units
    scaler.json     the scalers' statistics, from the train split (and the window scaling)
    forecasts.csv   every test window and step: time, actual, predicted, baselines
    loss.png        train and validation loss per epoch
    forecast.png    the test split: actual, forecast, baselines
    gates.png       the gates of each gate_lstm layer on the test windows (gate_lstm models only)
    best.keras      the best model by the monitored loss (with the checkpoint callback only)
    export/         the model in the formats of `export.formats`, with metadata.json

A classification (`task: classification`) writes `predictions.csv` (each test sequence's
classes and probabilities) and `confusion.png` instead of forecasts.csv and forecast.png, and
its metrics.json holds the classifier's metrics and its baselines'.
"""

import contextlib
import datetime as dt
import os
import platform
import shutil
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import keras
import numpy as np
import pandas as pd

import lstm_app
from lstm_app.config.load import config_to_dict
from lstm_app.config.schema import DISTRIBUTION_LOSSES, Config, quantile_levels
from lstm_app.data.choose import AUTO, TransformChoice
from lstm_app.data.panel import joined_data, panel_scalers, prepare_panel
from lstm_app.data.prepare import (
    SPLITS,
    PreparedData,
    prepare_candidates,
    prepare_data,
    with_chosen_transforms,
)
from lstm_app.data.sequences import prepare_sequences
from lstm_app.data.shards import scan_shards
from lstm_app.errors import UserInputError
from lstm_app.evaluation.backtest import run_backtest
from lstm_app.evaluation.intervals import interval_report, panel_interval_report
from lstm_app.evaluation.metrics import finite_or_none, forecast_table, metrics_report
from lstm_app.evaluation.panel import panel_summary, series_table
from lstm_app.evaluation.panel_plots import (
    draw_panel_forecast,
    history_total,
    panel_totals,
    pick_series,
    plot_panel_forecast,
    series_points,
    sum_by_time,
)
from lstm_app.evaluation.plots import plot_forecast, plot_loss
from lstm_app.models.gates import plot_gates, trace_gates
from lstm_app.runs.rundir import (
    RunDir,
    file_fingerprint,
    first_difference,
    temporary_path,
    worker_dir,
)
from lstm_app.runs.tracking import Tracker, check_store, missing_mlflow
from lstm_app.training.choose import choose_transforms
from lstm_app.training.distribute import (
    TF_CONFIG,
    Cluster,
    cluster_of,
    replica_devices,
    trains_fused,
    weights_digest,
)
from lstm_app.training.fit import forecast, forecast_each, forecast_quantiles
from lstm_app.training.trainer import fit_in_run, forecast_fold


@dataclass
class TrainResult:
    """What a run produced.

    Attributes:
        run_dir: the run directory.
        model: the trained model.
        history: loss per epoch, `{"loss": [...], "val_loss": [...], ...}`.
        metrics: the content of `metrics.json`.
        forecasts: the model's forecasts per split, `(windows, horizon)`, original units (a
            panel: `{"test": [one array per series]}`).
        data: the prepared data the model was trained and evaluated on.
    """

    run_dir: Path
    model: keras.Model
    history: dict[str, list[float]]
    metrics: dict
    forecasts: dict[str, np.ndarray]
    data: PreparedData

    @property
    def run(self) -> RunDir:
        return RunDir(self.run_dir)


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


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def train(
    cfg: Config,
    run_dir: Path | RunDir | None = None,
    data: PreparedData | None = None,
    verbose="auto",
    resume: bool = False,
) -> TrainResult:
    """Trains the model of `cfg` on its data, evaluates it and writes `run_dir`.

    Args:
        cfg: a checked config (see `load_config`). With `data.transforms: auto`, the model is
            first trained on each candidate and the transforms with the lowest validation MAE
            are kept (`lstm_app.training.choose`); a resumed run keeps what it chose.
        run_dir: a new or empty directory (a non-empty one is refused); default: a new
            `runs/<name>-<timestamp>/` under the current directory (`RunDir.for_training`).
        data: the prepared data, if already loaded; else `prepare_data(cfg.data, cfg.seed)`
            (for a panel, `data.series_id`: a PreparedPanel, else `prepare_panel`).
        verbose: Keras's fit verbosity: `"auto"`, 0 (silent), 1 (progress bar), 2 (a line).
        resume: continue the unfinished run in `run_dir` from its last completed epoch
            (see `lstm_app.training.resume`).

    Under `training.distribute.strategy: multi_worker` every worker calls this, first thing in
    its process, with `TF_CONFIG` set and the same `run_dir`: the chief writes the run; another
    worker trains with it, keeps only its resume points in `RUN/.worker-I/`, and gets a
    TrainResult without metrics or forecasts.

    Returns:
        A TrainResult. Raises RunFailedError if the loss diverges (NaN or infinite), and
        UserInputError, before anything is written, if `data` was prepared from another config.
    """
    missing = missing_mlflow(cfg)  # the extra asked for and missing: one line now, not after
    if missing:
        raise UserInputError(missing)
    cluster = None
    if cfg.training.distribute.strategy == "multi_worker":
        cluster = cluster_of(os.environ.get(TF_CONFIG))
        if run_dir is None:
            raise UserInputError(
                "--run-dir is needed under training.distribute.strategy: multi_worker: every "
                "worker names the same run directory"
            )
        if not cluster.chief:
            return _train_worker(cfg, cluster, Path(run_dir), data, verbose, resume)
    replicas = replica_devices(cfg.training.distribute)  # a device not here: one line, now
    choice = None
    if cfg.data.transforms == AUTO:  # chosen now (or when the run started): config.yaml says
        cfg, data = _auto_transforms(cfg, run_dir, data, verbose, resume)
        choice = data.transform_choice
    if data is not None:
        check_prepared_from(cfg, data)
    config = config_to_dict(cfg)
    run = RunDir.for_training(run_dir, cfg.name, resume, config)
    if cfg.tracking.mlflow.enabled:  # a store out of reach: one line now, not after training
        check_store(run.path.parent, _experiment(cfg))
    now = _now()
    if resume:
        info = {**run.read_status(), "status": "running"}
        info["resumed"] = [*info.get("resumed", []), now]
        info.pop("error", None)
    else:
        info = {
            "status": "running",
            "name": cfg.name,
            "started": now,
            "versions": versions(),
            "platform": platform.platform(),
        }
        if cfg.data.source == "csv":  # what a resume must find unchanged (generated data: none)
            info[RunDir.DATA_FILE] = file_fingerprint(cfg.data.path)
        if choice is not None:
            info[AUTO_CHOICE] = _choice_record(choice)
        if replicas:  # under a tf.distribute strategy: unfused (lstm_app.training.distribute)
            info["distribute"] = {
                "strategy": cfg.training.distribute.strategy,
                "devices": replicas,
                "fused": trains_fused(cfg.training.fused, cfg.training.distribute),
            }
            if cluster is not None:  # the chief's own devices, then every worker
                info["distribute"]["workers"] = list(cluster.workers)
        run.write_config(config)
    started = time.time()
    run.write_status(info)
    try:
        result = _fit_evaluate_write(cfg, run, data, verbose, resume)
    except BaseException as err:
        stopped = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
        run.write_status({**info, "status": stopped, "error": str(err) or type(err).__name__})
        if stopped == "failed":  # logged too; its own failure must not hide this one
            with contextlib.suppress(UserInputError):
                _track(cfg, run)
        raise
    shutil.rmtree(run.resume_dir, ignore_errors=True)  # finished: nothing to resume
    if cluster is not None:  # the same on every worker (each prints its own)
        info["distribute"] = {**info["distribute"], "weights_sha256": weights_digest(result.model)}
    run.write_status(
        {
            **info,
            "status": "done",
            "finished": _now(),
            "wall_seconds": round(time.time() - started, 2),
            "epochs": len(result.history["loss"]),
        }
    )
    try:
        _track(cfg, run)
    except UserInputError as err:  # reached before training, lost since
        raise UserInputError(
            f"{err}; the run itself is complete in {run.path} (run.json: done), only its "
            "MLflow logging failed"
        ) from None
    return result


def _train_worker(cfg: Config, cluster: Cluster, run_dir: Path, data, verbose, resume: bool):
    """A multi-worker run's part on a worker other than the chief: trains with the others,
    writing only its resume points (and the config and status they are checked against) into
    `worker_dir`, removed once the training ends; the chief writes the run. Returns a
    TrainResult without metrics or forecasts."""
    config = config_to_dict(cfg)
    run = RunDir.for_training(worker_dir(run_dir, cluster.index), cfg.name, resume, config)
    if not resume:
        run.write_config(config)
    info = {"status": "running", "worker": cluster.describe(), "run": str(run_dir)}
    run.write_status(info)
    if cfg.data.stream:  # read shard by shard, as the chief does
        data = scan_shards(cfg.data)
    elif cfg.data.series_id is not None:
        data = joined_data(data or prepare_panel(cfg.data, cfg.seed))
    else:
        data = data or prepare_data(cfg.data, cfg.seed)
    try:
        model, history = fit_in_run(cfg, run, data, verbose, resume, chief=False)
    except BaseException as err:
        stopped = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
        run.write_status({**info, "status": stopped, "error": str(err) or type(err).__name__})
        raise
    shutil.rmtree(run.path, ignore_errors=True)  # finished: nothing to resume
    return TrainResult(run_dir, model, history, {}, {}, data)


def _experiment(cfg: Config) -> str:
    """The MLflow experiment of `cfg`'s runs: `tracking.mlflow.experiment`, else its name."""
    return cfg.tracking.mlflow.experiment or cfg.name


def _track(cfg: Config, run: RunDir) -> None:
    """Logs the written run directory to MLflow (`tracking.mlflow`), in the store of the
    folder that holds it (`lstm_app.runs.tracking`)."""
    if cfg.tracking.mlflow.enabled:
        Tracker(run.path.parent, _experiment(cfg)).log_run(run.path)


AUTO_CHOICE = "transforms_auto"  # run.json: what data.transforms: auto chose, and the scores


def _choice_record(choice: TransformChoice) -> dict:
    return {"chosen": list(choice.chosen), "scores": choice.scores, "skipped": choice.skipped}


def _auto_transforms(cfg: Config, run_dir, data: PreparedData | None, verbose, resume: bool):
    """`data.transforms: auto`: the config with the transforms chosen, and the data prepared
    with them. A new run trains the model on each candidate (`lstm_app.training.choose`); a
    resumed run takes what it chose when it started (its config.yaml and run.json)."""
    if data is not None:
        raise UserInputError(
            "data: with data.transforms: auto, lstm_app.train prepares the data of each "
            "candidate itself; pass no data, or give the transforms in the config"
        )
    if resume:
        run = RunDir(run_dir)
        chosen = tuple(run.read_config()["data"]["transforms"])
        record = run.read_status().get(AUTO_CHOICE) or {}
        choice = TransformChoice(chosen, record.get("scores", {}), record.get("skipped", {}))
        cfg = replace(cfg, data=replace(cfg.data, transforms=chosen))
        data = replace(prepare_data(cfg.data, cfg.seed), transform_choice=choice)
        return cfg, data
    prepared, skipped = prepare_candidates(cfg.data, cfg.seed)
    say = None if verbose == 0 else partial(print, flush=True)
    choice = choose_transforms(cfg, prepared, skipped, say)
    data = replace(prepared[choice.chosen], transform_choice=choice)
    return with_chosen_transforms(cfg, data), data


def check_prepared_from(cfg: Config, data: PreparedData) -> None:
    """UserInputError naming the first key where the config `data` was prepared from (its
    `prepared_from`) differs from `cfg`: the run would write a config that does not describe
    its model. The seed counts only for a generated series (the seed draws its noise)."""
    origin = data.prepared_from
    if origin is None:  # built by hand: nothing to compare
        return
    was = {"data": config_to_dict(origin["data"])}
    now = {"data": config_to_dict(cfg.data)}
    if cfg.data.source == "sine" or origin["data"].source == "sine":
        was["seed"], now["seed"] = origin["seed"], cfg.seed
    difference = first_difference(was, now)
    if difference:
        key, there, here = difference
        raise UserInputError(
            f"data: prepared from another config ({key}: {there!r} there, {here!r} in the "
            "config trained); prepare it from this config: lstm_app.prepare_data(cfg)"
        )


def _export_whole(model: keras.Model, run: RunDir, formats) -> None:
    """Exports `model` into a temporary folder beside `RUN/export/`, renamed to it once whole:
    an export stopped midway (Ctrl-C) leaves no `RUN/export/`, and the resume of the run,
    which ends with the same model, removes the stopped try and exports again."""
    from lstm_app.serving.exporter import export_model  # TensorFlow's export machinery

    final = run.export_dir
    tmp = temporary_path(final)
    shutil.rmtree(tmp, ignore_errors=True)  # a stopped try's
    export_model(model, run, formats, out=tmp, where=str(final))
    # an export/ already here is this run's own, whole, from a try stopped just after the
    # rename (a new run's directory starts empty; a finished run is never resumed)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)


def _write_model_metrics_export(cfg: Config, run: RunDir, model: keras.Model, metrics: dict):
    """Every job's last writes: `model.keras`, `metrics.json` (NaN and infinities as null),
    then the export of `export.formats`, if any."""
    run.write_file(RunDir.MODEL, model.save)
    run.write_metrics(finite_or_none(metrics))
    if cfg.export.formats:
        _export_whole(model, run, cfg.export.formats)


def _fit_evaluate_write_panel(cfg: Config, run: RunDir, panel, verbose, resume):
    """The job for a panel (`data.series_id`): one model trained on the windows of every
    series, each series forecast and scored on its own test block, the panel summarised."""
    panel = panel or prepare_panel(cfg.data, cfg.seed)
    model, history = fit_in_run(cfg, run, joined_data(panel), verbose, resume)
    batch_size = cfg.training.batch_size
    forecasts, reports, table = _score_panel(model, panel, batch_size)
    metrics = {
        "panel": panel_summary(table),
        "series": {"scored": len(panel), "left_out": panel.skipped},
        "data": {**reports[0]["data"], "inputs": list(panel.feature_names)},
    }
    levels = _quantile_levels(cfg)
    if levels is not None:
        intervals = cfg.evaluation.intervals
        point = {"val": forecast_each(model, panel.parts, "val", batch_size), "test": forecasts}
        quantiles = None
        if cfg.training.loss in DISTRIBUTION_LOSSES:
            quantiles = {
                name: forecast_each(model, panel.parts, name, batch_size, levels)
                for name in ("val", "test")
            }
        metrics["intervals"] = panel_interval_report(
            panel.parts, point, quantiles, levels, intervals.levels, intervals.calibrate
        )
    run.write_scalers(panel_scalers(panel))
    run.write_file(RunDir.SERIES_METRICS, lambda path: table.to_csv(path, index=False))
    run.write_file(RunDir.LOSS_PLOT, lambda path: plot_loss(history, path))
    run.write_file(
        RunDir.FORECAST_PLOT, lambda path: plot_panel_forecast(panel, forecasts, table, path)
    )
    _write_model_metrics_export(cfg, run, model, metrics)
    return TrainResult(run.path, model, history, metrics, {"test": forecasts}, panel)


def _fit_evaluate_write_streamed(cfg: Config, run: RunDir, verbose, resume):
    """The job for a panel read shard by shard (`data.stream`): trained on the windows of every
    shard in turn (`stream_dataset`), then each shard read again, forecast and scored as a
    panel in memory is; what is written is what `_fit_evaluate_write_panel` writes."""
    sharded = scan_shards(cfg.data)
    model, history = fit_in_run(cfg, run, sharded, verbose, resume)
    batch_size = cfg.training.batch_size
    tables, skipped, histories, totals, scalers, where = [], {}, [], [], None, {}
    for index, path in enumerate(sharded.paths):
        shard = prepare_panel(replace(cfg.data, path=path), cfg.seed, categories=sharded.static)
        forecasts, reports, table = _score_panel(model, shard, batch_size)
        tables.append(table)
        skipped.update(shard.skipped)
        histories.append(history_total(shard))
        totals.append(panel_totals(shard, forecasts))
        where.update(dict.fromkeys(shard.ids, index))
        scalers = _merged_scalers(scalers, panel_scalers(shard))
    table = pd.concat(tables, ignore_index=True)
    metrics = {
        "panel": panel_summary(table),
        "series": {"scored": len(table), "left_out": skipped, "shards": len(sharded.paths)},
        "data": {**reports[0]["data"], "inputs": list(sharded.feature_names)},
    }
    picked = []
    for role, series_id in pick_series(table):  # read again: one shard is held at a time
        shard = prepare_panel(
            replace(cfg.data, path=sharded.paths[where[series_id]]),
            cfg.seed,
            categories=sharded.static,
        )
        part = shard.parts[shard.ids.index(series_id)]
        (values,) = forecast_each(model, [part], "test", batch_size)
        picked.append((role, series_id, part, series_points(part, values)))
    run.write_scalers(scalers)
    run.write_file(RunDir.SERIES_METRICS, lambda path: table.to_csv(path, index=False))
    run.write_file(RunDir.LOSS_PLOT, lambda path: plot_loss(history, path))
    run.write_file(
        RunDir.FORECAST_PLOT,
        lambda path: draw_panel_forecast(
            sum_by_time(histories),
            sum_by_time(totals),
            picked,
            table,
            path,
            f"test split, read in {len(sharded.paths)} shards",
        ),
    )
    _write_model_metrics_export(cfg, run, model, metrics)
    return TrainResult(run.path, model, history, metrics, {}, sharded)


def _score_panel(model: keras.Model, panel, batch_size: int):
    """`(forecasts, reports, table)` of a prepared panel (or shard): each series' test
    forecasts, its `metrics_report`, and the `series_table` of them all."""
    forecasts = forecast_each(model, panel.parts, "test", batch_size)
    reports = [
        metrics_report(part, {"test": values})
        for part, values in zip(panel.parts, forecasts, strict=True)
    ]
    return forecasts, reports, series_table(panel.ids, reports)


def _quantile_levels(cfg: Config) -> list[float] | None:
    """The quantile levels a run forecasts and scores (`quantile_levels`), or None when it
    scores no interval (no quantiles, no interval levels, a point loss)."""
    intervals = cfg.evaluation.intervals
    if cfg.data.quantiles or intervals.levels or cfg.training.loss in DISTRIBUTION_LOSSES:
        return quantile_levels(cfg.data.quantiles, intervals.levels)
    return None


def _merged_scalers(merged: dict | None, shard: dict) -> dict:
    """`scaler.json` of a panel read shard by shard: one shard's (`panel_scalers`), with the
    series of every shard when each series has its own statistics."""
    if merged is None:
        return shard
    if "series" in merged:
        merged["series"].update(shard["series"])
    return merged


def _fit_evaluate_write_classification(cfg: Config, run: RunDir, data, verbose, resume):
    """The job of `task: classification`: a classifier trained on the train sequences (early
    stopping and checkpoints on the val ones), scored on each split, beside the baselines on
    the same test split; `metrics.json`, `predictions.csv`, `confusion.png` (and `gates.png`
    for GateLSTM layers)."""
    from lstm_app.evaluation.classification import (
        classification_report,
        plot_confusion,
        prediction_table,
    )
    from lstm_app.training.fit import class_probabilities

    data = data or prepare_sequences(cfg.data, cfg.seed)
    model, history = fit_in_run(cfg, run, data, verbose, resume)
    batch_size = cfg.training.batch_size
    probabilities = {name: class_probabilities(model, data, name, batch_size) for name in SPLITS}
    metrics = classification_report(data, probabilities, cfg.data.tokenizer.max_tokens, cfg.seed)
    run.write_scalers(_sequence_scalers(data))
    run.write_file(
        RunDir.PREDICTIONS,
        lambda path: prediction_table(data, probabilities["test"]).to_csv(path, index=False),
    )
    run.write_file(RunDir.LOSS_PLOT, lambda path: plot_loss(history, path))
    matrices = {"model": metrics["test"]["confusion"]}
    matrices |= {name: m["confusion"] for name, m in metrics["baselines"].items()}
    run.write_file(RunDir.CONFUSION_PLOT, lambda path: plot_confusion(matrices, data.classes, path))
    traces, title = _sequence_gates(model, data)
    if traces:
        run.write_file(RunDir.GATES_PLOT, lambda path: plot_gates(traces, path, title=title))
    _write_model_metrics_export(cfg, run, model, metrics)
    return TrainResult(run.path, model, history, metrics, probabilities, data)


def _sequence_scalers(data) -> dict:
    """`scaler.json` of a classification: the features' statistics (numeric) and the classes."""
    out = {"classes": list(data.classes), "max_length": data.max_length}
    if data.scaler is not None:
        out["features"] = data.scaler.to_dict(data.feature_names)
    return out


def _sequence_gates(model: keras.Model, data, shown: int = 8):
    """`(traces, title)` of the GateLSTM layers on up to `shown` test sequences of the most
    common length among them (each read to its end, no padding); `([], "")` without one."""
    from lstm_app.models.gates import gate_layers

    if not gate_layers(model):
        return [], ""
    lengths = np.minimum(data.lengths["test"], data.max_length)
    values, counts = np.unique(lengths, return_counts=True)
    length = int(values[np.argmax(counts)])
    rows = np.flatnonzero(lengths == length)[:shown]
    traces = [
        replace(
            trace,
            **{
                name: getattr(trace, name)[:, :length]
                for name in (
                    "input_gate",
                    "forget_gate",
                    "output_gate",
                    "candidate",
                    "cell",
                    "hidden",
                )
            },
        )
        for trace in trace_gates(model, data.inputs["test"][rows])
    ]
    ids = ", ".join(str(i) for i in data.ids["test"][rows])
    classes = np.asarray(data.classes, dtype=object)[data.labels["test"][rows]]
    unit = "words" if data.is_text else "steps"
    title = (
        f"Gates on {len(rows)} test sequences of {length} {unit} ({ids}); heatmaps: the last "
        f"(class {classes[-1]}), units (rows) by time steps (columns)"
    )
    return traces, title


def _fit_evaluate_write(cfg: Config, run: RunDir, data: PreparedData | None, verbose, resume):
    if cfg.task == "classification":
        return _fit_evaluate_write_classification(cfg, run, data, verbose, resume)
    if cfg.data.stream:
        return _fit_evaluate_write_streamed(cfg, run, verbose, resume)
    if cfg.data.series_id is not None:
        return _fit_evaluate_write_panel(cfg, run, data, verbose, resume)
    data = data or prepare_data(cfg.data, cfg.seed)
    model, history = fit_in_run(cfg, run, data, verbose, resume)
    batch_size = cfg.training.batch_size
    forecasts = {name: forecast(model, data, data.splits[name], batch_size) for name in SPLITS}
    metrics, bands = metrics_report(data, forecasts), {}
    levels = _quantile_levels(cfg)
    if levels is not None:
        intervals = cfg.evaluation.intervals
        quantiles = {
            name: forecast_quantiles(model, data, data.splits[name], levels, batch_size)
            for name in ("val", "test")
        }
        distribution = quantiles["test"] is not None
        metrics["intervals"], bands = interval_report(
            data,
            forecasts,
            quantiles if distribution else None,
            levels,
            intervals.levels,
            intervals.calibrate,
        )
    if cfg.evaluation.backtest.folds > 1:
        metrics["backtest"] = run_backtest(cfg, data, metrics, partial(forecast_fold, cfg))
    test = data.splits["test"]
    scalers = {
        "features": data.feature_scaler.to_dict(data.feature_names),
        "target": data.target_scaler.to_dict([data.series.target_name]),
        "target_transforms": list(data.pipeline.names),
    }
    if test.window_scaling is not None:  # each window by its own statistics
        scalers["window"] = test.window_scaling.to_dict(data.feature_names)
    run.write_scalers(scalers)
    run.write_forecasts(forecast_table(data, test, forecasts["test"]))
    run.write_file(RunDir.LOSS_PLOT, lambda path: plot_loss(history, path))
    run.write_file(
        RunDir.FORECAST_PLOT, lambda path: plot_forecast(data, forecasts["test"], path, bands=bands)
    )
    traces = trace_gates(model, test.windows()[0])
    if traces:
        title = "Gates on the last test window; heatmaps: units (rows) by time steps (columns)"
        run.write_file(RunDir.GATES_PLOT, lambda path: plot_gates(traces, path, title=title))
    _write_model_metrics_export(cfg, run, model, metrics)
    return TrainResult(run.path, model, history, metrics, forecasts, data)
