"""The lifecycle of a run: its status in `run.json`, from start to end, written the same way by
`lstm-train`'s runs, a multi-worker run's other workers and `lstm-tune`'s trials.

    status = RunStatus(run, {"name": "article", "started": now()})
    with status:                      # run.json: {"status": "running", "name": ...}
        result = ...                  # raised: "failed", "interrupted" (Ctrl-C) or "pruned"
    status.done(epochs=200)           # "done", with "finished" and "wall_seconds"

A run that stops writes its status with the error's text under `error` and the time under
`finished`, then lets the error go on: nothing is swallowed.
"""

import contextlib
import datetime as dt
import time

from lstm_app.errors import UserInputError
from lstm_app.runs.rundir import RunDir

RUNNING, DONE, FAILED, INTERRUPTED, PRUNED = "running", "done", "failed", "interrupted", "pruned"


def now() -> str:
    """The local time, to the second, as run.json writes it: `2026-12-07T11:46:47+00:00`."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def stopped_status(err: BaseException) -> str:
    """The status of a run stopped by `err`: interrupted (Ctrl-C, a polite kill), pruned (an
    Optuna trial its pruner stopped: `optuna.TrialPruned`), else failed."""
    if isinstance(err, KeyboardInterrupt):
        return INTERRUPTED
    if type(err).__name__ == "TrialPruned":
        return PRUNED
    return FAILED


class RunStatus:
    """`run.json` of one run through its life: `running` when entered, `failed`,
    `interrupted` or `pruned` when the body raises (with `error` and `finished`), `done`
    when `done()` is called after it.

    Args:
        run: the run directory.
        info: what run.json says besides the status (its name, start, versions, ...); the
            status is written first, then these keys in order.
        on_stop: called with the stopped status (`"failed"`, ...) after run.json says it,
            e.g. to log the stopped run; its own UserInputError is not raised over the error
            that stopped the run.
    """

    def __init__(self, run: RunDir, info: dict, on_stop=None):
        self.run = run
        self.info = {key: value for key, value in info.items() if key != "status"}
        self.on_stop = on_stop
        self.started = None

    def write(self, status: str, **more) -> dict:
        """Writes run.json: `status`, then `info`, then `more`; returns what it wrote."""
        written = {"status": status, **self.info, **more}
        self.run.write_status(written)
        return written

    def __enter__(self) -> "RunStatus":
        self.started = time.time()
        self.write(RUNNING)
        return self

    def __exit__(self, kind, err, traceback) -> bool:
        if err is None:
            return False
        status = stopped_status(err)
        self.write(status, finished=now(), error=str(err) or type(err).__name__)
        if self.on_stop is not None:
            # its own failure must not hide the one that stopped the run
            with contextlib.suppress(UserInputError):
                self.on_stop(status)
        return False  # the error goes on

    def done(self, **more) -> dict:
        """Writes run.json's `done`, with `finished`, `wall_seconds` since the run was entered,
        and `more` (e.g. `epochs`)."""
        wall = round(time.time() - self.started, 2) if self.started is not None else None
        return self.write(DONE, finished=now(), wall_seconds=wall, **more)
