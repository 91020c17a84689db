"""The run directory: where a run's results go, written so that none looks complete unless it is.

`RunDir` owns the layout: every file's name, the policy for choosing a directory (a new one
under `runs/`, a new or empty one the user names, or an unfinished one to resume), the status in
`run.json` (`running` while it trains, then `done`, `failed` or `interrupted`), and a typed
reader and writer for each file. Every command reads and writes runs through it.

    run = RunDir.for_training(None, "article")     # a new runs/article-<time>/
    run.write_config({...}); run.write_status({"status": "running", ...})
    RunDir.finished("runs/article-...").read_metrics()["test"]["mae"]

Every file is written to a hidden temporary name in the same directory and then renamed over
its final name (`write_atomic`), so a reader sees either the whole file or none.
"""

import datetime as dt
import hashlib
import json
import os
import re
from io import StringIO
from pathlib import Path

import pandas as pd
import yaml

from lstm_app.config.kinds import RUN_KINDS, run_kind
from lstm_app.errors import UserInputError

RUNS_ROOT = Path("runs")  # where runs go when no directory is named (relative to the cwd)
RESUME_DIR = ".resume"  # the resumable state of an unfinished run (lstm_app.training.resume)
RESUME_STATE = "state.json"  # in RESUME_DIR: the last completed epoch; written last


# --------------------------------------------------------------------------------------------
# atomic writers, for any file


def temporary_path(path: Path) -> Path:
    """A hidden name beside `path`, with the same suffix (Keras and matplotlib read it)."""
    return path.with_name(f".tmp-{path.name}")


