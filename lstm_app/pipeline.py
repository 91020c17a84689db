"""The life of a run: `train(cfg, run_dir)` runs the job of the config (`lstm_app.jobs`:
config -> data -> model -> training -> evaluation -> run directory -> export) inside the run's
lifecycle: its status, resume, tracking and, under several workers, its role. `lstm-train` and
`lstm_app.train` call it.

`train(cfg, run_dir)` returns a `TrainResult`. The run directory (`lstm_app.runs.rundir.RunDir`
names every file) gets, whatever the kind of run:

    config.yaml     the resolved config: `lstm-train --config RUN/config.yaml` rebuilds the run
    run.json        status (running, done, failed, interrupted), the kind of run, times, library
                    versions
    history.csv     loss and val_loss per epoch
    model.keras     the trained model
    metrics.json    the model's metrics and its baselines', original units
    scaler.json     the statistics the model's inputs were scaled with
    loss.png        train and validation loss per epoch
    best.keras      the best model by the monitored loss (with the checkpoint callback only)
    export/         the model in the formats of `export.formats`, with metadata.json

and what its job writes besides (`lstm_app.jobs.series`: forecasts.csv, forecast.png,
gates.png; `panel` and `stream`: series_metrics.csv, forecast.png; `classification`:
predictions.csv, confusion.png, gates.png).
"""

import os
import platform
import shutil
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from lstm_app.config.load import config_to_dict
from lstm_app.config.schema import Config
from lstm_app.errors import UserInputError
from lstm_app.jobs import job_for
from lstm_app.jobs.base import TrainResult
from lstm_app.runs.lifecycle import FAILED, RunStatus, now
from lstm_app.runs.rundir import RunDir, file_fingerprint, first_difference, worker_dir
from lstm_app.runs.tracking import Tracker, check_store, missing_mlflow
from lstm_app.training.distribute import (
    TF_CONFIG,
    Cluster,
    cluster_of,
    replica_devices,
    trains_fused,
    weights_digest,
)
from lstm_app.training.trainer import fit_in_run
from lstm_app.version import __version__

__all__ = ["TrainResult", "check_prepared_from", "train", "versions"]


def versions() -> dict:
    """The versions of Python and the libraries that shape the numbers."""
    import tensorflow as tf

    return {
        "lstm_app": __version__,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


def train(
    cfg: Config,
    run_dir: Path | RunDir | None = None,
    data=None,
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
        data: the prepared data, if already loaded (`lstm_app.prepare_data(cfg)`, or what the
            job's `prepare` gave); else the job loads it (`lstm_app.jobs`).
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
    job = job_for(cfg)
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
            return _train_worker(job, cfg, cluster, Path(run_dir), data, verbose, resume)
    replicas = replica_devices(cfg.training.distribute)  # a device not here: one line, now
    cfg, data, settled = job.settle(cfg, run_dir, data, verbose, resume)
    check_prepared_from(cfg, data)
    config = config_to_dict(cfg)
    run = RunDir.for_training(run_dir, cfg.name, resume, config)
    if cfg.tracking.mlflow.enabled:  # a store out of reach: one line now, not after training
        check_store(run.path.parent, _experiment(cfg))
    if resume:
        info = run.read_status()
        info["resumed"] = [*info.get("resumed", []), now()]
        info.pop("error", None)
        info.pop("finished", None)
    else:
        info = {
            "name": cfg.name,
            "kind": job.kind,
            "started": now(),
            "versions": versions(),
            "platform": platform.platform(),
        }
        if cfg.data.source == "csv":  # what a resume must find unchanged (generated data: none)
            info[RunDir.DATA_FILE] = file_fingerprint(cfg.data.path)
        info.update(settled)
        if replicas:  # under a tf.distribute strategy: unfused (lstm_app.training.distribute)
            info["distribute"] = {
                "strategy": cfg.training.distribute.strategy,
                "devices": replicas,
                "fused": trains_fused(cfg.training.fused, cfg.training.distribute),
            }
            if cluster is not None:  # the chief's own devices, then every worker
                info["distribute"]["workers"] = list(cluster.workers)
        run.write_config(config)
    # a failed run is logged too (an interrupted one is not: it will be resumed)
    status = RunStatus(run, info, on_stop=lambda s: _track(cfg, run) if s == FAILED else None)
    with status:
        result = job.fit_evaluate_write(cfg, run, data, verbose, resume)
    shutil.rmtree(run.resume_dir, ignore_errors=True)  # finished: nothing to resume
    if cluster is not None:  # the same on every worker (each prints its own)
        digest = weights_digest(result.model)
        status.info["distribute"] = {**status.info["distribute"], "weights_sha256": digest}
    status.done(epochs=len(result.history["loss"]))
    try:
        _track(cfg, run)
    except UserInputError as err:  # reached before training, lost since
        raise UserInputError(
            f"{err}; the run itself is complete in {run.path} (run.json: done), only its "
            "MLflow logging failed"
        ) from None
    return result


def _train_worker(job, cfg: Config, cluster: Cluster, run_dir: Path, data, verbose, resume):
    """A multi-worker run's part on a worker other than the chief: trains with the others,
    writing only its resume points (and the config and status they are checked against) into
    `worker_dir`, removed once the training ends; the chief writes the run. Returns a
    TrainResult without metrics or forecasts."""
    config = config_to_dict(cfg)
    run = RunDir.for_training(worker_dir(run_dir, cluster.index), cfg.name, resume, config)
    if not resume:
        run.write_config(config)
    data = job.training_data(cfg, data)  # what the chief trains on (a stream: shard by shard)
    with RunStatus(run, {"worker": cluster.describe(), "run": str(run_dir)}):
        model, history = fit_in_run(cfg, run, data, verbose, resume, chief=False)
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


def check_prepared_from(cfg: Config, data) -> None:
    """UserInputError naming the first key where the config `data` was prepared from (its
    `prepared_from`) differs from `cfg`: the run would write a config that does not describe
    its model. The seed counts only for a generated series (the seed draws its noise)."""
    origin = getattr(data, "prepared_from", None)
    if origin is None:  # none given, or built by hand: nothing to compare
        return
    was = {"data": config_to_dict(origin["data"])}
    now_ = {"data": config_to_dict(cfg.data)}
    if cfg.data.source == "sine" or origin["data"].source == "sine":
        was["seed"], now_["seed"] = origin["seed"], cfg.seed
    difference = first_difference(was, now_)
    if difference:
        key, there, here = difference
        raise UserInputError(
            f"data: prepared from another config ({key}: {there!r} there, {here!r} in the "
            "config trained); prepare it from this config: lstm_app.prepare_data(cfg)"
        )
