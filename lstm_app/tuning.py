"""Hyper-parameter search with Optuna, chosen on the validation split alone (`lstm-tune`).

    space = read_space("configs/spaces/article.yaml", "configs/article.yaml")   # keys checked
    tune("configs/article.yaml", space, trials=20, study_dir=Path("runs/tune-article"))

The study lives in `STUDY/study.db` (SQLite; any Optuna storage URL with `storage=`), so a
killed search goes on with the same command: finished trials are kept, and a trial cut in the
middle is marked failed and run again. Each trial is a run directory `STUDY/trials/NNNN/`
(its `config.yaml`, `history.csv`, `metrics.json` with the validation metrics, `run.json`);
the objective is a validation metric in original units (`objective:` in the space file,
default `mae`), reported each epoch for the median pruner; the test split is never forecast
during the search. At the end, the best trial's config is written as `STUDY/best.yaml`,
trained once from scratch as a normal run (`STUDY/best/`, test metrics and all), and the
search is summarised in `STUDY/trials.csv` and two PNGs (optimization history, parameter
importances).

Several processes, or machines, share one study through its storage (`--workers K`, or
`storage="postgresql://..."`): each worker runs trials until the study has `trials` done, and
waits for the others' last trials before it writes the best. Trials beat a heartbeat into the
storage; one whose worker died is failed when a minute has passed without it, and run again.

With `tracking.mlflow` in the config, the study is an MLflow run and each trial, and the best
config's run, a child run of it (`lstm_app.runs.tracking`; store: beside the study folder).

The space file:

    objective: mae                 # a validation metric: mae, rmse, mase or smape
    parameters:                    # dotted config keys, as --set takes them
      training.learning_rate: {float: [0.0001, 0.01], log: true}
      data.window.input_width: {int: [6, 24]}
      data.transforms: {choice: [[], [log], [log, diff]]}
"""

import dataclasses
import datetime as dt
import json
import math
import shutil
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import yaml

from lstm_app.config.load import config_to_dict, load_config
from lstm_app.data.prepare import prepare_data
from lstm_app.errors import ConfigError, UserInputError
from lstm_app.evaluation.metrics import forecast_metrics, in_sample, seasonal_scale
from lstm_app.runs.rundir import RunDir, write_json
from lstm_app.runs.tracking import check_store, numbers_of
from lstm_app.training.fit import forecast
from lstm_app.training.trainer import fit_in_run

OBJECTIVES = ("mae", "rmse", "mase", "smape")
KINDS = ("int", "float", "choice")
HEARTBEAT_SECONDS = 10  # a running trial writes its heartbeat this often ...
GRACE_SECONDS = 60  # ... and is failed (and run again) when none came for this long
OPEN_ATTEMPTS = 4  # tries to open a shared storage whose tables other workers are creating


@dataclass(frozen=True)
class Parameter:
    """One searched key: `kind` `int` or `float` over `[low, high]` (`log` scale), or
    `choice` among `values`."""

    key: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    values: tuple = ()

    def suggest(self, trial):
        """The trial's value of this key (Optuna's `suggest_*`)."""
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log)
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log)
        index = trial.suggest_categorical(self.key, list(range(len(self.values))))
        return self.values[index]

    def extremes(self) -> list:
        """Values to check the key with before any trial runs."""
        return list(self.values) if self.kind == "choice" else [self.low, self.high]


@dataclass(frozen=True)
class Space:
    """What `lstm-tune` searches: `parameters`, and the validation metric to minimise."""

    parameters: tuple[Parameter, ...]
    objective: str = "mae"


def override(key: str, value) -> str:
    """`KEY=VALUE` as `--set` takes it, the value written as YAML (`[log, diff]`)."""
    text = yaml.safe_dump(value, default_flow_style=True).strip()
    return f"{key}={text.removesuffix('...').strip()}"


