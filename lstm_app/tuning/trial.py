"""One trial of `lstm-tune`: the trial's config trained in its run directory, scored on the
validation split alone (original units, scored windows), each epoch's score reported to Optuna's
pruner; its `run.json` written by the shared run lifecycle (`lstm_app.runs.lifecycle`)."""

import math
import shutil
from pathlib import Path

import keras

from lstm_app.config.load import config_to_dict, load_config
from lstm_app.data.prepare import prepare_data
from lstm_app.errors import UserInputError
from lstm_app.evaluation.metrics import forecast_metrics, in_sample, seasonal_scale
from lstm_app.models.inference import forecast
from lstm_app.runs.lifecycle import INTERRUPTED, RunStatus, now
from lstm_app.runs.rundir import RunDir, write_json
from lstm_app.training.trainer import fit_in_run
from lstm_app.tuning.space import Space, override


class _Pruning(keras.callbacks.Callback):
    """Reports each epoch's objective (the validation metric in original units, comparable
    across trials whatever their scaling or transforms) to the trial; stops it when the pruner
    says so."""

    def __init__(self, trial, data, objective: str, batch_size: int):
        super().__init__()
        self.trial, self.data, self.objective, self.batch_size = trial, data, objective, batch_size

    def on_epoch_end(self, epoch, logs=None):
        import optuna

        value = validation_metric(self.model, self.data, self.objective, self.batch_size)
        if value is None or not math.isfinite(value):
            return
        self.trial.report(value, epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"val {self.objective} {value:.4g} at epoch {epoch + 1}")


def validation_metrics(model, data, batch_size: int) -> dict:
    """The model's metrics on the validation windows (scored ones), original units."""
    val = data.splits["val"]
    scored = val.scored()
    scale = seasonal_scale(in_sample(data), data.season_length)
    predicted = forecast(model, data, val, batch_size)
    return forecast_metrics(val.raw_target_windows()[scored], predicted[scored], scale)


def validation_metric(model, data, objective: str, batch_size: int) -> float | None:
    value = validation_metrics(model, data, batch_size)[objective]
    return None if value is None else float(value)


def run_trial(config, space: Space, trial, folder: Path, tracking=None) -> float:
    """Trains the trial's config in `folder` and returns its validation metric (original units,
    scored windows); the test split is not forecast. Its `metrics.json` holds `val` only.
    `run.json` says `running`, then `pruned` or `failed` (with `error`), or `done`.
    `tracking`: `(Tracker, parent run id)`, to log the trial, however it ends (but for a
    Ctrl-C), as a child run."""
    overrides = [override(p.key, p.suggest(trial)) for p in space.parameters]
    cfg = load_config(config, overrides)
    shutil.rmtree(folder, ignore_errors=True)  # a trial cut in the middle, run again
    run = RunDir.for_training(folder, cfg.name, False, None)
    run.write_config(config_to_dict(cfg))
    info = {"trial": trial.number, "overrides": overrides, "started": now()}

    def stopped(status: str) -> None:  # pruned (optuna.TrialPruned) or failed: logged too
        if status != INTERRUPTED:
            log_trial(tracking, run, trial.number, status)

    status = RunStatus(run, info, on_stop=stopped)
    with status:
        data = prepare_data(cfg.data, cfg.seed)
        pruning = _Pruning(trial, data, space.objective, cfg.training.batch_size)
        model, history = fit_in_run(cfg, run, data, 0, False, extra_callbacks=[pruning])
        metrics = validation_metrics(model, data, cfg.training.batch_size)
    write_json(run.path / RunDir.METRICS, {"val": metrics})
    status.done(epochs=len(history["loss"]))
    log_trial(tracking, run, trial.number, "done")
    value = metrics[space.objective]
    if value is None:
        raise UserInputError(f"trial {trial.number}: val {space.objective} could not be computed")
    return float(value)


def log_trial(tracking, run: RunDir, number: int, state: str) -> None:
    """Logs a trial's run directory as a child of the study's MLflow run (with tracking)."""
    if tracking is not None:
        tracker, parent = tracking
        tags = {"lstm_app.kind": "trial", "optuna.trial": str(number), "optuna.state": state}
        tracker.log_run(run.path, parent, tags)
