"""The study of `lstm-tune`: opened (or found again) in its storage, searched by one or several
workers until it has its trials, then its best config written, trained once more as a normal
run, summarised (`trials.csv`, plots) and, with `tracking.mlflow`, logged."""

import dataclasses
import json
import shutil
import time
import warnings
from dataclasses import replace
from pathlib import Path

import yaml

from lstm_app.config.load import config_to_dict, load_config
from lstm_app.errors import UserInputError
from lstm_app.runs.rundir import write_json
from lstm_app.runs.tracking import check_store, numbers_of
from lstm_app.tuning.space import Space, override
from lstm_app.tuning.storage import fail_stale, fail_trial, open_storage
from lstm_app.tuning.trial import run_trial


def study_tracking(config, study_dir: Path):
    """`(Tracker, parent run id)` of the study in `study_dir` when the config asks for MLflow
    (`tracking.mlflow`), else None; the parent run is found again by a resumed search and by
    every worker of this study folder (the first call makes it)."""
    cfg = load_config(config)
    if not cfg.tracking.mlflow.enabled:
        return None
    # a store out of reach: one line now, without retries
    tracker = check_store(study_dir.parent, cfg.tracking.mlflow.experiment or cfg.name)
    return tracker, tracker.study_run(study_dir, study_dir.name)


def open_study(
    config,
    space: Space,
    study_dir: Path,
    storage: str | None,
    recover: bool = True,
    seed: int | None = 0,
):
    """The study of `config` in `storage` (default: SQLite in `study_dir/study.db`), created or
    loaded, named after the config's file; the median pruner waits a quarter of the config's
    epochs before it stops a trial. With `recover`, trials left running by a killed search are
    marked failed and queued again at once (done once, before any worker starts; a shared
    storage leaves it to the heartbeats, as other machines' trials are running). `seed` seeds
    this process's sampler (None: from the OS), so that workers do not draw the same trials.
    UserInputError if the study was started with another space: its trials would not fit."""
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage or f"sqlite:///{(study_dir / 'study.db').resolve()}"
    warmup = max(2, load_config(config).training.epochs // 4)
    study = optuna.create_study(
        study_name=Path(config).stem,
        storage=open_storage(url),
        load_if_exists=True,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=warmup),
    )
    described = json.loads(json.dumps([dataclasses.asdict(p) for p in space.parameters]))
    started = study.user_attrs.get("space")
    if started is None:
        study.set_user_attr("space", described)
        study.set_user_attr("objective", space.objective)
    elif started != described or study.user_attrs.get("objective") != space.objective:
        raise UserInputError(
            f"--study-dir {study_dir}: holds a search started with another space (its "
            "parameters or objective differ); give a new --study-dir, or the space it was "
            "started with"
        )
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) if recover else ()
    for trial in running:
        fail_trial(study, trial)
        study.enqueue_trial(trial.params, user_attrs={"rerun_of": trial.number})
    return study


def search(
    config,
    space: Space,
    trials: int,
    study_dir: Path,
    storage=None,
    say=print,
    recover=True,
    worker: int = 0,
):
    """Runs trials until `trials` are done (finished or pruned, counting those of an earlier,
    killed search, and of other workers on the same storage), then waits for the trials other
    workers are still running. A worker starts a trial only while the done and running ones
    are fewer than `trials`, so the study ends with `trials` done (one or two more only when
    workers start at the same instant). `worker` numbers this process among those on this
    machine: it seeds the sampler on the default storage (a search of one worker repeats
    itself); on a shared storage, the machines' samplers are seeded by the OS."""
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seed = worker if storage is None else None
    study = open_study(config, space, study_dir, storage, recover, seed)
    tracking = study_tracking(config, study_dir)

    def objective(trial):
        folder = study_dir / "trials" / f"{trial.number:04d}"
        try:
            value = run_trial(config, space, trial, folder, tracking)
        except optuna.TrialPruned as err:
            say(f"trial {trial.number}: pruned ({err})")
            raise
        say(f"trial {trial.number}: val {space.objective} {value:.4g} ({folder})")
        return value

    while True:
        fail_stale(study)  # a dead worker's trial: failed, and queued again
        done = len(
            study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        )
        running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
        if done >= trials and not running:  # the others' last trials too: one best for all
            return study
        if done + running < trials:
            study.optimize(objective, n_trials=1)
        else:  # the others' running trials complete the search
            time.sleep(1)


