"""Train in a run directory: build the model of a config (or put a resumed run's state back),
fit it with the callbacks the config turns on, and save every epoch so the run can resume.

    model, history = fit_in_run(cfg, run, data, verbose="auto", resume=False)

What the run directory holds while training (`lstm_app.runs.rundir.RunDir`): `history.csv`
(each epoch's losses), `best.keras` (with the checkpoint callback) and `.resume/` (the last
completed epoch, see `lstm_app.training.resume`). Evaluating the model and writing the rest of
the run directory is its job's (`lstm_app.jobs`).
"""

import dataclasses

import pandas as pd

from lstm_app.config.schema import Config, DistributeConfig
from lstm_app.data.prepare import PreparedData
from lstm_app.errors import UserInputError
from lstm_app.models.inference import forecast
from lstm_app.runs.rundir import RunDir
from lstm_app.training.distribute import agreed_epoch, is_multi_worker, local_copy
from lstm_app.training.fit import check_converged, fit_model, make_callbacks, new_model
from lstm_app.training.resume import ResumePoint, restore_state, saved_epochs


def history_table(history: dict[str, list[float]]) -> str:
    """`history.csv` as CSVLogger writes it: `epoch` (from 0), then the log keys, sorted."""
    table = pd.DataFrame({key: history[key] for key in sorted(history)})
    table.insert(0, "epoch", range(len(table)))
    return table.to_csv(index=False, lineterminator="\r\n")  # as the csv module writes


def fit_in_run(
    cfg: Config,
    run: RunDir,
    data,
    verbose,
    resume: bool,
    extra_callbacks=(),
    chief: bool = True,
):
    """Fits the model of `cfg` on `data`, writing the run's training files into `run`.

    Args:
        data: the training input (`lstm_app.data.feed.TrainingInput`, see `fit_model`).
        verbose: Keras's fit verbosity: `"auto"`, 0 (silent), 1 (progress bar), 2 (a line).
        resume: continue from the last epoch saved in `run` (its model and optimizer state,
            its callbacks' counters and its history).
        extra_callbacks: more Keras callbacks, called after the config's (`lstm-tune`'s
            pruning).
        chief: whether this process writes the run's files; in a multi-worker run, the other
            workers write only their resume points into `run` (their own directory).

    Returns:
        `(model, history)`: the trained model and the loss per epoch, every epoch before and
        after a resume. Raises RunFailedError if the loss diverged. In a multi-worker run the
        chief gets the model outside the strategy (`local_copy`): evaluating it needs no worker.
    """
    training = cfg.training
    model, state = new_model(cfg, data), {"epochs": 0}
    several = is_multi_worker(model.distribute_strategy)
    if resume:
        # several workers: the last epoch they all saved (a collective: every worker asks)
        epoch = agreed_epoch(model.distribute_strategy, saved_epochs(run)) if several else None
        if epoch == 0:
            raise UserInputError(
                f"--run-dir {run.path}: some worker saved no completed epoch; start the run again "
                "in a new run directory"
            )
        with model.distribute_strategy.scope():  # the optimizer's slots beside the variables
            state = restore_state(run, model, epoch)
        if chief:  # the log may hold an epoch after the saved state: rewrite it to the state's
            run.write_history(history_table(state["history"]))
    callbacks = make_callbacks(
        training.callbacks, run.path, append_log=resume, saves=model, writes=chief
    )
    resume_point = ResumePoint(run, list(callbacks), state, keep=2 if several else 1)
    model, _ = fit_model(
        cfg, data, [*callbacks, resume_point, *extra_callbacks], verbose, model, state["epochs"]
    )
    history = resume_point.history  # every epoch, before and after a resume
    if chief and not training.callbacks.csv_log.enabled:
        run.write_history(history_table(history))
    check_converged(history, run / RunDir.BEST)
    return (local_copy(model) if several and chief else model), history


def forecast_fold(cfg: Config, fold: PreparedData):
    """A backtest fold: a model of `cfg` trained on the fold's train split (no run directory),
    forecasting its test windows `(windows, horizon)` in original units. Under a multi-worker
    run, the chief trains the folds alone, after the other workers are done."""
    if cfg.training.distribute.strategy == "multi_worker":
        alone = dataclasses.replace(cfg.training, distribute=DistributeConfig())
        cfg = dataclasses.replace(cfg, training=alone)
    model, history = fit_model(cfg, fold, callbacks=[], verbose=0)
    check_converged(history)
    return forecast(model, fold, fold.splits["test"], cfg.training.batch_size)
