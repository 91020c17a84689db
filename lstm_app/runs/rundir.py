"""The run directory: where a run's results go, written so that none looks complete unless it is.

Every file is written to a hidden temporary name in the same directory and then renamed over
its final name, so a reader sees either the whole file or none. `run.json` says how the run
stands: `running` while it trains, then `done`, `failed` or `interrupted`.
"""

import datetime as dt
import json
import os
from pathlib import Path

import yaml

from lstm_app.errors import UserInputError


def create_run_dir(root: Path, name: str, now: dt.datetime | None = None) -> Path:
    """A new directory `root/<name>-<YYYYmmdd-HHMMSS>` (with `-2`, `-3`... if that exists)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        path = root / (f"{name}-{stamp}" if attempt == 1 else f"{name}-{stamp}-{attempt}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
        except OSError as err:
            raise UserInputError(
                f"{path}: cannot create the run directory: {err.strerror}"
            ) from None
    raise UserInputError(f"{root}: too many runs named {name}-{stamp}")


def claim_run_dir(path: Path) -> Path:
    """`path` as the run directory: created if absent; refused if it holds anything."""
    if path.exists() and not path.is_dir():
        raise UserInputError(f"--run-dir {path}: is a file, expected a directory")
    if path.is_dir() and any(path.iterdir()):
        unfinished = (path / ".resume" / "state.json").is_file()
        hint = "; it holds an unfinished run: add --resume to continue it" if unfinished else ""
        raise UserInputError(
            f"--run-dir {path}: is not empty; give a new or empty directory (nothing in it is "
            f"overwritten){hint}"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"--run-dir {path}: cannot create it: {err.strerror}") from None
    return path


def read_status(run_dir: Path) -> dict:
    """The content of `run.json`; UserInputError if there is none to read."""
    try:
        status = json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UserInputError(f"{run_dir}: not a run directory (no readable run.json)") from None
    if not isinstance(status, dict):
        raise UserInputError(f"{run_dir}/run.json: expected a JSON object")
    return status


def _first_difference(a, b, key=""):
    """The first key path where two plain config values differ, with both values, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for name in [*a, *(k for k in b if k not in a)]:
            found = _first_difference(a.get(name), b.get(name), f"{key}.{name}" if key else name)
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{key}[{i}]")
            if found:
                return found
        return None
    return None if a == b else (key, a, b)


def check_resumable(run_dir: Path, config: dict) -> Path:
    """`run_dir`, if it holds an unfinished run of `config` (plain values) with a saved epoch;
    else UserInputError saying why."""
    run_dir = Path(run_dir)
    status = read_status(run_dir).get("status")
    if status == "done":
        raise UserInputError(f"--run-dir {run_dir}: the run is finished; nothing to resume")
    if not (run_dir / ".resume" / "state.json").is_file():
        raise UserInputError(
            f"--run-dir {run_dir}: no completed epoch was saved (status: {status}); start it "
            "again in a new run directory"
        )
    try:
        saved = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        raise UserInputError(f"{run_dir}/config.yaml: missing or unreadable") from None
    difference = _first_difference(saved, config)
    if difference:
        key, was, now = difference
        raise UserInputError(
            f"--run-dir {run_dir}: the run was started with another config ({key}: {was!r} "
            f"there, {now!r} now); resume with the config it started with"
        )
    return run_dir


def require_finished(run_dir: Path) -> Path:
    """`run_dir`, if it is a run directory whose `run.json` says `done`; else UserInputError."""
    run_dir = Path(run_dir)
    status = read_status(run_dir).get("status")
    if status != "done":
        raise UserInputError(f"{run_dir}: the run is not finished (run.json status: {status})")
    return run_dir


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


def write_status(run_dir: Path, info: dict) -> None:
    """Writes `run.json`: `info` holds at least `status`."""
    write_json(run_dir / "run.json", info)