def tune(
    config,
    space: Space,
    trials: int,
    study_dir: Path,
    storage: str | None = None,
    say=print,
    recover: bool = True,
):
    """Runs the search until `trials` trials are done (finished or pruned, counting those of
    an earlier, killed search), then writes `best.yaml`, trains it into `study_dir/best/`, and
    writes `trials.csv` and the plots. Returns `(study, result)`, `result` the best config's
    TrainResult."""
    from lstm_app.pipeline import train

    study_dir.mkdir(parents=True, exist_ok=True)
    study = search(config, space, trials, study_dir, storage, say, recover)
    best = study.best_trial
    overrides = [override(p.key, p.stored_value(best.params[p.key])) for p in space.parameters]
    cfg = load_config(config, overrides)
    text = yaml.safe_dump(config_to_dict(cfg), sort_keys=False)
    (study_dir / "best.yaml").write_text(
        f"# lstm-tune: trial {best.number}, val {space.objective} {best.value:.6g}\n"
        f"# overrides: {' '.join(overrides)}\n{text}",
        encoding="utf-8",
    )
    best_dir = study_dir / "best"
    shutil.rmtree(best_dir, ignore_errors=True)  # retrained from scratch each time
    result = train(_untracked(cfg), best_dir, verbose=0)  # logged as a child of the study
    study.trials_dataframe().to_csv(study_dir / "trials.csv", index=False)
    _plots(study, study_dir)
    summary = {
        "best_trial": best.number,
        "objective": space.objective,
        "best_val": best.value,
        "overrides": overrides,
        "test": result.metrics["test"],
        "trials": len(study.trials),
    }
    write_json(study_dir / "summary.json", summary)
    _track_study(config, study_dir, space, study, best_dir, result.metrics)
    return study, result


def _untracked(cfg):
    """`cfg` with MLflow off: the best config's run is logged by `_track_study`."""
    mlflow = replace(cfg.tracking.mlflow, enabled=False)
    return replace(cfg, tracking=replace(cfg.tracking, mlflow=mlflow))


STUDY_FILES = ("best.yaml", "summary.json", "trials.csv", "optimization_history.png")


def _track_study(config, study_dir: Path, space: Space, study, best_dir: Path, metrics) -> None:
    """With `tracking.mlflow`: logs the best config's run as a child of the study's run, and
    ends that run with the space (params), the best validation and test scores (metrics) and
    the study's files."""
    tracking = study_tracking(config, study_dir)
    if tracking is None:
        return
    tracker, parent = tracking
    best = study.best_trial
    tracker.delete_children(parent, "best")  # a resumed search's earlier best
    tracker.log_run(best_dir, parent, {"lstm_app.kind": "best", "optuna.trial": str(best.number)})
    params = {f"space.{p.key}": p.described() for p in space.parameters}
    numbers = {
        f"best.val.{space.objective}": best.value,
        "trials": len(study.trials),
        **numbers_of({"best": {"test": metrics["test"]}}),
    }
    files = [study_dir / name for name in (*STUDY_FILES, "importances.png")]
    tracker.finish_study(parent, {**params, "objective": space.objective}, numbers, files)


def _plots(study, study_dir: Path) -> None:
    """`optimization_history.png` and, with two finished trials or more, `importances.png`."""
    import matplotlib

    matplotlib.use("Agg")
    import optuna
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as plots

    with warnings.catch_warnings():  # Optuna marks its matplotlib plots experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = plots.plot_optimization_history(study)
        ax.figure.savefig(study_dir / "optimization_history.png", dpi=100, bbox_inches="tight")
        finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(finished) < 2:  # importances of one trial say nothing
            return
        try:
            ax = plots.plot_param_importances(study)
        except (ValueError, RuntimeError):  # too few finished trials, or one value each
            return
        ax.figure.savefig(study_dir / "importances.png", dpi=100, bbox_inches="tight")
