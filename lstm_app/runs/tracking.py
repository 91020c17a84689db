"""MLflow tracking (`tracking.mlflow`): a run directory, once written, logged as an MLflow run.

    tracker = Tracker(Path("runs"), "article")   # the store: runs/mlflow.db, or MLFLOW_TRACKING_URI
    tracker.log_run(Path("runs/article-20261127-101500"))

What a run directory holds is what is logged, read back from its files, so a run looks the same
in MLflow whichever way it was made (`lstm-train`, a resumed run, an `lstm-tune` trial):

    params      the resolved config (`config.yaml`), flattened: `training.learning_rate`, ...
    metrics     each epoch's losses (`history.csv`, one step per epoch), and every number of
                `metrics.json` but its `data` section: `test.mae`, `baselines.persistence.mae`,
                `intervals.model.wql`, ... (a trial: `val.*` only)
    artifacts   every file of the run directory, and `export/`; not TensorBoard's logs
    tags        `lstm_app.run_dir` (its absolute path), `lstm_app.status` (`run.json`'s)

The store, unless `MLFLOW_TRACKING_URI` says otherwise: SQLite `FOLDER/mlflow.db` with the
artifacts in `FOLDER/mlartifacts/`, FOLDER being the folder that holds the run directories
(`runs/`): no server; `mlflow ui --backend-store-uri sqlite:///runs/mlflow.db` browses it.
MLflow is an optional extra (`lstm-app[tracking]`); asking for it without the extra gives one
line. Its usage telemetry is turned off: nothing leaves the machine unless the URI says so.
"""

import contextlib
import csv
import datetime as dt
import importlib.util
import logging
import math
import os
import re
import time
from pathlib import Path

import yaml

from lstm_app.errors import UserInputError
from lstm_app.runs.rundir import RESUME_DIR, RunDir

STORE = "mlflow.db"
ARTIFACTS = "mlartifacts"
RUN_ID = "mlflow_run_id"  # in run.json: the MLflow run the directory was last logged as
STATUSES = {"done": "FINISHED", "failed": "FAILED", "interrupted": "KILLED", "pruned": "FINISHED"}
NOT_LOGGED = {RESUME_DIR, RunDir.TENSORBOARD}  # resume state; TensorBoard has its own viewer


MISSING = "tracking.mlflow: MLflow is not installed; pip install 'lstm-app[tracking]'"


def missing_mlflow(cfg) -> str | None:
    """The one-line message when `cfg` asks for MLflow and it is not installed, else None
    (checked without importing it: MLflow takes seconds to import)."""
    if cfg.tracking.mlflow.enabled and importlib.util.find_spec("mlflow") is None:
        return MISSING
    return None


def import_mlflow():
    """The `mlflow` module, its telemetry off and its logging quiet; UserInputError in one line
    when the extra is not installed."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no network at run time
    try:
        import mlflow
    except ImportError:
        raise UserInputError(MISSING) from None
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # "creating tables ..." on each store
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return mlflow


def _short(message: str) -> str:
    """MLflow's error in a few words: a connection that failed or timed out says so (its
    retries' message runs to hundreds of characters); else the first line."""
    refused = re.search(r"\[Errno -?\d+\] [^\"')]+", message)
    if refused:
        return f"cannot connect ({refused.group(0).strip()})"
    if "timed out" in message.lower():
        return "no answer in time"
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


# a store reached once before training: no retries (MLflow's default, 7 with a backoff factor
# of 2, waits about 4 minutes on a server that does not answer), a short timeout
QUICK_CHECK = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}


def check_store(folder: Path, experiment: str) -> "Tracker":
    """`Tracker(folder, experiment)`, its store reached once, quickly (`QUICK_CHECK`), so that
    a store that cannot be reached is one line before training rather than minutes of
    retries after it (UserInputError naming the store). Its later calls retry as MLflow
    does (the settings are read at each request)."""
    saved = {name: os.environ.get(name) for name in QUICK_CHECK}
    os.environ.update(QUICK_CHECK)
    try:
        return Tracker(folder, experiment)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def store_uri(folder: Path) -> str:
    """`MLFLOW_TRACKING_URI` when set, else SQLite in `folder/mlflow.db`."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(folder / STORE).resolve()}"


def flatten(tree, prefix: str = "") -> dict:
    """`{"a": {"b": 1}}` -> `{"a.b": 1}`: the leaves of nested mappings under dotted keys."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def params_of(config: dict) -> dict[str, str]:
    """A resolved config as MLflow params: dotted keys, each value as YAML writes it
    (`[log, diff]`, `null`)."""
    return {
        key: yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
        for key, value in flatten(config).items()
    }


def numbers_of(metrics: dict) -> dict[str, float]:
    """The finite numbers of a `metrics.json`, under dotted keys, but its `data` section (the
    split's sizes: facts about the data, not scores) and lists (each step's metrics)."""
    return {
        key: float(value)
        for key, value in flatten({k: v for k, v in metrics.items() if k != "data"}).items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }


def epochs_of(history_csv: Path) -> list[tuple[str, float, int]]:
    """`(metric, value, epoch)` for each column and row of `history.csv` (none if missing)."""
    if not history_csv.is_file():
        return []
    rows = []
    with history_csv.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            epoch = int(float(row.pop("epoch")))
            for name, text in row.items():
                try:
                    value = float(text)
                except (TypeError, ValueError):
                    continue
                if math.isfinite(value):
                    rows.append((name, value, epoch))
    return rows


def _millis(iso: str | None) -> int | None:
    """Milliseconds since the epoch of an ISO time (`run.json`'s), as MLflow counts time."""
    return None if not iso else int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