def read_space(path, config) -> Space:
    """The space file `path`, each key checked against the schema with `config` (every choice,
    and both ends of a range, must give a valid config); UserInputError in one line naming the
    file and the key otherwise."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"--space {path}: not found") from None
    except yaml.YAMLError as err:
        detail = str(err).splitlines()[0]
        raise UserInputError(f"--space {path}: not valid YAML: {detail}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("parameters"), dict):
        raise UserInputError(
            f"{path}: expected a mapping with 'parameters': {{KEY: {{int|float|choice: ...}}}}"
        )
    unknown = sorted(set(raw) - {"parameters", "objective"})
    if unknown:
        raise UserInputError(f"{path}: {unknown[0]}: unknown key; expected parameters, objective")
    objective = raw.get("objective", "mae")
    if objective not in OBJECTIVES:
        raise UserInputError(
            f"{path}: objective: expected one of {', '.join(OBJECTIVES)}, got {objective!r}"
        )
    parameters = tuple(_parameter(path, key, spec) for key, spec in raw["parameters"].items())
    if not parameters:
        raise UserInputError(f"{path}: parameters: expected at least one key to search")
    for parameter in parameters:
        for value in parameter.extremes():
            try:
                load_config(config, [override(parameter.key, value)])
            except ConfigError as err:
                raise UserInputError(f"{path}: parameters: {parameter.key}: {err}") from None
    return Space(parameters, objective)


def _parameter(path: Path, key: str, spec) -> Parameter:
    """One entry of `parameters`, its form checked."""
    where = f"{path}: parameters: {key}"
    if not isinstance(spec, dict) or len(set(spec) & set(KINDS)) != 1:
        raise UserInputError(
            f"{where}: expected one of {{int: [low, high]}}, {{float: [low, high], log: true}} "
            "or {choice: [...]}"
        )
    extra = sorted(set(spec) - {*KINDS, "log"})
    if extra:
        raise UserInputError(f"{where}: {extra[0]}: unknown key; expected int, float, choice, log")
    kind = next(k for k in KINDS if k in spec)
    if kind == "choice":
        values = spec["choice"]
        if not isinstance(values, list) or not values:
            raise UserInputError(f"{where}: choice: expected a list of values")
        return Parameter(key, kind, values=tuple(values))
    bounds = spec[kind]
    number = int if kind == "int" else (int, float)
    if (
        not isinstance(bounds, list)
        or len(bounds) != 2
        or not all(isinstance(b, number) and not isinstance(b, bool) for b in bounds)
        or bounds[0] >= bounds[1]
    ):
        raise UserInputError(f"{where}: {kind}: expected [low, high], low < high, got {bounds}")
    log = spec.get("log", False)
    if log and bounds[0] <= 0:
        raise UserInputError(f"{where}: log: needs a positive low end, got {bounds[0]}")
    cast = int if kind == "int" else float
    return Parameter(key, kind, cast(bounds[0]), cast(bounds[1]), bool(log))


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


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def run_trial(config, space: Space, trial, folder: Path, tracking=None) -> float:
    """Trains the trial's config in `folder` and returns its validation metric (original units,
    scored windows); the test split is not forecast. Its `metrics.json` holds `val` only.
    `tracking`: `(Tracker, parent run id)`, to log the trial, however it ends, as a child run."""
    overrides = [override(p.key, p.suggest(trial)) for p in space.parameters]
    cfg = load_config(config, overrides)
    shutil.rmtree(folder, ignore_errors=True)  # a trial cut in the middle, run again
    run = RunDir.for_training(folder, cfg.name, False, None)
    run.write_config(config_to_dict(cfg))
    info = {"trial": trial.number, "overrides": overrides, "started": _now()}
    run.write_status({"status": "running", **info})
    data = prepare_data(cfg.data, cfg.seed)
    pruning = _Pruning(trial, data, space.objective, cfg.training.batch_size)
    try:
        model, history = fit_in_run(cfg, run, data, 0, False, extra_callbacks=[pruning])
        metrics = validation_metrics(model, data, cfg.training.batch_size)
    except Exception as err:  # pruned (optuna.TrialPruned) or failed: said in run.json
        status = "pruned" if type(err).__name__ == "TrialPruned" else "failed"
        run.write_status({"status": status, **info, "finished": _now(), "why": str(err)})
        _log_trial(tracking, run, trial.number, status)
        raise
    write_json(run.path / RunDir.METRICS, {"val": metrics})
    epochs = len(history["loss"])
    run.write_status({"status": "done", **info, "finished": _now(), "epochs": epochs})
    _log_trial(tracking, run, trial.number, "done")
    value = metrics[space.objective]
    if value is None:
        raise UserInputError(f"trial {trial.number}: val {space.objective} could not be computed")
    return float(value)


def _log_trial(tracking, run: RunDir, number: int, state: str) -> None:
    """Logs a trial's run directory as a child of the study's MLflow run (with tracking)."""
    if tracking is not None:
        tracker, parent = tracking
        tags = {"lstm_app.kind": "trial", "optuna.trial": str(number), "optuna.state": state}
        tracker.log_run(run.path, parent, tags)


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


def _storage(url: str):
    """Optuna's RDB storage at `url`, with heartbeats (a trial whose worker died is failed and
    queued again); UserInputError in one line, the password hidden, when it cannot open."""
    import optuna
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import IntegrityError, SQLAlchemyError

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        raise UserInputError(
            f"--storage {url}: not a database URL; expected e.g. "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:///FILE"
        ) from None
    try:
        for _ in range(OPEN_ATTEMPTS - 1):
            try:
                return _rdb_storage(url)
            except IntegrityError:  # workers creating a new database's tables at the same
                time.sleep(0.5)  # instant collide (optuna/optuna#1092): the next try finds them
        return _rdb_storage(url)
    except ImportError as err:  # the database's driver
        extra = "; pip install 'lstm-app[postgres]'" if url.startswith("postgres") else ""
        raise UserInputError(f"--storage {shown}: its driver is missing ({err}){extra}") from None
    except (SQLAlchemyError, optuna.exceptions.StorageInternalError) as err:
        detail = next((line for line in str(err).splitlines() if line.strip()), repr(err))
        raise UserInputError(f"--storage {shown}: cannot open it: {detail.strip()}") from None


def _rdb_storage(url: str):
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    with warnings.catch_warnings():  # Optuna marks heartbeats experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RDBStorage(
            url,
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=GRACE_SECONDS,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=2),
        )


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
        storage=_storage(url),
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
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
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
    from optuna.storages import fail_stale_trials
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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            fail_stale_trials(study)  # a dead worker's trial: failed, and queued again
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
    overrides = [override(p.key, _value(p, best.params[p.key])) for p in space.parameters]
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
    params = {f"space.{p.key}": _described(p) for p in space.parameters}
    numbers = {
        f"best.val.{space.objective}": best.value,
        "trials": len(study.trials),
        **numbers_of({"best": {"test": metrics["test"]}}),
    }
    files = [study_dir / name for name in (*STUDY_FILES, "importances.png")]
    tracker.finish_study(parent, {**params, "objective": space.objective}, numbers, files)


def _described(parameter: Parameter) -> str:
    """A searched key's range as the space file gives it: `float [0.0001, 0.01] log`."""
    if parameter.kind == "choice":
        return f"choice {json.dumps(list(parameter.values))}"
    log = " log" if parameter.log else ""
    return f"{parameter.kind} [{parameter.low:g}, {parameter.high:g}]{log}"


def _value(parameter: Parameter, stored):
    """The value of a trial's stored parameter (a choice is stored as its index)."""
    return parameter.values[stored] if parameter.kind == "choice" else stored


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