def write_atomic(path: Path, write) -> None:
    """Calls `write(tmp_path)`, then renames the temporary file to `path`."""
    tmp = temporary_path(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Writes `text` to `path` atomically."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, obj) -> None:
    """Writes `obj` as indented JSON to `path` atomically (NaN is refused)."""
    write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def file_fingerprint(path) -> dict:
    """`{"path", "bytes", "sha256"}` of the file at `path` (read in blocks), or of a folder's
    files (their names and contents, in name order), as `run.json` records the data a run
    started from; UserInputError naming the file if unreadable."""
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    digest, size = hashlib.sha256(), 0
    for name in files:
        if path.is_dir():
            digest.update(name.name.encode() + b"\0")
        try:
            with open(name, "rb") as file:
                while block := file.read(1 << 20):
                    digest.update(block)
                    size += len(block)
        except OSError as err:
            raise UserInputError(f"{name}: cannot read the data file: {err.strerror}") from None
    return {"path": str(path), "bytes": size, "sha256": digest.hexdigest()}


# --------------------------------------------------------------------------------------------
# the run directory


# a multi-worker run's worker (not the chief) keeps its resume points in RUN/.worker-I/
WORKER_DIR = re.compile(r"\.worker-[0-9]+")


def worker_dir(run_dir, index: int) -> Path:
    """Where worker `index` (not the chief) of a multi-worker run keeps its resume points:
    `RUN/.worker-I/` (on a filesystem the workers share, beside the chief's files)."""
    return Path(run_dir) / f".worker-{index}"


class RunDir:
    """A run directory: its files' names, its status, and their readers and writers.

    Args:
        path: the directory. Nothing is created or checked here: `for_training`,
            `for_output` and `finished` choose and check one.
    """

    CONFIG = "config.yaml"  # the resolved config: `lstm-train --config RUN/config.yaml`
    STATUS = "run.json"  # status, times, library versions, the data file's size and SHA-256
    DATA_FILE = "data_file"  # in run.json: `file_fingerprint` of data.path (none for sine data)
    HISTORY = "history.csv"  # loss and val_loss per epoch
    MODEL = "model.keras"  # the trained model
    BEST = "best.keras"  # the best model by the monitored loss (checkpoint callback)
    METRICS = "metrics.json"  # the model's and the baselines' metrics, original units
    SCALERS = "scaler.json"  # the scalers' statistics and the target's transforms
    FORECASTS = "forecasts.csv"  # every test window and step
    SERIES_METRICS = "series_metrics.csv"  # a panel run: each series' metrics
    TENSORBOARD = "tensorboard"  # TensorBoard logs (training.callbacks.tensorboard)
    LOSS_PLOT = "loss.png"
    FORECAST_PLOT = "forecast.png"
    GATES_PLOT = "gates.png"  # gate_lstm models only
    PREDICTIONS = "predictions.csv"  # a classification: every test sequence's probabilities
    CONFUSION_PLOT = "confusion.png"  # a classification: the test confusion matrices
    EXPORT = "export"  # exported models, with metadata.json
    RESUME = RESUME_DIR

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __str__(self) -> str:
        return str(self.path)

    def __fspath__(self) -> str:
        return str(self.path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def name(self) -> str:
        return self.path.name

    # ---- choosing a directory: the one policy every command follows

    @classmethod
    def for_training(cls, path, name: str, resume: bool = False, config=None) -> "RunDir":
        """The directory a training run writes: with `resume`, the unfinished run at `path`
        started with `config` (plain values); else `path` if it is new or empty (created), or a
        new `runs/<name>-<time>/` when `path` is None. UserInputError saying why not."""
        if resume:
            if path is None:
                raise UserInputError("--resume needs --run-dir: the run directory to continue")
            return cls(path).check_resumable(config)
        if path is None:
            return cls.create(RUNS_ROOT, name)
        return cls(path).claim()

    @classmethod
    def for_output(cls, path, name: str, option: str = "--run-dir") -> "RunDir":
        """A directory for a command's output (`lstm-compare --out`): `path` if it is new or
        empty (created), else a new `runs/<name>-<time>/` when `path` is None. Messages name
        `option`, the command's option that gave `path`."""
        return cls.create(RUNS_ROOT, name) if path is None else cls(path).claim(option)

    @classmethod
    def create(cls, root: Path, name: str, now: dt.datetime | None = None) -> "RunDir":
        """A new directory `root/<name>-<YYYYmmdd-HHMMSS>` (with `-2`, `-3`... if that exists)."""
        stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
        for attempt in range(1, 1000):
            path = root / (f"{name}-{stamp}" if attempt == 1 else f"{name}-{stamp}-{attempt}")
            try:
                path.mkdir(parents=True)
                return cls(path)
            except FileExistsError:
                continue
            except OSError as err:
                raise UserInputError(
                    f"{path}: cannot create the run directory: {err.strerror}"
                ) from None
        raise UserInputError(f"{root}: too many runs named {name}-{stamp}")

    def claim(self, option: str = "--run-dir") -> "RunDir":
        """This directory for a new run: created if absent; refused if it holds anything or
        cannot be written. Messages name `option`, the command's option that gave it."""
        path = self.path
        if path.exists() and not path.is_dir():
            raise UserInputError(f"{option} {path}: is a file, expected a directory")
        try:  # a multi-worker run's other workers may have made their folders first
            full = path.is_dir() and any(not WORKER_DIR.fullmatch(p.name) for p in path.iterdir())
        except OSError as err:
            raise UserInputError(f"{option} {path}: cannot read it: {err.strerror}") from None
        if full:
            resumable = option == "--run-dir" and self.has_resume_state()
            hint = "; it holds an unfinished run: add --resume to continue it"
            raise UserInputError(
                f"{option} {path}: is not empty; give a new or empty directory (nothing in it "
                f"is overwritten){hint if resumable else ''}"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UserInputError(f"{option} {path}: cannot create it: {err.strerror}") from None
        if not os.access(path, os.W_OK | os.X_OK):
            raise UserInputError(f"{option} {path}: cannot write in it (permission denied)")
        return self

    def check_resumable(self, config: dict) -> "RunDir":
        """This directory, if it holds an unfinished run of `config` (plain values) with a
        saved epoch, on the same data file; else UserInputError saying why."""
        info = self.read_status()
        status = info.get("status")
        if status == "done":
            raise UserInputError(f"--run-dir {self.path}: the run is finished; nothing to resume")
        if not self.has_resume_state():
            raise UserInputError(
                f"--run-dir {self.path}: no completed epoch was saved (status: {status}); start "
                "it again in a new run directory"
            )
        try:
            saved = yaml.safe_load((self.path / self.CONFIG).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            raise UserInputError(f"{self.path}/{self.CONFIG}: missing or unreadable") from None
        difference = first_difference(saved, config, chosen_ok=True)
        if difference:
            key, was, now = difference
            raise UserInputError(
                f"--run-dir {self.path}: the run was started with another config ({key}: "
                f"{was!r} there, {now!r} now); resume with the config it started with"
            )
        self._check_data_file(info.get(self.DATA_FILE))
        return self

    def _check_data_file(self, recorded) -> None:
        """UserInputError if the data file `recorded` in run.json (`file_fingerprint`; None:
        generated data, or a run from before it was recorded) has changed since."""
        if not isinstance(recorded, dict) or not recorded.get("path"):
            return
        path = recorded["path"]
        if not Path(path).exists():
            raise UserInputError(
                f"--run-dir {self.path}: the data file {path} the run started with is gone; "
                "resume with that file in place, or start a new run"
            )
        now = file_fingerprint(path)
        if (now["bytes"], now["sha256"]) != (recorded.get("bytes"), recorded.get("sha256")):
            raise UserInputError(
                f"--run-dir {self.path}: the data file {path} changed since the run started "
                f"({recorded.get('bytes')} bytes, SHA-256 {str(recorded.get('sha256'))[:12]}... "
                f"then; {now['bytes']} bytes, {now['sha256'][:12]}... now); resume on the data "
                "it started with, or start a new run"
            )

    @classmethod
    def finished(cls, path) -> "RunDir":
        """The run at `path`, if its `run.json` says `done`; else UserInputError."""
        run = cls(path)
        status = run.read_status().get("status")
        if status != "done":
            raise UserInputError(
                f"{run.path}: the run is not finished ({cls.STATUS} status: {status})"
            )
        return run

    # ---- paths

    @property
    def export_dir(self) -> Path:
        return self.path / self.EXPORT

    @property
    def resume_dir(self) -> Path:
        return self.path / self.RESUME

    def has_resume_state(self) -> bool:
        """Whether a completed epoch was saved to resume from."""
        return (self.resume_dir / RESUME_STATE).is_file()

    # ---- status

    def read_status(self) -> dict:
        """The content of `run.json`; UserInputError if there is none to read."""
        try:
            status = json.loads((self.path / self.STATUS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UserInputError(
                f"{self.path}: not a run directory (no readable {self.STATUS})"
            ) from None
        if not isinstance(status, dict):
            raise UserInputError(f"{self.path}/{self.STATUS}: expected a JSON object")
        return status

    def read_kind(self) -> str:
        """The kind of run (`lstm_app.config.kinds.RUN_KINDS`) that run.json records under
        `kind`; for a run written before it did, the kind its config.yaml describes."""
        kind = self.read_status().get("kind")
        if kind is None:
            return run_kind(self.read_config())
        if kind not in RUN_KINDS:
            raise UserInputError(
                f"{self.path}/{self.STATUS}: kind {kind!r}; expected one of {', '.join(RUN_KINDS)}"
            )
        return kind

    def write_status(self, info: dict) -> None:
        """Writes `run.json`: `info` holds at least `status`."""
        write_json(self.path / self.STATUS, info)

    # ---- typed readers and writers

    def _read(self, name: str, parse):
        """Parses the file `name`; UserInputError naming it if it is missing or unreadable."""
        path = self.path / name
        try:
            return parse(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserInputError(
                f"{path}: missing; {name} is written when a run finishes"
            ) from None
        except (ValueError, yaml.YAMLError) as err:
            raise UserInputError(f"{path}: cannot be read ({type(err).__name__})") from None

    def config_text(self) -> str:
        """`config.yaml` as written (the export card hashes it)."""
        return self._read(self.CONFIG, str)

    def read_config(self) -> dict:
        """The resolved config, as plain values."""
        return self._read(self.CONFIG, yaml.safe_load)

    def write_config(self, config: dict) -> None:
        """Writes the resolved config (plain values, see `config_to_dict`)."""
        write_text(self.path / self.CONFIG, yaml.safe_dump(config, sort_keys=False))

    def read_metrics(self) -> dict:
        return self._read(self.METRICS, json.loads)

    def write_metrics(self, metrics: dict) -> None:
        write_json(self.path / self.METRICS, metrics)

    def read_scalers(self) -> dict:
        """`{"features": {"kind", "columns": {name: {"offset", "scale"}}}, "target": ..,
        "target_transforms": [..]}`."""
        return self._read(self.SCALERS, json.loads)

    def write_scalers(self, scalers: dict) -> None:
        write_json(self.path / self.SCALERS, scalers)

    def read_forecasts(self) -> pd.DataFrame:
        """`forecasts.csv`, its `time` column parsed as dates when it holds dates."""
        forecasts = self._read(self.FORECASTS, lambda text: pd.read_csv(StringIO(text)))
        if not pd.api.types.is_numeric_dtype(forecasts["time"]):  # dates, else step numbers
            forecasts["time"] = pd.to_datetime(forecasts["time"])
        return forecasts

    def write_forecasts(self, table: pd.DataFrame) -> None:
        write_text(self.path / self.FORECASTS, table.to_csv(index=False))

    def write_history(self, table: str) -> None:
        """Writes `history.csv` (text as the CSV logger writes it)."""
        write_text(self.path / self.HISTORY, table)

    def write_file(self, name: str, write) -> None:
        """Writes the file `name` atomically with `write(temporary_path)` (a plot, a model)."""
        write_atomic(self.path / name, write)


def first_difference(a, b, key="", chosen_ok: bool = False):
    """The first key path where two plain config values differ, with both values, or None.
    With `chosen_ok`, `auto` in `b` matches whatever `a` holds there: what the run chose
    (`data.transforms: auto` records its choice in the run's config)."""
    if chosen_ok and b == "auto":
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        for name in [*a, *(k for k in b if k not in a)]:
            where = f"{key}.{name}" if key else name
            found = first_difference(a.get(name), b.get(name), where, chosen_ok)
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{key}[{i}]", chosen_ok)
            if found:
                return found
        return None
    return None if a == b else (key, a, b)