def _now_millis() -> int:
    return int(time.time() * 1000)


class Tracker:
    """An MLflow client on one store (`store_uri(folder)`) and one experiment, created when
    missing (its artifacts in `folder/mlartifacts/` on the default store)."""

    def __init__(self, folder: Path, experiment: str):
        mlflow = import_mlflow()
        self.uri = store_uri(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with self._store_errors():
            self.client = mlflow.MlflowClient(tracking_uri=self.uri)
            found = self.client.get_experiment_by_name(experiment)
            if found is None:
                location = None
                if "MLFLOW_TRACKING_URI" not in os.environ:
                    location = (folder / ARTIFACTS).resolve().as_uri()
                self.experiment_id = self.client.create_experiment(experiment, location)
            else:
                self.experiment_id = found.experiment_id

    @contextlib.contextmanager
    def _store_errors(self):
        """MLflow's errors as one line naming the store (UserInputError)."""
        from mlflow.exceptions import MlflowException

        try:
            yield
        except MlflowException as err:
            detail = _short(str(err))
            raise UserInputError(
                f"tracking.mlflow: the store {self.uri} failed: {detail}"
            ) from None

    def log_run(self, run_dir: Path, parent: str | None = None, tags: dict | None = None) -> str:
        """Logs the run directory `run_dir` as a new MLflow run (a child of run id `parent`)
        and returns its id, also kept in `run.json` (`mlflow_run_id`): logging the directory
        again (a resumed run) replaces that run, so each directory is one MLflow run."""
        from mlflow.entities import Metric, Param, RunTag

        run = RunDir(run_dir)
        status = run.read_status()
        config = run.read_config()
        metrics = run.read_metrics() if (run_dir / RunDir.METRICS).is_file() else {}
        all_tags = {
            "lstm_app.run_dir": str(run_dir.resolve()),
            "lstm_app.status": status.get("status", "unknown"),
            **(tags or {}),
        }
        if parent is not None:
            all_tags["mlflow.parentRunId"] = parent
        with self._store_errors():
            earlier = status.get(RUN_ID)
            if earlier:
                self._delete(earlier)
            created = self.client.create_run(
                self.experiment_id,
                start_time=_millis(status.get("started")),
                tags=all_tags,
                run_name=run_dir.name,
            )
            run_id = created.info.run_id
            now = _now_millis()
            series = [Metric(k, v, now, e) for k, v, e in epochs_of(run_dir / RunDir.HISTORY)]
            series += [Metric(k, v, now, 0) for k, v in numbers_of(metrics).items()]
            self.client.log_batch(
                run_id,
                metrics=series,
                params=[Param(k, v) for k, v in params_of(config).items()],
                tags=[RunTag("lstm_app.epochs", str(status.get("epochs", "")))],
            )
            for path in sorted(run_dir.iterdir()):
                if path.name in NOT_LOGGED:
                    continue
                if path.is_file():
                    self.client.log_artifact(run_id, str(path))
                elif path.name == RunDir.EXPORT:
                    self.client.log_artifacts(run_id, str(path), RunDir.EXPORT)
            self.client.set_terminated(
                run_id,
                STATUSES.get(status.get("status"), "FAILED"),
                _millis(status.get("finished")),
            )
        run.write_status({**run.read_status(), RUN_ID: run_id})
        return run_id

    def _delete(self, run_id: str) -> None:
        """Deletes run `run_id` from the store, if it is there."""
        from mlflow.exceptions import MlflowException

        with contextlib.suppress(MlflowException):  # another store's, or deleted by hand
            self.client.delete_run(run_id)

    def delete_children(self, parent: str, kind: str) -> None:
        """Deletes the child runs of `parent` tagged `lstm_app.kind` = `kind` (the study's
        earlier best run, before a resumed search logs its new one)."""
        query = f"tags.`mlflow.parentRunId` = '{parent}' and tags.`lstm_app.kind` = '{kind}'"
        with self._store_errors():
            for found in self.client.search_runs([self.experiment_id], filter_string=query):
                self.client.delete_run(found.info.run_id)

    def study_run(self, study_dir: Path, name: str) -> str:
        """The id of the parent run of the `lstm-tune` study in `study_dir`: the one already
        tagged with its path (a resumed search, another worker), else a new one, running."""
        where = str(study_dir.resolve())
        with self._store_errors():
            found = self.client.search_runs(
                [self.experiment_id],
                filter_string=f"tags.`lstm_app.study_dir` = '{_quoted(where)}'",
                max_results=1,
            )
            if found:
                return found[0].info.run_id
            tags = {"lstm_app.study_dir": where, "lstm_app.kind": "study"}
            made = self.client.create_run(self.experiment_id, tags=tags, run_name=name)
        return made.info.run_id

    def finish_study(self, run_id: str, params: dict, numbers: dict, files: list[Path]) -> None:
        """Ends the study's parent run with its search `params`, its result `numbers`
        (metrics) and `files` (best.yaml, trials.csv, the plots) as artifacts."""
        from mlflow.entities import Metric, Param

        now = _now_millis()
        with self._store_errors():
            logged = set(self.client.get_run(run_id).data.params)  # a resumed study's: kept
            self.client.log_batch(
                run_id,
                metrics=[Metric(k, float(v), now, 0) for k, v in numbers.items()],
                params=[Param(k, str(v)) for k, v in params.items() if k not in logged],
            )
            for path in files:
                if path.is_file():
                    self.client.log_artifact(run_id, str(path))
            self.client.set_terminated(run_id, "FINISHED")


def _quoted(text: str) -> str:
    """`text` inside a single-quoted MLflow filter string."""
    return text.replace("\\", "\\\\").replace("'", "\\'")
